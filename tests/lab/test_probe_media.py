"""Media measured during real calls: capture, directions, echo round trip, fallback."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lab.environment import require_lab
from lab.probe import run_probe, write_scenario
from lab.responder import Responder
from lab.sipp import SippUas


def streams(run_report: dict[str, object], call: int = 0) -> dict[str, dict[str, object]]:
    calls = run_report["calls"]
    assert isinstance(calls, list)
    return {s["direction"]: s for s in calls[call]["streams"]}


def test_probe_call_measures_both_directions_from_the_capture(
    responder: Responder, tmp_path: Path
) -> None:
    require_lab("tcpdump", "tshark", root=True)
    out = tmp_path / "evidence"
    run = run_probe("call", responder.uri(), "--duration", "4", "--no-history", "--out", str(out))
    assert run.returncode == 0, run.report["verdict"]
    assert run.report["capture"]["error"] is None
    assert run.report["capture"]["not_captured"] == 0
    both = streams(run.report)
    assert set(both) == {"rx", "tx"}
    for direction, stream in both.items():
        assert stream["source"] == "capture"
        assert 190 <= stream["packets"] <= 210, direction  # 4 s of 20 ms packets
        assert stream["lost"] == 0
        assert stream["dscp"] == [46]  # probe and responder both mark EF
        assert stream["codec"] == "PCMU"
        assert stream["jitter_ms"]["mean"] < 5
    assert both["rx"]["from_announced_address"] is True
    assert both["rx"]["dst"] == both["tx"]["src"]
    # The evidence capture opens in tshark with the dialog and both streams decoded.
    pcap = out / "capture.pcap"
    sip = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", 'sip.Method == "INVITE"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "INVITE" in sip
    rtp = subprocess.run(
        ["tshark", "-r", str(pcap), "-q", "-z", "rtp,streams"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert rtp.count("g711U") == 2


def test_probe_echo_round_trip_through_sipp_reflector(sipp_uas: Callable[..., SippUas]) -> None:
    require_lab("tcpdump", root=True)
    uas = sipp_uas("echo")
    run = run_probe("call", uas.uri(), "--duration", "3", "--no-history", "--expect-dscp", "none")
    assert run.returncode == 0, run.report["verdict"]
    echo = run.report["calls"][0]["echo"]
    assert echo is not None
    assert echo["lag_ms"] == 0.0  # a reflector sends the same bytes back
    assert echo["correlation"] > 0.99
    assert echo["packets"] >= 140
    assert 0 <= echo["rtt_ms"]["median"] < 5  # loopback
    assert echo["mos_cq"] is not None and echo["mos_cq"] > 4.3


def test_probe_echo_round_trip_through_responder_reflector(responder: Responder) -> None:
    require_lab("tcpdump", root=True)
    run = run_probe("call", responder.uri(), "--duration", "3", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    call = run.report["calls"][0]
    echo = call["echo"]
    assert echo is not None
    # The responder reflects packets (its own SSRC and sequence numbers, the same audio): the
    # round trip is the network's, and a packet sent before the ACK arrived may be missing
    assert echo["correlation"] > 0.99
    assert echo["lag_ms"] <= 40
    assert 0 <= echo["rtt_ms"]["median"] < 5  # loopback
    # The responder's RTCP answers the probe's sender reports: pjmedia has a round trip.
    assert call["rtcp"]["rtt_ms"] is not None and call["rtcp"]["rtt_ms"] < 5


def test_probe_parallel_calls_each_measured(responder: Responder, tmp_path: Path) -> None:
    require_lab("tcpdump", root=True)
    scenario = write_scenario(
        tmp_path,
        f"target: sip:{responder.host}:{responder.port}\nsteps:\n"
        "  - call: {to: echo, duration_s: 2, parallel: 4}\n",
    )
    run = run_probe("run", scenario, "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    calls = run.report["calls"]
    assert len(calls) == 4
    assert len({c["call_id"] for c in calls}) == 4
    for index in range(4):
        both = streams(run.report, index)
        assert set(both) == {"rx", "tx"}
        assert both["rx"]["packets"] >= 90


def test_probe_parallel_calls_beyond_the_run_limit_is_a_clear_error(tmp_path: Path) -> None:
    # More than one stack holds (4) is spread over worker processes; beyond the run's own
    # bound it is a usage error before anything starts.
    scenario = write_scenario(
        tmp_path, "target: sip:127.0.0.1\nsteps:\n  - call: {parallel: 201}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "sipprobe", "run", scenario],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 3
    assert "steps[0].call.parallel: 201 is out of range (1 to 200)" in result.stderr


def test_probe_without_capture_permission_falls_back_to_rtcp(
    responder: Responder, tmp_path: Path
) -> None:
    require_lab("setpriv", root=True)
    home = tmp_path / "nobody"
    home.mkdir()
    shutil.chown(home, "nobody")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
    environment["HOME"] = str(home)
    result = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            sys.executable,
            "-m",
            "sipprobe",
            "call",
            responder.uri(),
            "--duration",
            "2",
            "--no-history",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=home,
        env=environment,
    )
    assert "Traceback" not in result.stderr
    if result.returncode != 0 and not result.stdout:
        pytest.fail(f"probe as nobody failed: {result.stderr}")
    report = json.loads(result.stdout)
    capture = report["capture"]
    assert capture["file"] is None
    assert "capture not possible" in capture["error"]
    assert "CAP_NET_RAW" in capture["error"] or "permission" in capture["error"].lower()
    call = report["calls"][0]
    assert call["streams"] == []
    assert call["rtcp"]["rx_packets"] > 50  # media still measured, by the SIP stack
    assert report["verdict"]["media"] == "good"


def test_probe_srtp_call_measured_from_clear_headers(
    responder_factory: Callable[..., Responder],
) -> None:
    require_lab("tcpdump", root=True)
    far_end = responder_factory(srtp="mandatory")
    run = run_probe("call", far_end.uri(), "--duration", "3", "--no-history", "--srtp", "mandatory")
    assert run.returncode == 0, run.report["verdict"]
    call = run.report["calls"][0]
    assert call["srtp"] is True
    assert call["echo"] is None  # encrypted audio cannot be correlated
    both = streams(run.report)
    assert set(both) == {"rx", "tx"}
    assert both["rx"]["packets"] >= 140 and both["rx"]["lost"] == 0
    plain = run_probe("call", far_end.uri(), "--duration", "1", "--no-history")
    assert plain.returncode == 2
    assert plain.report["calls"][0]["status_code"] == 488
    (finding,) = plain.findings("call-failed")
    assert "no SRTP" in finding["summary"]


def test_probe_responder_tone_mode_sends_audio_that_is_not_an_echo(
    responder_factory: Callable[..., Responder],
) -> None:
    require_lab("tcpdump", root=True)
    far_end = responder_factory(mode="tone", ring_ms=300)
    run = run_probe("call", far_end.uri(), "--duration", "3", "--no-history")
    assert run.returncode == 0, run.report["verdict"]
    call = run.report["calls"][0]
    assert call["ringing"] is True
    assert call["answer_ms"] >= 300
    assert streams(run.report)["rx"]["packets"] >= 140
    assert call["echo"] is None  # a 440 Hz tone does not correlate with the probe's audio
