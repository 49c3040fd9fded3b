"""The probe against hostile far ends (SIPp UAS scenarios in tests/lab/sipp/): an answer it
cannot use is a failed call, never "messaging good, exit 0", and a flood of provisional
responses is a finding, not a memory problem.

Each test runs the real `sipprobe call` command in its own process; the flood test reads the
probe process' own peak RSS from the kernel (wait4's rusage of that one child) and the size
of its evidence bundle.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.probe import run_probe
from lab.sipp import SippUas

MAX_RSS_MB = 200
MAX_BUNDLE_MB = 20


def _findings(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in report["verdict"]["findings"] if f["code"] == code]


def test_probe_200_ok_with_garbage_sdp_is_a_failed_call(
    sipp_uas: Callable[..., SippUas], tmp_path: Path
) -> None:
    uas = sipp_uas("garbage-sdp")
    run = run_probe("call", uas.uri(), "--duration", "3", "--no-history")
    assert run.returncode == 2, run.report["verdict"]
    assert run.wall_s < 30
    report = run.report
    assert (report["verdict"]["messaging"], report["verdict"]["media"]) == ("bad", "bad")
    step = run.step("call")
    assert (step["ok"], step["status_code"]) == (False, 200)
    (finding,) = _findings(report, "call-answer-unusable")
    assert (finding["severity"], finding["side"], finding["area"]) == (
        "critical",
        "platform",
        "messaging",
    )
    assert "'this is not a session description'" in finding["summary"]  # the line it sent
    assert "the probe ended the call itself (415" in finding["summary"]
    assert finding["responsible"] == "cleartrunk"
    (no_rtp,) = _findings(report, "no-rtp")
    assert no_rtp["severity"] == "critical"
    call = report["calls"][0]
    assert call["unusable_answer"].startswith("the SDP answer cannot be read")
    assert call["local_disconnect"].startswith("415")


def test_probe_200_ok_with_null_media_address_is_a_failed_call_with_media_bad(
    sipp_uas: Callable[..., SippUas], tmp_path: Path
) -> None:
    uas = sipp_uas("null-media")
    run = run_probe("call", uas.uri(), "--duration", "2", "--no-history")
    assert run.returncode == 2, run.report["verdict"]
    report = run.report
    assert (report["verdict"]["messaging"], report["verdict"]["media"]) == ("bad", "bad")
    (finding,) = _findings(report, "call-answer-unusable")
    assert (finding["severity"], finding["side"]) == ("critical", "platform")
    assert "'c=IN IP4 0.0.0.0'" in finding["summary"]
    (no_rtp,) = _findings(report, "no-rtp")
    assert (no_rtp["severity"], no_rtp["area"]) == ("critical", "media")
    assert run.step("call")["ok"] is False


def _run_measured(args: list[str], directory: Path, timeout_s: float) -> tuple[int, float, str]:
    """`sipprobe ARGS` as a child; (exit code, its peak RSS in MB, stdout)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
    stdout, stderr = directory / "stdout.json", directory / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "sipprobe", *args],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=environment,
        )
    killer = threading.Timer(timeout_s, process.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    assert "Traceback" not in stderr.read_text(), stderr.read_text()
    return process.returncode, usage.ru_maxrss / 1024, stdout.read_text()


def test_probe_provisional_flood_is_a_finding_with_bounded_memory_and_bundle(
    sipp_uas: Callable[..., SippUas], tmp_path: Path
) -> None:
    uas = sipp_uas("provisional-flood", flood_rounds=1000)
    bundle = tmp_path / "evidence"
    started = time.monotonic()
    code, rss_mb, stdout = _run_measured(
        [
            "call",
            uas.uri(),
            "--answer-timeout",
            "10",
            "--duration",
            "2",
            "--no-history",
            "--format",
            "json",
            "--out",
            str(bundle),
        ],
        tmp_path,
        timeout_s=60,
    )
    wall = time.monotonic() - started
    report = json.loads(stdout)
    sent = (uas.message_log.read_text(errors="replace")).count("SIP/2.0 180 Ringing")
    assert code == 2, report["verdict"]
    assert wall < 30
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"
    size_mb = sum(f.stat().st_size for f in bundle.iterdir()) / 1e6
    assert size_mb < MAX_BUNDLE_MB, f"bundle {size_mb:.1f} MB"
    (flood,) = _findings(report, "sip-flood")
    assert (flood["severity"], flood["side"], flood["area"]) == ("warning", "unknown", "messaging")
    assert f"all from the target's address ({uas.host}:{uas.port} (" in flood["summary"]
    assert flood["step"] == 0
    limits = report["sip_limits"]
    not_kept = limits["dropped"]["repeated-provisional"]
    assert sent > 1000  # a flood it was
    assert not_kept >= sent - 3 - 200  # every 180 but the 3 kept (some still in flight)
    assert limits["dropped_from"] == {f"{uas.host}:{uas.port}": not_kept}
    kept_180 = [m for m in report["sip"] if m["status_code"] == 180]
    assert len(kept_180) == limits["max_repeats"] == 3
    # The capture is bounded for the run's one call and says when it stopped at its cap.
    capture = report["capture"]
    assert capture["packets"] <= capture["max_packets"]
    if capture["limit"] is not None:
        assert "stopped at its limit" in capture["limit"]
        assert "capture: the capture stopped" in (bundle / "report.txt").read_text()
    assert "not kept: " in (bundle / "report.txt").read_text()
