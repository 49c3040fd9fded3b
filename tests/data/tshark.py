"""tshark as the oracle: run ``-z rtp,streams`` on a capture and parse its table.

tshark is a test dependency only; sipprobe never runs it. Its table prints jitter and deltas
to 3 decimals (so comparisons allow 0.0005 ms of rounding) and its "Lost" column is
``expected - received`` with ``expected`` taken from the *last* sequence number seen, not the
highest (docs/measurement.md, "Sequence numbers and loss"): a reordered final packet or a
duplicate makes it differ from RFC 3550's count, which the tests check on purpose.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TSHARK = shutil.which("tshark") or "/usr/bin/tshark"
_LOST = re.compile(r"^\((-?[\d.]+)%\)$")


@dataclass(frozen=True)
class TsharkStream:
    src: str
    src_port: int
    dst: str
    dst_port: int
    ssrc: int
    payload: str
    packets: int
    lost: int
    max_delta_ms: float
    min_jitter_ms: float
    mean_jitter_ms: float
    max_jitter_ms: float
    problems: bool


def rtp_streams(capture: Path, decode_udp_ports: tuple[int, ...] = ()) -> list[TsharkStream]:
    """tshark's RTP streams table for a capture (heuristic RTP on, plus decode-as ports)."""
    command = [TSHARK, "-n", "-r", str(capture), "-q", "-o", "rtp.heuristic_rtp:TRUE"]
    for port in decode_udp_ports:
        command += ["-d", f"udp.port=={port},rtp"]
    command += ["-z", "rtp,streams"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)
    return parse_table(done.stdout)


def parse_table(text: str) -> list[TsharkStream]:
    streams = []
    for line in text.splitlines():
        tokens = line.split()
        if len(tokens) < 16 or not tokens[6].startswith("0x"):
            continue
        problems = tokens[-1] == "X"
        if problems:
            tokens.pop()
        numbers = [float(t) for t in tokens[-6:]]
        percent = tokens[-7]
        if not _LOST.match(percent):
            raise ValueError(f"unexpected tshark line: {line}")
        streams.append(
            TsharkStream(
                src=tokens[2],
                src_port=int(tokens[3]),
                dst=tokens[4],
                dst_port=int(tokens[5]),
                ssrc=int(tokens[6], 16),
                payload=" ".join(tokens[7:-9]),
                packets=int(tokens[-9]),
                lost=int(tokens[-8]),
                max_delta_ms=numbers[2],
                min_jitter_ms=numbers[3],
                mean_jitter_ms=numbers[4],
                max_jitter_ms=numbers[5],
                problems=problems,
            )
        )
    return streams
