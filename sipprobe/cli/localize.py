"""``sipprobe localize``: reports of one target from several locations -> the segment at fault.

Building the parser stays cheap: the reading, the comparison and the history store are
imported when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sipprobe.errors import UsageError


def add_localize_parser(commands: Any) -> None:
    localize = commands.add_parser(
        "localize",
        help="compare runs of one target from several locations: which segment is at fault",
    )
    localize.add_argument(
        "reports",
        nargs="+",
        metavar="REPORT_OR_BUNDLE",
        help="report.json files, or evidence bundle folders holding one",
    )
    localize.add_argument("--format", choices=("text", "json"), default="text")
    localize.add_argument(
        "--max-apart",
        default="15m",
        metavar="DURATION",
        help="refuse runs started further apart than this (default 15m)",
    )
    localize.add_argument(
        "--against-history",
        action="store_true",
        help="add the latest run of the same target from another location in the history",
    )
    localize.add_argument(
        "--history", metavar="PATH", help="the history file (default: as for run)"
    )


def run_localize_command(args: argparse.Namespace) -> int:
    from sipprobe.report.localize import (
        read_vantage,
        render_localization_json,
        render_localization_text,
    )
    from sipprobe.run.schedule import parse_duration
    from sipprobe.verdict.localize import localize

    max_apart_s = parse_duration(args.max_apart, "--max-apart")
    runs = [read_vantage(path) for path in args.reports]
    if args.against_history:
        runs.append(_from_history(args, runs))
    elif args.history:
        raise UsageError("--history is read only with --against-history")
    result = localize(runs, max_apart_s)
    render = render_localization_json if args.format == "json" else render_localization_text
    sys.stdout.write(render(result))
    return int(result.exit_code)


def _from_history(args: argparse.Namespace, runs: list[Any]) -> Any:
    from sipprobe.errors import SetupError
    from sipprobe.history.store import HistoryStore, default_history_path

    path = Path(args.history) if args.history else default_history_path()
    if not path.exists():
        raise SetupError(f"no history at {path}: --against-history needs recorded runs")
    target = runs[0].target
    with HistoryStore.open(path) as store:
        found = store.latest_elsewhere(target, {run.location.value for run in runs})
    if found is None:
        raise UsageError(
            f"history {path} holds no run of {target} from a location other than "
            f"{', '.join(sorted({run.location.value for run in runs}))}"
        )
    return found
