"""Many calls in one probe run, against the same number of calls made by SIPp.

For each size N: one `sipprobe call --calls N` (its worker processes and its one tcpdump
included) against one responder on loopback, then `sipp -sn uac_pcap` placing N calls at
once against the same responder (G.711 RTP played from SIPp's g711a.pcap). Prints, per tool
and N: calls answered, calls with rx and tx measured (probe), packets the capture missed,
the probe's jitter floor (median over calls of the tx stream's mean jitter: its own sending
regularity on a clean path; and of the rx streams), CPU seconds per call-minute (process
tree, from getrusage of reaped children) and peak memory per call (RSS of the process tree,
sampled every 100 ms).

    python benchmarks/capacity.py [--sizes 1,10,50,100] [--duration 8]

Needs root (tcpdump) and sipp. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sipprobe.run.demo import free_udp_port, start_responder, stop, wait_ready

SIPP_AUDIO = Path("/usr/share/sip-tester")


def tree_rss_mib(root: int) -> float:
    """RSS of ``root`` and every process below it, in MiB."""
    parents: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
        rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, queue = 0, [root]
    while queue:
        pid = queue.pop()
        total += rss.get(pid, 0)
        queue.extend(parents.get(pid, []))
    return total / (1 << 20)


def measured(command: list[str], cwd: Path | None = None) -> tuple[str, float, float, float]:
    """Run ``command``; its stdout, wall s, CPU s of its whole tree, peak tree RSS MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.1):
            peak = max(peak, tree_rss_mib(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate(timeout=600)
    done.set()
    sampler.join()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return stdout.decode(errors="replace"), wall, cpu, peak


def probe_row(calls: int, duration: float, port: int) -> str:
    stdout, wall, cpu, peak = measured(
        [sys.executable, "-m", "sipprobe", "call", f"sip:echo@127.0.0.1:{port}",
         "--calls", str(calls), "--duration", str(duration), "--format", "json",
         "--no-history", "-q"]
    )  # fmt: skip
    report = json.loads(stdout)
    answered = sum(1 for c in report["calls"] if c["status_code"] == 200)
    both = sum(1 for c in report["calls"] if {s["direction"] for s in c["streams"]} == {"rx", "tx"})
    tx = [s["jitter_ms"]["mean"] for c in report["calls"] for s in c["streams"]
          if s["direction"] == "tx" and s["jitter_ms"]]  # fmt: skip
    rx = [s["jitter_ms"]["mean"] for c in report["calls"] for s in c["streams"]
          if s["direction"] == "rx" and s["jitter_ms"]]  # fmt: skip
    missed = (report["capture"] or {}).get("not_captured")
    minutes = calls * duration / 60.0
    return (
        f"{'sipprobe':<9} {calls:>5} {answered:>8} {both:>8} {missed!s:>7} "
        f"{statistics.median(tx) if tx else float('nan'):>9.3f} "
        f"{statistics.median(rx) if rx else float('nan'):>9.3f} "
        f"{cpu / minutes:>11.2f} {peak / calls:>10.1f} {wall:>7.1f} {report['exit_code']:>4}"
    )


def sipp_row(calls: int, port: int, work: Path) -> str:
    (work / "pcap").unlink(missing_ok=True)
    (work / "pcap").symlink_to(SIPP_AUDIO)
    stats = work / f"sipp-{calls}.csv"
    _, wall, cpu, peak = measured(
        ["sipp", "-sn", "uac_pcap", f"127.0.0.1:{port}", "-s", "echo", "-i", "127.0.0.1",
         "-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1), "-m", str(calls),
         "-l", str(calls), "-r", str(calls), "-rp", "1000", "-timeout", "120", "-nostdin",
         "-trace_stat", "-stf", str(stats)],
        cwd=work,
    )  # fmt: skip
    answered = "?"
    if stats.exists():
        rows = stats.read_text().splitlines()
        if len(rows) > 1:
            head, last = rows[0].split(";"), rows[-1].split(";")
            answered = last[head.index("SuccessfulCall(C)")]
    hold_s = 8.0  # uac_pcap holds each call for the length of g711a.pcap
    minutes = calls * hold_s / 60.0
    return (
        f"{'sipp':<9} {calls:>5} {answered:>8} {'-':>8} {'-':>7} {'-':>9} {'-':>9} "
        f"{cpu / minutes:>11.2f} {peak / calls:>10.1f} {wall:>7.1f} {'-':>4}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50,100")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--no-sipp", action="store_true")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root for packet capture")
    print(
        f"{'tool':<9} {'calls':>5} {'answered':>8} {'rx+tx':>8} {'missed':>7} "
        f"{'tx jit ms':>9} {'rx jit ms':>9} {'cpu s/c-min':>11} {'MiB/call':>10} "
        f"{'wall s':>7} {'exit':>4}"
    )
    with tempfile.TemporaryDirectory(prefix="sipprobe-capacity-bench-") as directory:
        work = Path(directory)
        port = free_udp_port()
        log = work / "responder.log"
        responder = start_responder(
            "127.0.0.1", port, log,
            "--max-unconfirmed-per-source", "250", "--max-cps-per-source", "250",
        )  # fmt: skip
        try:
            wait_ready(responder, log, timeout_s=30)
            for size in (int(s) for s in args.sizes.split(",")):
                print(probe_row(size, args.duration, port), flush=True)
                if not args.no_sipp:
                    print(sipp_row(size, port, work), flush=True)
        finally:
            stop(responder)


if __name__ == "__main__":
    main()
