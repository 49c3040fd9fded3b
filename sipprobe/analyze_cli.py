"""``sipprobe analyze FILE``: offline analysis of a capture (wiring only)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_analyze_parser(commands: Any) -> None:
    analyze = commands.add_parser("analyze", help="measure the RTP streams in a pcap/pcapng file")
    analyze.add_argument("file", help="capture file (pcap or pcapng)")
    analyze.add_argument("--format", choices=("text", "json"), default="text")
    analyze.add_argument(
        "--jitter-buffer-ms",
        type=float,
        default=60.0,
        metavar="N",
        help="depth of the simulated de-jitter buffer (default 60)",
    )
    analyze.add_argument(
        "--one-way-delay-ms",
        type=float,
        metavar="N",
        help="known one-way network delay, for MOS-CQ",
    )
    analyze.add_argument(
        "--rtp-port",
        type=int,
        action="append",
        default=[],
        metavar="P",
        help="treat UDP on this port as RTP (repeatable)",
    )


def run_analyze_command(args: argparse.Namespace) -> int:
    from sipprobe.analysis.analyze import run_analyze

    return run_analyze(
        args.file,
        args.format,
        args.jitter_buffer_ms,
        args.one_way_delay_ms,
        tuple(args.rtp_port),
        sys.stdout,
    )
