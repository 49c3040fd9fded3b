"""``sipprobe analyze FILE``: offline analysis of a capture (wiring only)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from sipprobe.errors import UsageError


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


def _cores() -> int:
    """Cores this process may run on (its CPU affinity, as ``taskset`` sets it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_analyze(
    path: str | Path,
    fmt: str,
    jitter_buffer_ms: float,
    one_way_delay_ms: float | None,
    rtp_ports: tuple[int, ...],
    stdout: TextIO,
    jobs: int = 1,
) -> int:
    """``sipprobe analyze``: print the result, return the monitoring-plugins exit code.

    ``jobs`` processes at most (no more than this machine has cores) read and measure a
    large capture.

    0 all streams good, 1 one degraded, 2 one bad, 3 no RTP stream found. A capture that
    cannot be read raises ``CaptureError`` for the CLI to print; bad options raise
    ``UsageError``.
    """
    if fmt not in ("text", "json"):
        raise UsageError(f"unknown output format {fmt!r}: use text or json")
    bad_ports = [p for p in rtp_ports if not 0 < p < 65536]
    if bad_ports:
        raise UsageError(f"--rtp-port {bad_ports[0]} is not a UDP port (1-65535)")
    for name, value in (
        ("--jitter-buffer-ms", jitter_buffer_ms),
        ("--one-way-delay-ms", one_way_delay_ms),
    ):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{name} must be a number of milliseconds >= 0, not {value}")
    from sipprobe.analysis.analyze import AnalyzeOptions, analyze_file
    from sipprobe.report.analysis import analysis_json, render_analysis_text

    workers = min(jobs, _cores())
    options = AnalyzeOptions(jitter_buffer_ms, one_way_delay_ms, tuple(rtp_ports), workers)
    result = analyze_file(path, options)
    if fmt == "json":
        from sipprobe.report import jsontext  # only here: the json module is not needed for text

        stdout.write(jsontext.dumps(analysis_json(result)) + "\n")
    else:
        stdout.write(render_analysis_text(result))
    return int(result.exit_code)
