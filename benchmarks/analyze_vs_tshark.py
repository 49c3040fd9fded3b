"""Time ``sipprobe analyze`` against ``tshark -q -z rtp,streams`` on the same large capture.

Not a test: it prints figures for the issue's performance goal (at least 10x faster than
tshark, with lower peak memory). It writes a pcap of N RTP packets over S G.711 streams (1 %
random loss, uniform extra delay of a few ms, RTCP every 5 s per stream) into a temporary
directory, then runs each tool several times as a child process, so that wall time and peak
resident memory (from ``wait4``) are measured the same way for both, interpreter start-up
included. Packet frames are built with numpy, not scapy, which would take minutes for 1e6.

    python benchmarks/analyze_vs_tshark.py [--packets N] [--streams S] [--runs R] [--codec-mix]

``--codec-mix`` makes every fourth stream G.729 (20-byte payloads), so record lengths vary
from packet to packet and the reader cannot confirm runs of equal-length records in one step.
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

T0 = 1_700_000_000.0
_RTCP_EVERY_S = 5.0


def _frames(n: int, payload: int) -> np.ndarray:
    """``n`` pcap records of Ethernet/IPv4/UDP/RTP with ``payload`` media bytes, fields zero."""
    caplen = 14 + 20 + 8 + 12 + payload
    rec = np.zeros((n, 16 + caplen), dtype=np.uint8)
    rec[:, 8:12] = np.frombuffer(np.uint32(caplen).tobytes(), np.uint8)
    rec[:, 12:16] = rec[:, 8:12]
    rec[:, 28:30] = (0x08, 0x00)
    ip = rec[:, 30:50]
    ip[:, 0], ip[:, 1], ip[:, 8], ip[:, 9] = 0x45, 46 << 2, 64, 17
    ip[:, 2:4] = np.frombuffer(np.uint16(20 + 8 + 12 + payload).astype(">u2").tobytes(), np.uint8)
    rec[:, 54:56] = np.frombuffer(np.uint16(8 + 12 + payload).astype(">u2").tobytes(), np.uint8)
    rec[:, 58] = 0x80
    rec[:, 70:] = 0xD5
    return rec


def _put(rec: np.ndarray, col: int, values: np.ndarray, dtype: str) -> None:
    width = np.dtype(dtype).itemsize
    rec[:, col : col + width] = values.astype(dtype).view(np.uint8).reshape(len(values), width)


def write_capture(path: Path, packets: int, streams: int, codec_mix: bool, seed: int = 7) -> int:
    """Write the benchmark capture; returns how many RTP packets it holds."""
    rng = np.random.default_rng(seed)
    per_stream = packets // streams
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        kinds = []
        for s in range(streams):
            g729 = codec_mix and s % 4 == 3
            kinds.append((18, 20, 80) if g729 else (0, 160, 160))  # pt, payload bytes, samples
        times, records = [], []
        for s, (pt, size, samples) in enumerate(kinds):
            i = np.arange(per_stream)
            keep = rng.random(per_stream) >= 0.01
            i = i[keep]
            sent = T0 + s * 0.00037 + i * 0.02
            arrival = sent + rng.uniform(0, 0.004, len(i))
            rec = _frames(len(i), size)
            _put(rec, 0, np.floor(arrival), "<u4")
            _put(rec, 4, np.round((arrival % 1) * 1e6) % 1_000_000, "<u4")
            rec[:, 42:46] = (10, 1, s // 250, s % 250 + 1)
            rec[:, 46:50] = (10, 2, s // 250, s % 250 + 1)
            _put(rec, 50, np.full(len(i), 20000 + 2 * s), ">u2")
            _put(rec, 52, np.full(len(i), 30000 + 2 * s), ">u2")
            rec[:, 59] = pt
            _put(rec, 60, (i + 1000 * s) & 0xFFFF, ">u2")
            _put(rec, 62, (i * samples + 12345 * s) & 0xFFFFFFFF, ">u4")
            _put(rec, 66, np.full(len(i), 0x10000 + s), ">u4")
            times.append(arrival)
            records.append(rec)
        order_time = np.concatenate(times)
        order = np.argsort(order_time, kind="stable")
        sizes = np.concatenate([np.full(len(r), r.shape[1]) for r in records])
        flat = np.concatenate([r.ravel() for r in records])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        for block in np.array_split(order, max(1, len(order) // 100_000)):
            out.write(b"".join(flat[starts[k] : starts[k] + sizes[k]].tobytes() for k in block))
    return len(order)
