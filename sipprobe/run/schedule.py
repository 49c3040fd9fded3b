"""Repeated runs (``--every``, ``--count``) and the process footprint they report.

One process runs the check on a fixed grid: rounds start at ``t0``, ``t0 + every``, ...; a
round that overruns its slot delays the next one to the following free slot (missed slots
are skipped, not made up). The exit code of the whole schedule is the worst of its rounds
(``worst_exit``). SIGTERM (``systemctl stop``) ends the schedule after the round under way,
so that round is still reported and recorded.

A single target runs in this process: each run creates and destroys its own pjsua2
Endpoint, which the soak test shows leaks no descriptor, thread or memory over hundreds of
runs. Several targets run in child processes (``sipprobe.run.fanout``).
"""

from __future__ import annotations

import math
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

from sipprobe.errors import UsageError
from sipprobe.model.results import ExitCode
from sipprobe.scenario.model import CallStep, OptionsStep, RegisterStep, Scenario, WaitStep
from sipprobe.sip.uri import SipUri

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
# Worst first: a run that could not decide (nothing measured) weighs more than a degraded one.
_SEVERITY = (ExitCode.CRITICAL, ExitCode.UNKNOWN, ExitCode.WARNING, ExitCode.OK)
SETUP_MARGIN_S = 30.0  # on top of a scenario's step bounds: start-up, un-register, teardown


def parse_duration(text: str, option: str) -> float:
    """``90s``, ``5m``, ``1h30m``, ``7d``, ``250ms`` in seconds (more than zero)."""
    compact = text.strip().lower()
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        raise UsageError(
            f"{option} takes a duration such as 30s, 5m, 12h or 7d (units ms, s, m, h, d), "
            f"got {text!r}"
        )
    seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if seconds <= 0:
        raise UsageError(f"{option} must be longer than zero, got {text!r}")
    return seconds


def worst_exit(codes: list[int]) -> int:
    """The worst of ``codes``: CRITICAL, then UNKNOWN, then WARNING, then OK."""
    present = {ExitCode(code) for code in codes}
    return int(next((code for code in _SEVERITY if code in present), ExitCode.OK))


def next_slot(started: float, every_s: float, now: float) -> float:
    """The first start time on the grid ``started + k * every_s`` that lies after ``now``."""
    return started + (math.floor((now - started) / every_s) + 1) * every_s


def repeat(
    round_: Callable[[int], int],
    every_s: float,
    count: int | None,
    clock: Callable[[], float],
    wait: Callable[[float], bool],
) -> int:
    """Run ``round_(1)``, ``round_(2)``, ... on the grid; the worst exit code of them all.

    ``wait(seconds)`` sleeps and returns True when the schedule is asked to stop; ``count``
    None repeats until then.
    """
    started = clock()
    codes: list[int] = []
    number = 0
    while True:
        number += 1
        codes = [worst_exit([*codes, round_(number)])]
        if count is not None and number >= count:
            return codes[0]
        now = clock()
        if wait(next_slot(started, every_s, now) - now):
            return codes[0]


@contextmanager
def stop_on_sigterm() -> Iterator[Callable[[float], bool]]:
    """A ``wait`` for ``repeat`` that SIGTERM cuts short, while the block runs."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield stop.wait
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True, slots=True)
class Footprint:
    """What the process holds: open descriptors, threads, resident memory (Linux /proc)."""

    fds: int
    threads: int
    rss_kib: int

    def __str__(self) -> str:
        return f"process {self.fds} fds, {self.threads} threads, {self.rss_kib / 1024:.1f} MiB RSS"


def footprint(proc: Path = Path("/proc/self")) -> Footprint | None:
    """The process's footprint, or None where /proc does not tell it."""
    try:
        fds = len(os.listdir(proc / "fd"))
        status = dict(
            line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line
        )
        return Footprint(fds, int(status["Threads"]), int(status["VmRSS"].split()[0]))
    except (OSError, KeyError, ValueError):
        return None


def retarget(scenario: Scenario, target: SipUri) -> Scenario:
    """``scenario`` aimed at ``target`` (``--target`` or a line of ``--targets``).

    The transport is the URI's when it names one (``;transport=``, ``sips:``), else the
    scenario's. An account domain that was the old target's host follows the new target.
    """
    declared = target.param("transport") is not None or target.scheme == "sips"
    transport = target.transport if declared else scenario.transport
    account = scenario.account
    if account is not None and account.domain == scenario.target.host:
        account = replace(account, domain=target.host)
    return replace(
        scenario, target=target.with_transport(transport), transport=transport, account=account
    )


def time_bound_s(scenario: Scenario) -> float:
    """How long one run of ``scenario`` can take at most: its step bounds plus a margin."""
    total = SETUP_MARGIN_S
    for step in scenario.steps:
        if isinstance(step, OptionsStep | RegisterStep):
            total += step.timeout_s
        elif isinstance(step, CallStep):
            total += step.answer_timeout_s + step.duration_s + 10.0  # BYE and media teardown
        elif isinstance(step, WaitStep):
            total += step.seconds
    return total
