"""Where good ends and degraded or bad begin (MEASUREMENT.md, "Default thresholds")."""

from __future__ import annotations

from dataclasses import dataclass


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
