"""Two-leg calls against Kamailio: two probe accounts register, a calls b, the probe answers.

Kamailio (tests/lab/kamailio/lab.cfg) is a registrar with digest auth that routes an INVITE
to the registered user (lookup("location")) and proxies signalling only: there is no media
relay here (test_two_leg_relay.py adds rtpengine), so RTP flows directly between the probe's
two legs on loopback. "Four directions" are then two streams, each seen from both legs: a's
tx is b's rx (a -> b) and b's tx is a's rx (b -> a), and the verdict says the media went
directly. The test checks exactly that.
"""

import json
from collections.abc import Callable
from pathlib import Path

from lab.kamailio import Kamailio
from lab.probe import run_probe, write_scenario


def two_leg_scenario(kamailio: Kamailio, duration_s: float = 3.0, call_extra: str = "") -> str:
    assert kamailio.user_b is not None
    return (
        f"name: two-leg\nservice: hosted-pbx\ntarget: {kamailio.uri()}\n"
        "accounts:\n"
        f"  a: {{user: {kamailio.user}, domain: {kamailio.domain}, password_env: PASSWORD_A}}\n"
        f"  b: {{user: {kamailio.user_b}, domain: {kamailio.domain}, password_env: PASSWORD_B}}\n"
        "steps:\n"
        "  - register: {account: a, expires_s: 120, timeout_s: 5}\n"
        "  - register: {account: b, expires_s: 120, timeout_s: 5}\n"
        f"  - call: {{from: a, to: b, duration_s: {duration_s}, answer_timeout_s: 10"
        f"{call_extra}}}\n"
    )


def _streams(leg: dict, direction: str) -> list[dict]:  # type: ignore[type-arg]
    return [s for s in leg["streams"] if s["direction"] == direction]


def test_two_leg_call_through_kamailio_measures_both_legs(
    kamailio_factory: Callable[..., Kamailio], tmp_path: Path
) -> None:
    kamailio = kamailio_factory(user_b="bob")
    assert kamailio.password_b is not None
    run = run_probe(
        "run",
        write_scenario(tmp_path, two_leg_scenario(kamailio, duration_s=5.0)),
        env={"PASSWORD_A": kamailio.password, "PASSWORD_B": kamailio.password_b},
    )
    (tmp_path / "report.json").write_text(json.dumps(run.report))  # kept with the test's files
    assert run.returncode == 0, (run.report["verdict"], run.stderr)
    registers = [s for s in run.report["steps"] if s["kind"] == "register"]
    assert [(s["status_code"], s["detail"]["action"]) for s in registers[:2]] == [
        (200, "register"),
        (200, "register"),
    ]
    assert f"{kamailio.user_b}@" in registers[1]["name"]
    (call,) = run.report["calls"]
    assert call["status_code"] == 200 and call["pdd_ms"] is not None
    callee = call["callee"]
    assert callee["account"] == "b"
    assert callee["status_code"] == 200
    assert callee["answered_after_ms"] is not None and callee["answered_after_ms"] >= 0
    assert 0 <= callee["invite_after_ms"] <= call["pdd_ms"]
    assert f"sip:{kamailio.user}@" in callee["from"]
    assert f"sip:{kamailio.user_b}@" in callee["to"]
    assert callee["codec"] == call["codec"]
    # Direct media: a's sending is b's receiving and the other way round.
    (a_tx,) = _streams(call, "tx")
    (a_rx,) = _streams(call, "rx")
    (b_tx,) = _streams(callee, "tx")
    (b_rx,) = _streams(callee, "rx")
    assert (a_tx["src"], a_tx["dst"]) == (b_rx["src"], b_rx["dst"])
    assert (b_tx["src"], b_tx["dst"]) == (a_rx["src"], a_rx["dst"])
    for stream in (a_tx, a_rx, b_tx, b_rx):
        assert stream["packets"] >= 200, stream  # 5 s at 50 packets a second
        assert stream["loss_pct"] == 0.0
    # Each leg heard the other's speech, scored against what the other sent (P.862).
    assert call["listening"]["mos_lqo"] > 3.8, call["listening"]
    assert callee["listening"]["mos_lqo"] > 3.8, callee["listening"]
    # Each leg's messages are its own, though a proxy keeps one Call-ID for both.
    assert callee["call_id"] == call["call_id"]
    assert callee["hangup_by"] == "caller"
    assert call["hangup_by"] == "probe" and call["bye_status"] == 200
    assert {f["severity"] for f in run.findings()} <= {"info"}, run.findings()
    (path,) = run.findings("media-direct")
    assert path["summary"] == (
        f"callee leg b: media direct between the legs (caller {a_tx['src']}, b {b_tx['src']}): "
        "the platform relays signalling only"
    )
    assert not run.findings("media-relayed")


def test_two_leg_call_wrong_password_on_b_is_a_finding_on_bs_registration(
    kamailio_factory: Callable[..., Kamailio], tmp_path: Path
) -> None:
    kamailio = kamailio_factory(user_b="bob")
    run = run_probe(
        "run",
        write_scenario(tmp_path, two_leg_scenario(kamailio, duration_s=1.0)),
        env={"PASSWORD_A": kamailio.password, "PASSWORD_B": "not-the-password"},
    )
    assert run.returncode == 2
    registers = [s for s in run.report["steps"] if s["kind"] == "register"]
    assert registers[0]["status_code"] == 200
    assert registers[1]["status_code"] == 401 and f"{kamailio.user_b}@" in registers[1]["name"]
    (finding,) = run.findings("register-rejected")
    assert finding["step"] == registers[1]["index"]
    assert finding["side"] == "customer-equipment"
    # b is not registered, so the platform has nowhere to route the call.
    (call,) = run.report["calls"]
    assert call["status_code"] == 404
    assert call["callee"]["status_code"] is None and call["callee"]["error"]


def test_two_leg_call_inband_dtmf_detected_by_leg_b(
    kamailio_factory: Callable[..., Kamailio], tmp_path: Path
) -> None:
    """a plays the digits as tones; they are read where b receives them (b's rx stream). Read
    at a's own rx, as for an echo, they would be missing: that carries b's speech."""
    kamailio = kamailio_factory(user_b="bob")
    assert kamailio.password_b is not None
    scenario = two_leg_scenario(kamailio, call_extra=', dtmf: "159#", dtmf_method: inband')
    run = run_probe(
        "run",
        write_scenario(tmp_path, scenario),
        env={"PASSWORD_A": kamailio.password, "PASSWORD_B": kamailio.password_b},
    )
    assert run.returncode == 0, (run.report["verdict"], run.stderr)
    (call,) = run.report["calls"]
    dtmf = call["dtmf"]
    assert (dtmf["sent"], dtmf["method"], dtmf["send_error"]) == ("159#", "inband", None)
    assert (dtmf["received"], dtmf["received_method"], dtmf["matched"]) == ("159#", "inband", True)
    assert "".join(d["digit"] for d in dtmf["sent_digits"]) == "159#"
    (b_rx,) = _streams(call["callee"], "rx")
    assert dtmf["far_end_received"] is None  # b is the probe itself: no X-Sipprobe-Dtmf
    assert all(abs(d["duration_ms"] - 160) < 12.75 for d in dtmf["received_digits"])
    assert b_rx["packets"] >= 100
    assert not run.findings("dtmf-mismatch")
