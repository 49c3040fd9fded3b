"""``sipprobe history`` output: the trend table (text) and the same runs as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from sipprobe.history.figures import RunRecord
from sipprobe.model.results import ExitCode


def worst_figure(
    run: RunRecord, field: str, pick: Callable[[list[float]], float] = max
) -> float | None:
    """The worst value of ``field`` over the run's calls (``pick=min`` for MOS)."""
    values = [float(v) for call in run.calls if (v := getattr(call, field)) is not None]
    return pick(values) if values else None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f} s"


def _number(value: float | None, unit: str, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _notes(run: RunRecord) -> str:
    notes = sorted(set(run.finding_codes))
    if run.baseline_status == "insufficient-history":
        notes.append("(no baseline yet)")
    return ", ".join(notes)


def _row(run: RunRecord) -> tuple[str, ...]:
    return (
        run.started_at[:19].replace("T", " "),
        run.scenario,
        run.target,
        f"{run.exit_code} {ExitCode(run.exit_code).name}",
        run.messaging,
        run.media,
        _seconds(worst_figure(run, "pdd_ms")),
        _seconds(worst_figure(run, "answer_ms")),
        _number(worst_figure(run, "rx_loss_pct"), "%", 2),
        _number(worst_figure(run, "rx_jitter_mean_ms"), " ms", 1),
        _number(worst_figure(run, "mos_lq", min), "", 2),
        _notes(run),
    )


_HEADER = (
    "started (UTC)",
    "scenario",
    "target",
    "exit",
    "messaging",
    "media",
    "PDD",
    "answer",
    "rx loss",
    "jitter",
    "MOS-LQ",
    "findings",
)


def render_trend_text(runs: Sequence[RunRecord]) -> str:
    """One line per run (the worst call's figures), oldest first, and a count by exit code."""
    if not runs:
        return "no runs in the history match\n"
    rows = [_HEADER, *(_row(run) for run in runs)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    counts = Counter(ExitCode(run.exit_code).name for run in runs)
    tally = ", ".join(f"{name} {counts[name]}" for name in ExitCode.__members__ if counts[name])
    lines += ["", f"{len(runs)} run{'s' if len(runs) != 1 else ''}: {tally}"]
    return "\n".join(lines) + "\n"


def render_trend_json(runs: Sequence[RunRecord], filters: dict[str, Any]) -> str:
    data = {
        "filters": filters,
        "runs": [
            {
                "run_id": run.run_id,
                "scenario": run.scenario,
                "target": run.target,
                "service": run.service,
                "transport": run.transport,
                "started_at": run.started_at,
                "duration_s": run.duration_s,
                "messaging": run.messaging,
                "media": run.media,
                "exit_code": run.exit_code,
                "baseline_status": run.baseline_status,
                "findings": list(run.finding_codes),
                "calls": [asdict(call) for call in run.calls],
            }
            for run in runs
        ],
    }
    return json.dumps(data, indent=2) + "\n"
