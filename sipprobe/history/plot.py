"""``sipprobe history --plot FILE``: MOS, loss, jitter and post-dial delay over time, as PNG.

matplotlib's object API with the Agg canvas: no pyplot, so no global figure registry, no
display and no GUI backend, whatever the environment says.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sipprobe.atomic import atomic_file
from sipprobe.errors import SetupError
from sipprobe.history.figures import RunRecord
from sipprobe.history.trend import worst_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# (field, axis title, scale from the stored unit, pick the worst with)
_PANELS = (
    ("mos_lq", "MOS-LQ", 1.0, min),
    ("rx_loss_pct", "rx loss (%)", 1.0, max),
    ("rx_jitter_mean_ms", "rx jitter, mean (ms)", 1.0, max),
    ("pdd_ms", "post-dial delay (s)", 0.001, max),
)


def render_plot(runs: Sequence[RunRecord], path: Path) -> None:
    """Write the chart of ``runs`` (one line per scenario and target) to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    series: dict[str, list[RunRecord]] = defaultdict(list)
    for run in runs:
        series[f"{run.scenario} -> {run.target}"].append(run)
    figure = Figure(figsize=(10, 9), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(_PANELS), 1, sharex=True)
    legend: dict[str, Any] = {}
    for axis, (field, title, scale, pick) in zip(axes, _PANELS, strict=True):
        plotted = False
        for number, (label, members) in enumerate(series.items()):
            color = f"C{number % 10}"  # the same colour for a series in every panel
            points = [
                (dt.datetime.fromtimestamp(run.started_unix, dt.UTC), value * scale, run)
                for run in members
                if (value := worst_figure(run, field, pick)) is not None
            ]
            if not points:
                continue
            plotted = True
            (line,) = axis.plot(
                [time for time, _, _ in points],
                [value for _, value, _ in points],
                marker=".",
                color=color,
            )
            legend.setdefault(label, line)
            flagged = [(time, value) for time, value, run in points if run.exit_code != 0]
            axis.plot(
                [time for time, _ in flagged],
                [value for _, value in flagged],
                linestyle="none",
                marker="x",
                markersize=8,
                color=color,
            )
        axis.set_ylabel(title)
        axis.grid(True, alpha=0.3)
        if not plotted:
            axis.text(0.5, 0.5, "not measured", transform=axis.transAxes, ha="center")
    axes[-1].set_xlabel("run start (UTC); x: run not OK")
    if legend:
        figure.legend(list(legend.values()), list(legend), loc="outside lower center")
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    figure.suptitle(f"sipprobe history: {len(runs)} runs")
    _save_atomically(figure, path)


def _save_atomically(figure: Figure, path: Path) -> None:
    """Save via a temporary file and a rename, so a failure leaves no half-written chart."""
    try:
        with atomic_file(path) as stream:
            figure.savefig(stream, format="png", dpi=100)
    except OSError as exc:
        raise SetupError(f"cannot write the chart {path}: {exc.strerror or exc}") from exc
