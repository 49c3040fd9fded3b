"""Inbound calls: the probe waits, a real caller it did not write calls it, the probe answers.

The caller is SIPp with tests/lab/sipp/uac-rtp.xml (a P-Asserted-Identity, PCMA, Debian's
G.711 recording played as RTP after the ACK). It calls the probe's own address, as an
IP-authenticated trunk would, or calls a user the probe registered at the lab Kamailio
(digest auth), which routes the INVITE to the registered contact; Kamailio relays signalling
only, so RTP flows directly between SIPp and the probe. A third case has nobody call.
"""

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.background import WAITING, BackgroundProbe
from lab.kamailio import Kamailio
from lab.ports import LOOPBACK_V4, free_port
from lab.probe import run_probe, write_scenario
from lab.sipp import SippRun

PAI = "+442079460000"


def _call(sipp_uac: Callable[..., SippRun], target: tuple[str, int], user: str,
          length_ms: int) -> SippRun:  # fmt: skip
    return sipp_uac(
        target,
        service=user,
        scenario="uac-rtp",
        values={"PAI": PAI},
        call_length_ms=length_ms,
        timeout_s=20.0,
    )


def _streams(call: dict[str, Any], direction: str) -> list[dict[str, Any]]:
    return [s for s in call["streams"] if s["direction"] == direction]


def test_ip_trunk_call_to_the_probes_address_is_answered_and_measured(
    background_probe: Callable[..., BackgroundProbe],
    sipp_uac: Callable[..., SippRun],
    tmp_path: Path,
) -> None:
    port = free_port((LOOPBACK_V4,))
    scenario = write_scenario(
        tmp_path,
        f"name: inbound-trunk\ntarget: sip:{LOOPBACK_V4}\nbind: {LOOPBACK_V4}\n"
        f"sip_port: {port}\nsteps:\n  - answer: {{timeout_s: 15, duration_s: 8, "
        # the caller ID is in P-Asserted-Identity only, the number dialled in both
        f"expect_from: '^<sip:\\{PAI}@', expect_to: '^sip:5551234@'}}\n",
    )
    probe = background_probe("run", scenario)
    stderr = probe.wait_until_waiting()
    assert f"{WAITING}{LOOPBACK_V4}:{port} (UDP) until " in stderr
    sipp = _call(sipp_uac, (LOOPBACK_V4, port), "5551234", length_ms=3000)
    code, report, stderr, wall = probe.finish(timeout_s=30)
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert sipp.returncode == 0, sipp.screen_log.read_text()[-2000:]
    assert code == 0, (report["verdict"], stderr)
    (step,) = report["steps"]
    assert (step["kind"], step["ok"], step["status_code"]) == ("answer", True, 200)
    detail = step["detail"]
    caller = detail["caller"]
    assert detail["account"] is None and detail["hangup_by"] == "caller"
    assert caller["source"].startswith(f"{LOOPBACK_V4}:")
    assert caller["contact"] == f"<sip:sipp@{caller['source']};transport=UDP>"
    assert caller["request_uri"] == f"sip:5551234@{LOOPBACK_V4}:{port}"
    assert caller["from"].startswith(f"sipp <sip:sipp@{caller['source']}>;tag=")
    assert caller["to"] == f"<sip:5551234@{LOOPBACK_V4}:{port}>"
    assert caller["p_asserted_identity"] == f"<sip:{PAI}@{LOOPBACK_V4}>"
    assert caller["user_agent"] == "sipp-lab-uac"
    assert caller["offered_codecs"] == ["PCMA/8000"]
    assert 0 <= caller["ringing_sent_ms"] <= caller["answered_sent_ms"] < 500
    assert caller["ack_after_ms"] is not None and caller["ack_after_ms"] < 500
    (call,) = report["calls"]
    assert call["codec"] == "PCMA/8000" and call["hangup_by"] == "remote"
    assert 2.5 <= call["hold_s"] <= 4.0  # SIPp held the call 3 s, then sent BYE
    (rx,) = _streams(call, "rx")  # the caller's recording, 30 ms packets
    (tx,) = _streams(call, "tx")  # the probe's reference speech, 20 ms packets
    assert rx["src"] != tx["src"] and rx["dst"] == tx["src"]
    assert rx["packets"] >= 80 and rx["loss_pct"] == 0.0 and rx["mos_lq"] > 4.0
    assert tx["packets"] >= 120
    codes = {f["code"]: f["severity"] for f in report["verdict"]["findings"]}
    assert codes["inbound-caller-hung-up"] == "info"
    assert set(codes.values()) == {"info"}, codes
    assert wall < 15 + 8 + 10


def test_call_to_an_account_registered_at_kamailio_shows_what_it_delivered(
    kamailio_factory: Callable[..., Kamailio],
    background_probe: Callable[..., BackgroundProbe],
    sipp_uac: Callable[..., SippRun],
    tmp_path: Path,
) -> None:
    kamailio = kamailio_factory(user_b="bob")
    assert kamailio.password_b is not None
    probe = background_probe(
        "answer", kamailio.uri(), "--user", "bob", "--password-env", "BOB_PW",
        "--timeout", "15", "--duration", "3",
        env={"BOB_PW": kamailio.password_b},
    )  # fmt: skip
    stderr = probe.wait_until_waiting()
    host, port = kamailio.address()
    assert f"{WAITING}bob@{host}:{port} (via " in stderr
    _call(sipp_uac, kamailio.address(), "bob", length_ms=8000)  # the probe hangs up first
    code, report, stderr, wall = probe.finish(timeout_s=30)
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert code == 0, (report["verdict"], stderr)
    register, answer, unregister = report["steps"]
    assert (register["kind"], register["status_code"], register["detail"]["challenge"]) == (
        "register",
        200,
        401,
    )
    assert unregister["detail"]["action"] == "unregister"
    detail = answer["detail"]
    caller = detail["caller"]
    assert detail["account"] == "bob" and detail["registered_at_step"] == 0
    # Delivered by Kamailio: from its address, to the contact the probe registered, with
    # the caller's From, To and P-Asserted-Identity passed through.
    assert caller["source"] == f"{host}:{port}"
    assert caller["request_uri"].startswith("sip:bob@")
    assert caller["to"] == f"<sip:bob@{host}:{port}>"
    assert caller["from"].startswith("sipp <sip:sipp@127.0.0.1:")
    assert caller["p_asserted_identity"] == f"<sip:{PAI}@{LOOPBACK_V4}>"
    (call,) = report["calls"]
    assert call["hangup_by"] == "probe" and call["bye_status"] == 200
    assert detail["hangup_by"] == "probe"
    (rx,) = _streams(call, "rx")
    (tx,) = _streams(call, "tx")
    assert rx["packets"] >= 80 and rx["loss_pct"] == 0.0  # 3 s of 30 ms packets
    assert tx["packets"] >= 120 and tx["dst"] == rx["src"]  # straight to SIPp, no relay
    assert {f["severity"] for f in report["verdict"]["findings"]} <= {"info"}
    assert wall < 15 + 3 + 15


def test_nobody_calls_the_step_ends_at_its_bound_with_an_undetermined_finding(
    kamailio_factory: Callable[..., Kamailio], tmp_path: Path
) -> None:
    kamailio = kamailio_factory(user_b="bob")
    assert kamailio.password_b is not None
    scenario = write_scenario(
        tmp_path,
        f"name: inbound-none\ntarget: {kamailio.uri()}\n"
        f"accounts:\n  b: {{user: bob, domain: {kamailio.domain}, password_env: BOB_PW}}\n"
        "steps:\n  - register: {account: b, timeout_s: 5}\n"
        "  - answer: {account: b, timeout_s: 2, duration_s: 30}\n",
    )
    run = run_probe("run", scenario, env={"BOB_PW": kamailio.password_b})
    (tmp_path / "report.json").write_text(json.dumps(run.report))
    assert run.returncode == 2, run.report["verdict"]
    answer = run.step("answer")
    assert (answer["ok"], answer["status_code"], answer["origin"]) == (False, None, "none")
    assert 2000 <= answer["detail"]["waited_ms"] < 2500
    assert answer["detail"]["caller"] is None and run.report["calls"] == []
    (finding,) = run.findings("inbound-call-not-received")
    assert (finding["severity"], finding["side"], finding["responsible"]) == (
        "critical",
        "unknown",
        "undetermined",
    )
    assert "registered (step 1)" in finding["summary"]
    assert "cannot tell whether the caller dialled" in finding["summary"]
    assert run.report["verdict"]["messaging"] == "bad"
    assert run.wall_s < 20


def test_sigterm_while_waiting_ends_the_command_with_a_report(
    background_probe: Callable[..., BackgroundProbe],
) -> None:
    port = free_port((LOOPBACK_V4,))
    probe = background_probe(
        "answer", f"sip:{LOOPBACK_V4}", "--listen", f"{LOOPBACK_V4}:{port}", "--timeout", "60"
    )
    probe.wait_until_waiting()
    time.sleep(0.5)
    probe.popen.send_signal(signal.SIGTERM)
    code, report, _stderr, wall = probe.finish(timeout_s=15)
    assert code == 1, report["verdict"]  # a warning: nobody had called yet, nothing is known
    (step,) = report["steps"]
    assert step["detail"]["interrupted"] is True and step["detail"]["caller"] is None
    assert 500 <= step["detail"]["waited_ms"] < 5000
    (finding,) = report["verdict"]["findings"]
    assert finding["code"] == "inbound-call-not-received"
    assert "interrupted after" in finding["summary"]
    assert report["local_errors"] == [
        "interrupted (SIGINT or SIGTERM): the run ended after the answer step"
    ]
    assert wall < 15
