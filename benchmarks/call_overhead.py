"""Wall time of a 5-second call scenario, and the probe's overhead beyond the 5 s.

Runs `sipprobe run` (a fresh process each time, as cron would) against sipprobe's responder on
loopback, and, as the peer measured in the same run, SIPp's built-in UAC placing the same
5-second call against the same responder. Prints each run and the medians.

    python benchmarks/call_overhead.py [--runs 5] [--duration 5]

Goal: overhead under 1.5 s. It is a benchmark, not a test: nothing here fails.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sipprobe.run.demo import free_udp_port, start_responder, stop, wait_ready


def timed(argv: list[str]) -> tuple[float, int]:
    started = time.monotonic()
    result = subprocess.run(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    return time.monotonic() - started, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    port = free_udp_port()
    with tempfile.TemporaryDirectory() as work:
        scenario = Path(work) / "call.yaml"
        scenario.write_text(
            f"target: sip:127.0.0.1:{port}\nsteps:\n"
            f"  - call: {{to: echo, duration_s: {args.duration}, answer_timeout_s: 10}}\n"
        )
        log = Path(work) / "responder.log"
        responder = start_responder("127.0.0.1", port, log)
        try:
            wait_ready(responder, log)
            probe = [
                sys.executable,
                "-m",
                "sipprobe",
                "run",
                str(scenario),
                "-q",
                "--format",
                "json",
            ]
            sipp = [
                "sipp",
                "-sn",
                "uac",
                "-i",
                "127.0.0.1",
                "-p",
                str(free_udp_port()),
                "-m",
                "1",
                "-d",
                str(int(args.duration * 1000)),
                "-nostdin",
                "-cp",
                str(free_udp_port()),
                "-mp",
                str(free_udp_port()),
                f"127.0.0.1:{port}",
            ]
            probe_times, sipp_times = [], []
            print(f"{'run':>3}  {'sipprobe s':>10}  {'exit':>4}  {'sipp uac s':>10}  {'exit':>4}")
            for run in range(1, args.runs + 1):
                probe_s, probe_rc = timed(probe)
                sipp_s, sipp_rc = timed(sipp)
                probe_times.append(probe_s)
                sipp_times.append(sipp_s)
                print(f"{run:>3}  {probe_s:>10.3f}  {probe_rc:>4}  {sipp_s:>10.3f}  {sipp_rc:>4}")
        finally:
            stop(responder)
    probe_median = statistics.median(probe_times)
    sipp_median = statistics.median(sipp_times)
    print(
        f"median sipprobe {probe_median:.3f} s: overhead beyond the {args.duration:g} s call "
        f"{probe_median - args.duration:.3f} s (goal < 1.5 s)"
    )
    print(
        f"median sipp uac {sipp_median:.3f} s: overhead {sipp_median - args.duration:.3f} s; "
        f"sipprobe/sipp wall-time ratio {probe_median / sipp_median:.3f}"
    )


if __name__ == "__main__":
    main()
