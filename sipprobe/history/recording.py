"""After a run: compare it with its baseline, merge any regression into the verdict, record it.

History is a help, never a reason to lose a report: when the store cannot be opened, read or
written, the run's report goes out all the same and one ``warning:`` line says why.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sipprobe.errors import SetupError
from sipprobe.history.baseline import compare
from sipprobe.history.store import HistoryStore
from sipprobe.history.window import DEFAULT_WINDOW, MINIMUM_RUNS
from sipprobe.model.results import Baseline, RunReport
from sipprobe.verdict.policy import with_findings

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class HistorySettings:
    path: Path | None  # None: keep no history (--no-history)
    window: int = DEFAULT_WINDOW
    minimum: int = MINIMUM_RUNS


def check_and_record(report: RunReport, settings: HistorySettings, warn: Warn) -> RunReport:
    """``report`` compared with its baseline (findings merged), after recording it."""
    if settings.path is None:
        return report
    try:
        store = HistoryStore.open(settings.path)
    except SetupError as exc:
        warn(f"warning: run not recorded in history: {exc}")
        return replace(report, baseline=_unavailable(settings, str(exc)))
    with store:
        try:
            earlier = store.good_runs(
                report.scenario, report.target, settings.window, report.location.value
            )
        except sqlite3.Error as exc:
            warn(f"warning: cannot read history {settings.path}: {exc}")
            earlier = None
        if earlier is None:
            report = replace(report, baseline=_unavailable(settings, "history unreadable"))
        else:
            baseline, findings = compare(report, earlier, settings.window, settings.minimum)
            report = replace(
                report, verdict=with_findings(report.verdict, findings), baseline=baseline
            )
        try:
            store.record(report)
        except sqlite3.Error as exc:
            warn(f"warning: run not recorded in history {settings.path}: {exc}")
    return report


def _unavailable(settings: HistorySettings, why: str) -> Baseline:
    return Baseline("unavailable", 0, settings.window, settings.minimum, why)
