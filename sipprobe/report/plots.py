"""Plots for the HTML report, drawn with matplotlib and handed over as PNG bytes.

``report_plots`` draws every plot the report's data supports: the signalling timing of each
call, and jitter and loss second by second of every captured stream. (A round-trip histogram
needs one RTT per RTCP report; the streams carry only the last one so far.) matplotlib's
object API is used directly (no pyplot), so no global figure state and no GUI backend.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sipprobe.model.media import CallStream
from sipprobe.model.results import RunReport

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
    limits = report.thresholds
    return Plot(
        title="Call signalling timing",
        caption=(
            f"Post-dial delay is good below {limits.pdd_degraded_ms / 1000:g} s and bad from "
            f"{limits.pdd_bad_ms / 1000:g} s."
        ),
        png=_png(figure),
    )


def _per_second(stream: CallStream) -> tuple[list[float], list[float], list[float]]:
    """Seconds, jitter (ms) and loss (%) of a stream's per-second timeline."""
    rows = [row for row in stream.measured.metrics.timeline if row.expected]
    seconds = [float(row.second) for row in rows]
    jitter = [float(row.jitter_ms or 0.0) for row in rows]
    loss = [100.0 * float(row.lost) / float(row.expected) for row in rows]
    return seconds, jitter, loss


def _media_over_time(report: RunReport) -> Plot | None:
    series = [
        (f"call {number} {stream.direction}", _per_second(stream))
        for number, call in enumerate(report.calls, 1)
        for stream in call.streams
        if len(stream.measured.metrics.timeline)
    ]
    if not series:
        return None
    figure = Figure(figsize=(8, 4.2), dpi=96, layout="constrained")
    jitter_axes, loss_axes = figure.subplots(2, 1, sharex=True)
    for label, (seconds, jitter, loss) in series:
        jitter_axes.plot(seconds, jitter, marker=".", label=label)
        loss_axes.plot(seconds, loss, marker=".", label=label)
    jitter_axes.set_ylabel("jitter (ms)")
    loss_axes.set_ylabel("loss (%)")
    loss_axes.set_xlabel("second of the stream")
    loss_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    jitter_axes.set_ylim(bottom=0)
    loss_axes.set_ylim(bottom=0)
    jitter_axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    limits = report.thresholds
    return Plot(
        title="Media second by second",
        caption=(
            "Jitter and loss of each captured stream, second by second (rx: to the probe, tx: "
            f"from it). Good below {limits.jitter_degraded_ms:g} ms of jitter and "
            f"{limits.loss_degraded_pct:g} % of loss over the call."
        ),
        png=_png(figure),
    )


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def report_plots(report: RunReport) -> tuple[Plot, ...]:
    """Every plot the report's data supports, in the order the report shows them."""
    plots = (_call_timings(report), _media_over_time(report))
    return tuple(plot for plot in plots if plot is not None)
