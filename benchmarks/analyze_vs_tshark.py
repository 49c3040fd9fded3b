"""Time ``sipprobe analyze`` against ``tshark -q -z rtp,streams`` on the same large capture.

Not a test: it prints figures for the performance goal (at least 10x faster than tshark,
with lower peak memory). It writes a pcap of N RTP packets over S G.711 streams (1 % random
loss, uniform extra delay of 0-4 ms, an RTCP sender report every 5 s per stream) into a
temporary directory, then runs each tool several times as a child process, so wall time and
peak resident memory (``wait4``) are measured the same way for both, interpreter start-up
included, with the CPU time too: ``sipprobe analyze`` forks a child for half of the work on a
large capture (``--jobs 1`` keeps it to one process), which the CPU figure includes and the
peak RSS figure does not sum (it is the larger of the two processes). Frames are built with
numpy, not scapy, which would take minutes for a million.

    python benchmarks/analyze_vs_tshark.py [--packets N] [--streams S] [--runs R] [--codec-mix]
                                           [--jobs 1|2]

``--codec-mix`` makes every fourth stream G.729 (20-byte payloads): record lengths then vary
from one packet to the next, the reader's worst case (no runs of equal-length records).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

T0 = 1_700_000_000
RTCP_EVERY_S = 5.0
NTP_UNIX_OFFSET_S = 2_208_988_800


def _records(arrival: np.ndarray, payloads: np.ndarray, src: int, sport: int) -> np.ndarray:
    """pcap records of Ethernet/IPv4/UDP frames, one per row of ``payloads`` (equal sizes)."""
    n, size = payloads.shape
    caplen = 14 + 20 + 8 + size
    rec = np.zeros((n, 16 + caplen), dtype=np.uint8)
    seconds = np.floor(arrival)
    micros = np.minimum(np.round((arrival - seconds) * 1e6), 999_999)
    rec[:, 0:4] = (seconds + T0).astype("<u4").view(np.uint8).reshape(n, 4)
    rec[:, 4:8] = micros.astype("<u4").view(np.uint8).reshape(n, 4)
    rec[:, 8:16] = np.frombuffer(struct.pack("<II", caplen, caplen), np.uint8)
    rec[:, 28:30] = (0x08, 0x00)
    rec[:, 30:50] = np.frombuffer(
        struct.pack("!BBHHHBBHII", 0x45, 46 << 2, 28 + size, 0, 0, 64, 17, 0, src, src + 0x10000),
        np.uint8,
    )
    rec[:, 50:58] = np.frombuffer(struct.pack("!HHHH", sport, sport + 10000, 8 + size, 0), np.uint8)
    rec[:, 58:] = payloads
    return rec


def _stream(
    s: int, per_stream: int, codec_mix: bool, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The RTP packets and RTCP reports of stream ``s``: (arrival times, records) pairs."""
    pt, size, samples = (18, 20, 160) if codec_mix and s % 4 == 3 else (0, 160, 160)
    index = np.flatnonzero(rng.random(per_stream) >= 0.01)  # 1 % random loss
    arrival = s * 0.00037 + index * 0.02 + rng.uniform(0, 0.004, len(index))
    header = np.zeros((len(index), 12), dtype=np.uint8)
    header[:, 0], header[:, 1] = 0x80, pt
    header[:, 2:4] = ((index + 1000 * s) & 0xFFFF).astype(">u2").view(np.uint8).reshape(-1, 2)
    header[:, 4:8] = ((index * samples) & 0xFFFFFFFF).astype(">u4").view(np.uint8).reshape(-1, 4)
    header[:, 8:12] = np.frombuffer(struct.pack("!I", 0x10000 + s), np.uint8)
    media = np.full((len(index), size), 0xD5, dtype=np.uint8)
    src, sport = (10 << 24) | (1 << 16) | (s + 1), 20000 + 2 * s
    parts = [(arrival, _records(arrival, np.hstack([header, media]), src, sport))]
    reports = np.arange(RTCP_EVERY_S, per_stream * 0.02, RTCP_EVERY_S) + s * 0.0011
    rtcp = np.zeros((len(reports), 28), dtype=np.uint8)
    for k, at in enumerate(reports):
        ntp = T0 + at + NTP_UNIX_OFFSET_S
        body = struct.pack(
            "!BBHIIIIII", 0x80, 200, 6, 0x10000 + s, int(ntp), int(ntp % 1 * 2**32), 0, 0, 0
        )
        rtcp[k] = np.frombuffer(body, np.uint8)
    parts.append((reports, _records(reports, rtcp, src, sport + 1)))
    return parts


def write_capture(path: Path, packets: int, streams: int, codec_mix: bool, seed: int = 7) -> int:
    """Write the benchmark capture in arrival order; returns how many records it holds."""
    rng = np.random.default_rng(seed)
    parts = [p for s in range(streams) for p in _stream(s, packets // streams, codec_mix, rng)]
    arrival = np.concatenate([a for a, _ in parts])
    sizes = np.concatenate([np.full(len(a), r.shape[1]) for a, r in parts])
    flat = np.concatenate([r.ravel() for _, r in parts])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    order = np.argsort(arrival, kind="stable")
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for block in np.array_split(order, max(1, len(order) // 200_000)):
            lengths = sizes[block]
            shift = starts[block] - (np.cumsum(lengths) - lengths)  # input minus output offset
            out.write(flat[np.arange(lengths.sum()) + np.repeat(shift, lengths)].tobytes())
    return len(order)


# Linux keeps the high-water mark of the memory a process had before exec, and a child that
# Python spawns with vfork shares the parent's: measured from here, every child would report
# this script's peak. So a small launcher (no site, no numpy) forks, execs and waits instead.
_LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
cpu = usage.ru_utime + usage.ru_stime  # its own and its reaped children's (sipprobe forks one)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - started, usage.ru_maxrss, cpu)
"""


def run(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak resident MiB and CPU seconds of one child process."""
    launched = [sys.executable, "-S", "-c", _LAUNCHER, *argv]
    # As after a normal install: Python may cache compiled modules (some environments set
    # PYTHONDONTWRITEBYTECODE, which would make every run recompile sipprobe's sources).
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(launched, capture_output=True, text=True, check=True, env=environment)
    code, seconds, kib, cpu = done.stdout.split()
    if int(code) not in (0, 1, 2):
        raise SystemExit(f"{argv[0]} failed with exit code {code}")
    return float(seconds), int(kib) / 1024, float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--codec-mix", action="store_true")
    parser.add_argument(
        "--jobs", type=int, choices=(1, 2), default=2, help="sipprobe analyze --jobs (default 2)"
    )
    args = parser.parse_args()
    tshark = shutil.which("tshark")
    if tshark is None:
        raise SystemExit("tshark is not installed: apt-get install tshark")
    with tempfile.TemporaryDirectory() as work:
        capture = Path(work) / "bench.pcap"
        started = time.perf_counter()
        records = write_capture(capture, args.packets, args.streams, args.codec_mix)
        print(
            f"capture: {records:,} records ({args.streams} streams, RTP + RTCP, "
            f"{'G.711 and G.729' if args.codec_mix else 'G.711'}), "
            f"{capture.stat().st_size / 2**20:.0f} MiB, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        commands = {
            "sipprobe": [
                sys.executable,
                "-m",
                "sipprobe",
                "analyze",
                str(capture),
                "--jobs",
                str(args.jobs),
            ],
            "tshark": [
                tshark,
                "-n",
                "-r",
                str(capture),
                "-q",
                "-o",
                "rtp.heuristic_rtp:TRUE",
                "-z",
                "rtp,streams",
            ],
        }
        for argv in commands.values():  # warm-up, not counted: disk cache, bytecode cache
            run(argv)
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for number in range(args.runs):
            for name, argv in commands.items():
                seconds, mib, cpu = run(argv)
                results[name].append((seconds, mib, cpu))
                print(
                    f"run {number + 1} {name:8s} {seconds:7.2f} s {mib:7.0f} MiB {cpu:6.2f} s CPU"
                )
        medians = {name: statistics.median(r[0] for r in runs) for name, runs in results.items()}
        cpu = {name: statistics.median(r[2] for r in runs) for name, runs in results.items()}
        for name, runs in results.items():
            print(
                f"{name:8s} median {medians[name]:6.2f} s = "
                f"{records / medians[name]:>10,.0f} packets/s, "
                f"peak RSS {max(r[1] for r in runs):.0f} MiB, CPU {cpu[name]:.2f} s"
            )
        print(
            f"tshark / sipprobe: {medians['tshark'] / medians['sipprobe']:.1f}x wall time, "
            f"{cpu['tshark'] / cpu['sipprobe']:.1f}x CPU time"
        )


if __name__ == "__main__":
    main()
