"""The probe end to end against real peers: Kamailio, SIPp and sipprobe's own responder.

Every test runs the real `sipprobe` command in its own process, as a user would, and reads
its JSON report. Bounds on wall time are generous safety margins around each step's own time
bound (a hang would blow them by tens of seconds), not speed goals.
"""

import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from lab.kamailio import Kamailio
from lab.probe import run_probe, write_scenario
from lab.responder import Responder
from lab.sipp import SippUas


def register_scenario(kamailio: Kamailio, transport: str = "udp", extra: str = "") -> str:
    return (
        f"name: reg\nservice: hosted-pbx\ntarget: {kamailio.uri(transport)}\n"
        f"account:\n  user: {kamailio.user}\n  domain: {kamailio.domain}\n"
        f"  password_env: LAB_PASSWORD\n{extra}"
        "steps:\n  - options: {timeout_s: 3}\n  - register: {expires_s: 120, timeout_s: 5}\n"
    )


def test_probe_register_digest_401_then_200_and_unregister(
    kamailio: Kamailio, tmp_path: Path
) -> None:
    run = run_probe(
        "run",
        write_scenario(tmp_path, register_scenario(kamailio)),
        env={"LAB_PASSWORD": kamailio.password},
    )
    assert run.returncode == 0, run.report["verdict"]
    register = run.step("register")
    assert register["status_code"] == 200
    assert register["detail"]["challenge"] == 401
    assert register["detail"]["expires_s"] == 120
    assert any(f"{kamailio.user}@" in c for c in register["detail"]["contacts"])
    assert register["timings_ms"]["request_to_final"] > 0
    unregister = run.step("register", 1)
    assert unregister["detail"]["action"] == "unregister"
    assert unregister["status_code"] == 200
    statuses = [m["status_code"] for m in run.report["sip"] if m["method"] == "REGISTER"]
    assert statuses[:4] == [None, 401, None, 200]
    assert run.report["verdict"]["messaging"] == "good"


def test_probe_register_wrong_password_is_customer_equipment(
    kamailio: Kamailio, tmp_path: Path
) -> None:
    run = run_probe(
        "run",
        write_scenario(tmp_path, register_scenario(kamailio)),
        env={"LAB_PASSWORD": "not-the-password"},
    )
    assert run.returncode == 2
    assert run.step("register")["status_code"] == 401
    (finding,) = run.findings("register-rejected")
    assert finding["side"] == "customer-equipment"
    assert finding["severity"] == "critical"
    assert "credentials configured for the account were rejected" in finding["summary"]
    assert [s["detail"].get("action") for s in run.report["steps"] if s["kind"] == "register"] == [
        "register"
    ]  # nothing to un-register


def test_probe_register_over_tls_with_trusted_ca(kamailio: Kamailio, tmp_path: Path) -> None:
    scenario = register_scenario(kamailio, "tls", f"tls:\n  ca_file: {kamailio.ca_file}\n")
    run = run_probe(
        "run", write_scenario(tmp_path, scenario), env={"LAB_PASSWORD": kamailio.password}
    )
    assert run.returncode == 0, run.report["verdict"]
    assert run.step("options")["status_code"] == 200
    assert run.step("register")["status_code"] == 200
    assert {m["transport"] for m in run.report["sip"]} == {"TLS"}


def test_probe_tls_without_the_ca_fails_cleanly(kamailio: Kamailio, tmp_path: Path) -> None:
    run = run_probe(
        "run",
        write_scenario(tmp_path, register_scenario(kamailio, "tls")),
        env={"LAB_PASSWORD": kamailio.password},
    )
    assert run.returncode == 2
    options = run.step("options")
    assert options["status_code"] is None
    assert "not trusted" in options["reason"]
    register = run.step("register")
    assert register["ok"] is False
    assert register["origin"] != "network"
    assert run.wall_s < 30
    assert "tls.ca_file" in run.findings("options-no-answer")[0]["summary"]


def test_probe_register_over_ipv6(kamailio: Kamailio, tmp_path: Path) -> None:
    assert kamailio.udp6_port is not None
    scenario = (
        f"target: sip:[::1]:{kamailio.udp6_port}\naccount:\n  user: {kamailio.user}\n"
        f"  domain: {kamailio.domain}\n  password_env: LAB_PASSWORD\n"
        "steps: [options, register]\n"
    )
    run = run_probe(
        "run", write_scenario(tmp_path, scenario), env={"LAB_PASSWORD": kamailio.password}
    )
    assert run.returncode == 0, run.report["verdict"]
    assert run.step("register")["status_code"] == 200
    assert all(m["peer"].startswith("[::1]:") for m in run.report["sip"])


def test_probe_call_through_kamailio_with_proxy_auth_to_ringing_uas(
    kamailio_factory: Callable[..., Kamailio], sipp_uas: Callable[..., SippUas], tmp_path: Path
) -> None:
    uas = sipp_uas("ring", ring_ms=400)
    kamailio = kamailio_factory(uas=(uas.host, uas.port), invite_auth=True)
    scenario = (
        f"target: {kamailio.uri()}\naccount:\n  user: {kamailio.user}\n"
        f"  domain: {kamailio.domain}\n  password_env: LAB_PASSWORD\n"
        "steps:\n  - call: {to: uas, duration_s: 1, answer_timeout_s: 10}\n"
    )
    run = run_probe(
        "run", write_scenario(tmp_path, scenario), env={"LAB_PASSWORD": kamailio.password}
    )
    (call,) = run.report["calls"]
    assert call["status_code"] == 200
    assert call["challenge"] == 407
    assert call["ringing"] is True
    assert 0 < call["trying_ms"] < call["pdd_ms"] < call["answer_ms"]
    assert call["answer_ms"] - call["pdd_ms"] >= 350  # the UAS rang for 400 ms
    assert call["hangup_by"] == "probe"
    assert call["bye_status"] == 200
    assert call["codec"] == "PCMU/8000"
    assert run.step("call")["timings_ms"]["answer"] == call["answer_ms"]
    assert run.report["verdict"]["messaging"] == "good"


def test_probe_call_busy_uas_gives_486_and_a_finding(sipp_uas: Callable[..., SippUas]) -> None:
    uas = sipp_uas("busy")
    run = run_probe("call", uas.uri(), "--duration", "1")
    assert run.returncode == 2
    assert run.report["calls"][0]["status_code"] == 486
    (finding,) = run.findings("call-failed")
    assert "486" in finding["summary"]
    assert "busy" in finding["summary"]
    expected = run_probe("call", uas.uri(), "--expect", "486")
    assert expected.returncode == 0
    assert expected.findings() == []


def test_probe_call_silent_uas_ends_within_its_bound(sipp_uas: Callable[..., SippUas]) -> None:
    uas = sipp_uas("silent")
    run = run_probe("call", uas.uri(), "--answer-timeout", "2")
    assert run.returncode == 2
    step = run.step("call")
    assert step["status_code"] is None
    assert "no final response within 2 s" in step["reason"]
    assert run.report["calls"][0]["invite_retransmissions"] >= 2  # Timer A: 0.5, 1.5 s
    (finding,) = run.findings("call-no-answer")
    assert finding["side"] == "unknown"  # nothing ever came back: down or blocked
    assert run.wall_s < 15


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_probe_call_closed_port_udp_and_tcp_end_within_bounds() -> None:
    port = closed_port()
    udp = run_probe("call", f"sip:echo@127.0.0.1:{port}", "--answer-timeout", "2")
    assert udp.returncode == 2
    assert udp.step("call")["status_code"] is None
    assert udp.wall_s < 15
    tcp = run_probe("call", f"sip:echo@127.0.0.1:{port};transport=tcp", "--answer-timeout", "5")
    assert tcp.returncode == 2
    step = tcp.step("call")
    assert step["origin"] == "local"  # pjsip's own 503, not the platform's
    assert step["status_code"] is None
    assert tcp.findings("call-no-answer")[0]["side"] == "unknown"
    assert tcp.wall_s < 15


def test_probe_options_and_call_against_stock_sipp_uas(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = (tmp_path / "sipp.log").open("wb")
    sipp = subprocess.Popen(
        [
            "sipp",
            "-sn",
            "uas",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-nostdin",
            "-m",
            "2",
            "-cp",
            str(closed_port()),
            "-mp",
            str(closed_port()),
            "-rtp_echo",
        ],  # -m 2: OPTIONS
        # counts as one
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        from lab.ports import wait_listening

        wait_listening("udp", "127.0.0.1", port, 10.0, process=sipp)
        # Stock SIPp's uas scenario has no OPTIONS in it: it drops the request. The probe
        # must end within its bound and say so, not hang.
        options = run_probe("options", f"sip:127.0.0.1:{port}", "--timeout", "2")
        assert options.returncode == 2
        assert options.step("options")["reason"].startswith("no response to OPTIONS within 2")
        assert options.wall_s < 10
        # SIPp echoes RTP unmarked: no DSCP expectation for this far end.
        call = run_probe(
            "call", f"sip:service@127.0.0.1:{port}", "--duration", "2", "--expect-dscp", "none"
        )
        assert call.returncode == 0, call.report["verdict"]
        assert call.report["calls"][0]["status_code"] == 200
        assert call.report["calls"][0]["rtcp"]["rx_packets"] > 50  # SIPp echoed our audio
    finally:
        sipp.kill()
        sipp.wait(timeout=10)
        log.close()


def test_probe_call_responder_with_digest_auth(responder_factory: Callable[..., Responder]) -> None:
    far_end = responder_factory(user="alice", password="pa55-w0rd", ring_ms=200)
    good = run_probe(
        "call",
        far_end.uri(),
        "--user",
        "alice",
        "--duration",
        "2",
        env={"SIPPROBE_PASSWORD": "pa55-w0rd"},
    )
    assert good.returncode == 0, good.report["verdict"]
    call = good.report["calls"][0]
    assert (call["status_code"], call["challenge"]) == (200, 401)
    assert call["pdd_ms"] is not None and call["answer_ms"] >= 200
    rtcp = call["rtcp"]
    assert rtcp["rx_packets"] >= 80  # 2 s of 20 ms packets echoed back
    assert rtcp["rx_lost"] == 0
    assert good.report["verdict"]["media"] == "good"
    bad = run_probe(
        "call",
        far_end.uri(),
        "--user",
        "alice",
        "--duration",
        "1",
        env={"SIPPROBE_PASSWORD": "wrong"},
    )
    assert bad.returncode == 2
    assert bad.report["calls"][0]["status_code"] == 401
    assert bad.findings("call-failed")[0]["side"] == "customer-equipment"
    for run in (good, bad):
        text = str(run.report) + run.stderr
        assert "pa55-w0rd" not in text
        assert "wrong" not in text.replace("went wrong", "")


def test_demo_command_prints_a_verdict_and_exits_ok() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sipprobe", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERDICT  messaging GOOD   media GOOD" in result.stdout
    assert "signalling and media were good at the demarc" in result.stdout


def test_probe_hostile_uas_ends_within_bound_with_clean_output(
    sipp_uas: Callable[..., SippUas], tmp_path: Path
) -> None:
    uas = sipp_uas("hostile")
    out = tmp_path / "evidence"
    run = run_probe("call", uas.uri(), "--answer-timeout", "3", "--no-history", "--out", str(out))
    assert run.returncode == 2
    assert run.wall_s < 20
    step = run.step("call")
    assert step["ok"] is False
    assert step["status_code"] is None  # no usable final response ever arrived
    # The escape sequences in the 183's reason phrase reach no text output raw.
    text = subprocess.run(
        [
            sys.executable,
            "-m",
            "sipprobe",
            "call",
            uas.uri(),
            "--answer-timeout",
            "2",
            "--no-history",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "\x1b" not in text.stdout + text.stderr
    assert "\x1b" not in (out / "sip.log").read_text()
    assert "\x1b" not in (out / "report.md").read_text()
