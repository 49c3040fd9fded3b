"""History on the command line: the options every probing command takes, and ``history``.

Building the parser must stay cheap (``--help``, ``analyze``): the history machinery and its
SQLite store are imported by the functions that run, not at the top.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sipprobe.errors import SetupError, UsageError
from sipprobe.history.window import DEFAULT_WINDOW, MINIMUM_RUNS
from sipprobe.model.outcome import ExitCode

if TYPE_CHECKING:
    from sipprobe.history.recording import HistorySettings


def add_history_options(parser: argparse.ArgumentParser) -> None:
    """``--history PATH``, ``--no-history`` and ``--baseline-runs N`` for a probing command."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--history",
        metavar="PATH",
        help="record the run in this SQLite file and compare it with its baseline (default: "
        "$XDG_DATA_HOME/sipprobe/history.sqlite3)",
    )
    group.add_argument(
        "--no-history", action="store_true", help="neither record the run nor compare it"
    )
    parser.add_argument(
        "--baseline-runs",
        type=int,
        default=DEFAULT_WINDOW,
        metavar="N",
        help=f"baseline: the last N good runs of the same scenario and target (default "
        f"{DEFAULT_WINDOW}, at least {MINIMUM_RUNS})",
    )


def history_settings(args: argparse.Namespace) -> HistorySettings:
    from sipprobe.history.recording import HistorySettings
    from sipprobe.history.store import default_history_path

    if args.baseline_runs < MINIMUM_RUNS:
        raise UsageError(f"--baseline-runs must be at least {MINIMUM_RUNS}")
    if args.no_history:
        return HistorySettings(None)
    path = Path(args.history) if args.history else default_history_path()
    return HistorySettings(path, window=args.baseline_runs)


def add_history_parser(commands: Any) -> None:
    history = commands.add_parser("history", help="trend of recorded runs; --plot for a chart")
    history.add_argument("--scenario", help="only runs of this scenario (its name)")
    history.add_argument("--target", metavar="URI", help="only runs against this target")
    history.add_argument(
        "--since", metavar="DURATION", help="only runs started within DURATION (7d, 12h, 30m)"
    )
    history.add_argument("--format", choices=("text", "json"), default="text")
    history.add_argument("--plot", metavar="FILE", help="also draw MOS, loss, jitter and PDD")
    history.add_argument("--history", metavar="PATH", help="the history file (default: as for run)")


def run_history_command(args: argparse.Namespace, clock: Callable[[], float] = time.time) -> int:
    from sipprobe.history.store import HistoryStore, default_history_path
    from sipprobe.history.trend import render_trend_json, render_trend_text
    from sipprobe.run.schedule import parse_duration
    from sipprobe.sip.uri import parse_uri

    since_s = parse_duration(args.since, "--since") if args.since else None
    path = Path(args.history) if args.history else default_history_path()
    if not path.exists():
        raise SetupError(
            f"no history at {path} yet: runs record there unless --no-history is given"
        )
    target = str(parse_uri(args.target)) if args.target else None
    with HistoryStore.open(path) as store:
        runs = store.runs(
            scenario=args.scenario,
            target=target,
            since_unix=None if since_s is None else clock() - since_s,
        )
    if args.plot:
        from sipprobe.history.plot import render_plot

        render_plot(runs, Path(args.plot))
    if args.format == "json":
        filters = {"scenario": args.scenario, "target": args.target, "since": args.since}
        sys.stdout.write(render_trend_json(runs, filters))
    else:
        sys.stdout.write(render_trend_text(runs))
    return int(ExitCode.OK)
