"""Where good ends and degraded or bad begin (docs/measurement.md, "Thresholds").

A scenario may override any of them (``thresholds:`` in its YAML); the verdict, the nagios
warn/crit levels and the HTML report all use the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sipprobe.model.outcome import Quality

Metric = Literal["loss", "jitter", "delay", "pdd", "mos"]

# (degraded, bad) pairs of the metrics where a higher value is worse
_HIGHER_IS_WORSE = (
    ("loss_degraded_pct", "loss_bad_pct"),
    ("jitter_degraded_ms", "jitter_bad_ms"),
    ("delay_degraded_ms", "delay_bad_ms"),
    ("pdd_degraded_ms", "pdd_bad_ms"),
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A value at or beyond ``*_degraded`` is degraded; at or beyond ``*_bad`` it is bad."""

    loss_degraded_pct: float = 1.0
    loss_bad_pct: float = 3.0
    jitter_degraded_ms: float = 30.0
    jitter_bad_ms: float = 50.0
    delay_degraded_ms: float = 150.0
    delay_bad_ms: float = 400.0
    pdd_degraded_ms: float = 3000.0
    pdd_bad_ms: float = 6000.0
    mos_degraded: float = 4.0  # below this is degraded
    mos_bad: float = 3.6  # below this is bad

    def __post_init__(self) -> None:
        for degraded, bad in _HIGHER_IS_WORSE:
            low, high = getattr(self, degraded), getattr(self, bad)
            if low > high:
                raise ValueError(
                    f"{degraded} ({low:g}) is above {bad} ({high:g}); degraded must come first"
                )
        if self.mos_degraded < self.mos_bad:
            raise ValueError(
                f"mos_degraded ({self.mos_degraded:g}) is below mos_bad ({self.mos_bad:g}); "
                "a lower MOS is worse, so degraded must be the higher value"
            )

    def limits(self, metric: Metric) -> tuple[float, float]:
        """The (degraded, bad) limits of ``metric``: loss in %, jitter, delay and post-dial
        delay in ms, MOS-LQ/CQ as a score (lower is worse)."""
        if metric == "loss":
            return self.loss_degraded_pct, self.loss_bad_pct
        if metric == "jitter":
            return self.jitter_degraded_ms, self.jitter_bad_ms
        if metric == "delay":
            return self.delay_degraded_ms, self.delay_bad_ms
        if metric == "pdd":
            return self.pdd_degraded_ms, self.pdd_bad_ms
        return self.mos_degraded, self.mos_bad

    def grade(self, metric: Metric, value: float | None) -> Quality:
        """``value`` against the limits of ``metric``: at or beyond ``*_bad`` is bad, at or
        beyond ``*_degraded`` degraded (for MOS: below), else good; ``None`` is unknown.

        The one place a figure is graded: ``sipprobe analyze``'s stream verdicts, the run's
        media and signalling findings and the report formats all ask here
        (docs/measurement.md, "Thresholds")."""
        if value is None:
            return Quality.UNKNOWN
        degraded, bad = self.limits(metric)
        if metric == "mos":
            worse_than_bad, worse_than_degraded = value < bad, value < degraded
        else:
            worse_than_bad, worse_than_degraded = value >= bad, value >= degraded
        if worse_than_bad:
            return Quality.BAD
        return Quality.DEGRADED if worse_than_degraded else Quality.GOOD


def threshold_range(name: str) -> tuple[float, float]:
    """The values a scenario may give ``name``: a percentage, milliseconds, or a MOS."""
    if name.endswith("_pct"):
        return 0.0, 100.0
    if name.endswith("_ms"):
        return 0.0, 600_000.0
    return 1.0, 5.0
