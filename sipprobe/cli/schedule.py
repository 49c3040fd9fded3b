"""``sipprobe run`` options for scheduled checks: ``--target``, ``--targets``, ``--every``.

Without them a run is one run. With ``--every`` the process repeats the check (one target in
this process; several in child processes, see ``sipprobe.run.fanout``). Each run prints its own
report on stdout (``--format json``: one JSON object per run, a stream ``jq`` reads) and one
``sipprobe: round ...`` line on stderr; ``--out DIR`` gets a folder per run.

Every command builds these options, so the scheduling machinery (child processes, threads,
signals) is imported by the functions that run the checks, not at the top.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sipprobe.errors import UsageError
from sipprobe.model.outcome import ExitCode

if TYPE_CHECKING:
    import datetime as dt

    from sipprobe.run.fanout import ChildRun
    from sipprobe.scenario.model import Scenario
    from sipprobe.sip.uri import SipUri

Check = Callable[["Scenario", argparse.Namespace], int]
DEFAULT_CONCURRENCY = 4


def add_schedule_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--target", metavar="URI", help="probe this target instead of the scenario's")
    run.add_argument(
        "--targets",
        metavar="FILE",
        help="probe every target in FILE (one SIP URI per line, # comments), each in a child "
        "process",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"with --targets: at most N runs at once (default {DEFAULT_CONCURRENCY})",
    )
    run.add_argument(
        "--every",
        metavar="DURATION",
        help="repeat the check every DURATION (30s, 5m, 1h) until stopped (SIGTERM ends it "
        "after the run under way); the exit code is the worst of all runs",
    )
    run.add_argument("--count", type=int, metavar="N", help="with --every: stop after N rounds")


def _validate(args: argparse.Namespace) -> float | None:
    from sipprobe.run.schedule import parse_duration

    every = parse_duration(args.every, "--every") if args.every else None
    if args.count is not None and (every is None or args.count < 1):
        raise UsageError("--count takes a number of rounds of at least 1, and needs --every")
    if args.concurrency is not None and (args.targets is None or args.concurrency < 1):
        raise UsageError("--concurrency takes a number of at least 1, and needs --targets")
    if args.target and args.targets:
        raise UsageError("--target and --targets exclude each other")
    return every


def run_checks(
    args: argparse.Namespace,
    scenario: Scenario,
    check: Check,
    run_parser: argparse.ArgumentParser,
) -> int:
    """One run, or the rounds that ``--every``, ``--count`` and ``--targets`` ask for."""
    from sipprobe.run.fanout import read_targets
    from sipprobe.run.schedule import repeat, retarget, stop_on_sigterm
    from sipprobe.sip.uri import parse_uri

    every = _validate(args)
    if args.target:
        scenario = retarget(scenario, parse_uri(args.target))
    targets = read_targets(args.targets) if args.targets else None
    if every is None and targets is None:
        return check(scenario, args)
    count = args.count if every is not None else 1
    of = f"/{count}" if count is not None else ""

    def say(text: str) -> None:
        if not args.quiet:
            print(f"sipprobe: {text}", file=sys.stderr, flush=True)

    if targets is None:
        round_ = _in_process(args, scenario, check, say, of)
    else:
        round_ = _in_children(args, scenario, targets, run_parser, say, of)
    with stop_on_sigterm() as wait:
        return repeat(round_, every or 1.0, count, time.monotonic, wait)


def _in_process(
    args: argparse.Namespace,
    scenario: Scenario,
    check: Check,
    say: Callable[[str], None],
    of: str,
) -> Callable[[int], int]:
    from sipprobe.run.schedule import footprint

    def round_(number: int) -> int:
        out = _run_folder(args.out, scenario.target) if args.out else None
        code = check(scenario, argparse.Namespace(**{**vars(args), "out": out}))
        gc.collect()
        sys.stdout.flush()
        usage = footprint()
        say(
            f"round {number}{of}: {scenario.target}: exit {code} ({ExitCode(code).name})"
            + (f"; {usage}" if usage else "")
        )
        return code

    return round_


def _in_children(
    args: argparse.Namespace,
    scenario: Scenario,
    targets: tuple[SipUri, ...],
    run_parser: argparse.ArgumentParser,
    say: Callable[[str], None],
    of: str,
) -> Callable[[int], int]:
    from sipprobe.run.fanout import child_argv, run_children
    from sipprobe.run.schedule import footprint, time_bound_s, worst_exit

    bound = time_bound_s(scenario)

    def done(child: ChildRun) -> None:
        sys.stdout.write(child.stdout)
        sys.stdout.flush()
        for line in child.stderr.splitlines():
            print(f"{child.target}: {line}", file=sys.stderr)
        if child.note:
            print(f"warning: {child.target}: {child.note}", file=sys.stderr)
        code = ExitCode(child.exit_code)
        say(f"{child.target}: exit {int(code)} ({code.name}) in {child.wall_s:.1f} s")

    def round_(number: int) -> int:
        jobs = []
        for target in targets:
            out = _run_folder(args.out, target) if args.out else None
            jobs.append((str(target), child_argv(run_parser, args, str(target), out)))
        concurrency = args.concurrency or DEFAULT_CONCURRENCY
        worst = worst_exit(run_children(jobs, concurrency, bound, done))
        usage = footprint()
        say(
            f"round {number}{of}: {len(targets)} targets, worst exit {worst} "
            f"({ExitCode(worst).name})" + (f"; {usage}" if usage else "")
        )
        return worst

    return round_


def _run_folder(base: str, target: SipUri, now: dt.datetime | None = None) -> str:
    """``BASE/<UTC time>-<target>``, with ``-2``, ``-3``... when that folder exists."""
    import datetime as dt

    moment = now or dt.datetime.now(dt.UTC)
    name = str(target).split(":", 1)[1]
    slug = "".join(c if c.isalnum() or c in ".-@" else "_" for c in name)
    stem = Path(base) / f"{moment:%Y%m%dT%H%M%SZ}-{slug}"
    folder, number = stem, 1
    while folder.exists():
        number += 1
        folder = stem.with_name(f"{stem.name}-{number}")
    return str(folder)
