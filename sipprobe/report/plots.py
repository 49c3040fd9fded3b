"""Plots for the HTML report, drawn with matplotlib and handed over as PNG bytes.

``report_plots`` draws every plot the report's data supports. Today that is the signalling
timing of each call; the per-stream plots (jitter and loss over time, round-trip histogram)
join it once calls carry per-stream time series. matplotlib's object API is used directly
(no pyplot), so no global figure state and no GUI backend is involved.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from sipprobe.models import RunReport

_PHASES = (
    ("100 Trying", "trying_ms", "#9e9e9e"),
    ("post-dial delay (18x)", "pdd_ms", "#1f4e79"),
    ("answer (200)", "answer_ms", "#2e7d32"),
    ("BYE answered", "bye_ms", "#8a6d00"),
)


@dataclass(frozen=True, slots=True)
class Plot:
    title: str
    caption: str
    png: bytes


def _call_timings(report: RunReport) -> Plot | None:
    calls = [c for c in report.calls if any(getattr(c, p[1]) is not None for p in _PHASES)]
    if not calls:
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 1.2 + 0.9 * len(calls)), dpi=96, layout="constrained")
    axes = figure.subplots()
    height = 0.8 / len(_PHASES)
    for number, (name, attribute, colour) in enumerate(_PHASES):
        rows = [
            (index - 0.4 + height * (number + 0.5), getattr(call, attribute))
            for index, call in enumerate(calls)
            if getattr(call, attribute) is not None
        ]
        if not rows:
            continue
        bars = axes.barh(
            [row for row, _ in rows],
            [value for _, value in rows],
            height=height * 0.9,
            color=colour,
            label=name,
        )
        axes.bar_label(bars, labels=[f"{value:.0f} ms" for _, value in rows], padding=3)
    axes.set_yticks(range(len(calls)), [f"call {i + 1}" for i in range(len(calls))])
    axes.invert_yaxis()
    axes.set_xlabel("milliseconds after the first INVITE (BYE: after the BYE)")
    axes.margins(x=0.25)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    limits = report.thresholds
    return Plot(
        title="Call signalling timing",
        caption=(
            f"Post-dial delay is good below {limits.pdd_degraded_ms / 1000:g} s and bad from "
            f"{limits.pdd_bad_ms / 1000:g} s."
        ),
        png=buffer.getvalue(),
    )


def report_plots(report: RunReport) -> tuple[Plot, ...]:
    """Every plot the report's data supports, in the order the report shows them."""
    return tuple(plot for plot in (_call_timings(report),) if plot is not None)
