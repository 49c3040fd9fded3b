"""Capacity and measurement floor: N simultaneous G.711 calls, every packet accounted for.

The pjsua2-python wheel holds at most 4 simultaneous calls per process (PJSUA_MAX_CALLS), so
N calls run as ceil(N/4) probe processes (`sipprobe run`, `parallel: 4`) against as many
responders on loopback, all started together. An independent tcpdump on `lo` (the peer
measurement in the same run) counts the RTP each responder sent; each probe's own capture
must have caught exactly as many. Prints, per N: calls answered, packets the responders sent
vs packets the probes captured, the clean-path jitter floor, and CPU seconds used.

    python benchmarks/concurrent_calls.py [--sizes 10,25,50,100] [--duration 20]

Needs root (tcpdump). A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sipprobe.run.demo import free_udp_port, start_responder, stop, wait_ready

PER_PROCESS = 4


def start_responders(count: int, work: Path) -> list[tuple[int, subprocess.Popen[bytes]]]:
    responders = []
    for number in range(count):
        port = free_udp_port()
        log = work / f"responder-{number}.log"
        responders.append((port, start_responder("127.0.0.1", port, log)))
    deadline = time.monotonic() + 30  # for all of them
    for number, (_, process) in enumerate(responders):
        left = max(0.0, deadline - time.monotonic())
        wait_ready(process, work / f"responder-{number}.log", timeout_s=left)
    return responders


def packets_by_port_pair(pcap: Path) -> dict[tuple[int, int], int]:
    """UDP packets per (source port, destination port) in the independent capture."""
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[tuple[int, int], int] = {}
    for line in out.splitlines():
        source, _, destination = line.partition("\t")
        if source and destination:
            key = (int(source), int(destination))
            counts[key] = counts.get(key, 0) + 1
    return counts


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def run_size(calls: int, duration: float, work: Path) -> None:
    processes = math.ceil(calls / PER_PROCESS)
    responders = start_responders(processes, work)
    oracle_pcap = work / f"oracle-{calls}.pcap"
    oracle = subprocess.Popen(
        [
            "tcpdump",
            "-i",
            "lo",
            "-n",
            "-U",
            "-B",
            "65536",
            "-w",
            str(oracle_pcap),
            "udp and portrange 4000-4999",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    probes = []
    remaining = calls
    for number, (port, _) in enumerate(responders):
        parallel = min(PER_PROCESS, remaining)
        remaining -= parallel
        scenario = work / f"s-{calls}-{number}.yaml"
        scenario.write_text(
            f"target: sip:127.0.0.1:{port}\nsteps:\n  - call: {{to: echo, duration_s: "
            f"{duration}, answer_timeout_s: 20, parallel: {parallel}}}\n"
        )
        out = work / f"out-{calls}-{number}"
        probes.append(
            (
                out,
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "sipprobe",
                        "run",
                        str(scenario),
                        "--format",
                        "json",
                        "--no-history",
                        "-q",
                        "--out",
                        str(out),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                ),
            )
        )
    reports = []
    for _, probe in probes:
        stdout, _ = probe.communicate(timeout=duration + 120)
        reports.append(json.loads(stdout))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(0.5)
    oracle.send_signal(signal.SIGINT)
    oracle.wait(timeout=10)
    for _, process in responders:
        stop(process)
    answered = sum(1 for r in reports for c in r["calls"] if c["status_code"] == 200)
    rx = [s for r in reports for c in r["calls"] for s in c["streams"] if s["direction"] == "rx"]
    tx = [s for r in reports for c in r["calls"] for s in c["streams"] if s["direction"] == "tx"]
    captured = sum(s["packets"] for s in rx)
    dropped = sum((r["capture"] or {}).get("not_captured") or 0 for r in reports)
    # Other software on the machine may use the same ports: count only each rx stream's pair.
    oracle_counts = packets_by_port_pair(oracle_pcap)
    sent = sum(oracle_counts.get((_port(s["src"]), _port(s["dst"])), 0) for s in rx)
    floor_rx = statistics.mean(s["jitter_ms"]["mean"] for s in rx) if rx else float("nan")
    floor_tx = statistics.mean(s["jitter_ms"]["mean"] for s in tx) if tx else float("nan")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(
        f"{calls:>5} {answered:>8} {sent:>10} {captured:>10} {dropped:>7} "
        f"{floor_rx:>11.3f} {floor_tx:>11.3f} {cpu:>8.1f} {processes:>5}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,25,50,100")
    parser.add_argument("--duration", type=float, default=20.0)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root for packet capture")
    print(
        f"{'calls':>5} {'answered':>8} {'rtp sent':>10} {'captured':>10} {'missed':>7} "
        f"{'rx jit ms':>11} {'tx jit ms':>11} {'cpu s':>8} {'procs':>5}"
    )
    with tempfile.TemporaryDirectory(prefix="sipprobe-capacity-") as work:
        for size in (int(s) for s in args.sizes.split(",")):
            run_size(size, args.duration, Path(work))


if __name__ == "__main__":
    main()
