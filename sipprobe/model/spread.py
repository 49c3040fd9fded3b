"""How a figure spreads over many calls: min, median, 95th percentile, max."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Spread:
    count: int  # calls that had the figure
    min: float
    median: float
    p95: float
    max: float


def _nearest_rank(ordered: list[float], fraction: float) -> float:
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def spread(values: Iterable[float | None]) -> Spread | None:
    """The spread of the values that are there (None and NaN left out); None without any.
    Percentiles by nearest rank: each is a value some call really had."""
    ordered = sorted(v for v in values if v is not None and math.isfinite(v))
    if not ordered:
        return None
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0
    return Spread(len(ordered), ordered[0], median, _nearest_rank(ordered, 0.95), ordered[-1])
