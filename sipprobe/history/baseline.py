"""Rolling baselines: a run's figures against the same figures in earlier good runs.

For each call step and figure, the baseline is the median of that figure over the most
recent good runs (exit code 0) of the same scenario and target, and its spread the median
absolute deviation (MAD). ``1.4826 * MAD`` estimates the standard deviation of normally
distributed figures, robustly: one wild run in the window moves neither. A figure is a
regression when it is worse than ``median + max(3 * 1.4826 * MAD, floor)`` (``-`` for MOS,
where lower is worse). The floor keeps a perfectly steady history (MAD 0) from flagging
changes nobody would hear or notice, e.g. a post-dial delay 30 ms longer than usual.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sipprobe.history.figures import CallFigures, RunRecord, call_figures
from sipprobe.history.window import DEFAULT_WINDOW, MINIMUM_RUNS
from sipprobe.model.results import Baseline, BaselineFigure, Finding, RunReport, Severity, Side

MAD_TO_SIGMA = 1.4826
SIGMAS = 3.0


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.2f} s"


def _percent(value: float) -> str:
    return f"{value:.2f}%"


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _plain(value: float) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True, slots=True)
class Metric:
    """A figure baselines watch: where it lives, how it reads, which way is worse."""

    field: str  # a CallFigures attribute
    label: str
    area: Literal["messaging", "media"]
    floor: float  # the smallest worsening that counts, in the figure's unit
    lower_is_worse: bool
    render: Callable[[float], str]

    def value(self, figures: CallFigures) -> float | None:
        value = getattr(figures, self.field)
        return None if value is None else float(value)


METRICS = (
    Metric("pdd_ms", "post-dial delay", "messaging", 500.0, False, _seconds),
    Metric("answer_ms", "time to answer", "messaging", 500.0, False, _seconds),
    Metric("rx_loss_pct", "packet loss from the far end", "media", 0.5, False, _percent),
    Metric("rx_jitter_mean_ms", "mean jitter from the far end", "media", 10.0, False, _ms),
    Metric("mos_lq", "MOS-LQ", "media", 0.3, True, _plain),
)


@dataclass(frozen=True, slots=True)
class Spread:
    median: float
    mad: float


def spread(values: Sequence[float]) -> Spread:
    """Median and median absolute deviation of ``values`` (at least one)."""
    centre = statistics.median(values)
    return Spread(centre, statistics.median(abs(v - centre) for v in values))


def limit(metric: Metric, baseline: Spread) -> float:
    """The worst value of ``metric`` that is still no regression."""
    margin = max(SIGMAS * MAD_TO_SIGMA * baseline.mad, metric.floor)
    return baseline.median - margin if metric.lower_is_worse else baseline.median + margin


def is_worse(metric: Metric, value: float, bound: float) -> bool:
    return value < bound if metric.lower_is_worse else value > bound


def _history_of(step: int, metric: Metric, earlier: Sequence[RunRecord]) -> list[float]:
    values = []
    for run in earlier:
        for figures in run.calls:
            value = metric.value(figures)
            if figures.step_index == step and value is not None:
                values.append(value)
    return values


def compare(
    report: RunReport,
    earlier: Sequence[RunRecord],
    window: int = DEFAULT_WINDOW,
    minimum: int = MINIMUM_RUNS,
) -> tuple[Baseline, tuple[Finding, ...]]:
    """The baseline of ``report`` among ``earlier`` good runs, and a finding per regression.

    ``earlier`` are the most recent good runs of the same scenario and target, at most
    ``window`` of them; with fewer than ``minimum`` nothing is compared.
    """
    runs = len(earlier)
    if runs < minimum:
        reason = (
            f"{runs} earlier good run{'s' if runs != 1 else ''} of this scenario and target; "
            f"{minimum} are needed before a run is compared with a baseline"
        )
        return Baseline("insufficient-history", runs, window, minimum, reason), ()
    compared: list[BaselineFigure] = []
    findings: list[Finding] = []
    for figures in call_figures(report):
        step = report.steps[figures.step_index]
        for metric in METRICS:
            value = metric.value(figures)
            history = _history_of(figures.step_index, metric, earlier)
            if value is None or len(history) < minimum:
                continue
            baseline = spread(history)
            bound = limit(metric, baseline)
            regression = is_worse(metric, value, bound)
            compared.append(
                BaselineFigure(
                    step=figures.step_index,
                    metric=metric.field,
                    value=value,
                    median=baseline.median,
                    mad=baseline.mad,
                    limit=bound,
                    runs=len(history),
                    regression=regression,
                )
            )
            if regression:
                findings.append(
                    Finding(
                        Severity.WARNING,
                        Side.UNKNOWN,
                        metric.area,
                        "regression",
                        f"regression against baseline: {metric.label} {metric.render(value)} "
                        f"against a baseline of {metric.render(baseline.median)} (median of "
                        f"{len(history)} earlier good runs; worse than "
                        f"{metric.render(bound)} counts)",
                        step.index,
                        step.events,
                    )
                )
    reason = (
        f"compared with the last {runs} good runs of this scenario and target"
        if compared
        else "the run has no call figures to compare with its baseline"
    )
    return Baseline("compared", runs, window, minimum, reason, tuple(compared)), tuple(findings)
