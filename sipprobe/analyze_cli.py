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
    analyze.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=2,
        help="processes a large capture may use: 2 (default, if there are 2 cores) or 1",
    )


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks of up to 32 MiB for reuse instead of unmapping them.

    By default a freed block over 128 KiB goes back to the kernel at once, and numpy's
    temporaries over a capture's columns are such blocks: each next one is mapped and faulted
    in again, page by page. Measured reading the 1M-packet benchmark: 31k page faults become
    10k and CPU time drops ~10%, at the same peak memory. A process-wide setting, so only the
    ``analyze`` command (a short-lived process) makes it; elsewhere (no glibc) it does nothing.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))


def run_analyze_command(args: argparse.Namespace) -> int:
    from sipprobe.analysis.analyze import run_analyze

    keep_freed_memory()
    return run_analyze(
        args.file,
        args.format,
        args.jitter_buffer_ms,
        args.one_way_delay_ms,
        tuple(args.rtp_port),
        sys.stdout,
        jobs=args.jobs,
    )
