"""A stream second by second: expected and lost packets and peak jitter, as arrays."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sipprobe.model.media import TimelinePoint

__all__ = ["Timeline", "TimelinePoint", "build_timeline", "seconds_of"]

# A timeline longer than this (11 days) comes from broken capture timestamps, not a call.
_MAX_TIMELINE_SECONDS = 1_000_000


@dataclass(frozen=True, slots=True, eq=False)
class Timeline:
    """The stream second by second, counted from its first packet, as read-only arrays.

    Loss is attributed to the second in which the highest sequence number passed the missing
    numbers; ``jitter_ms`` is the largest J reached in that second (NaN when no counted
    audio packet arrived or the clock rate is unknown). Arrays, not an object per second: an
    hour-long call has 3,600 seconds. Indexing and iteration give ``TimelinePoint``s.
    """

    expected: NDArray[np.int64]
    lost: NDArray[np.int64]
    jitter_ms: NDArray[np.float64]

    def __post_init__(self) -> None:
        for column in (self.expected, self.lost, self.jitter_ms):
            column.flags.writeable = False

    def __len__(self) -> int:
        return int(self.expected.size)

    def __getitem__(self, second: int) -> TimelinePoint:
        second = range(len(self))[second]
        jitter_ms = float(self.jitter_ms[second])
        return TimelinePoint(
            second,
            int(self.expected[second]),
            int(self.lost[second]),
            None if math.isnan(jitter_ms) else jitter_ms,
        )

    def __iter__(self) -> Iterator[TimelinePoint]:
        return (self[second] for second in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Timeline):
            return NotImplemented
        return (
            np.array_equal(self.expected, other.expected)
            and np.array_equal(self.lost, other.lost)
            and np.array_equal(self.jitter_ms, other.jitter_ms, equal_nan=True)
        )

    def __hash__(self) -> int:
        return hash((self.expected.tobytes(), self.lost.tobytes()))

    def columns(self) -> tuple[list[int], list[int], list[float | None]]:
        """Expected, lost and peak jitter (None: no jitter) per second, as plain lists."""
        jitter = [v if math.isfinite(v) else None for v in self.jitter_ms.tolist()]
        return self.expected.tolist(), self.lost.tolist(), jitter


def seconds_of(arrival_s: NDArray[np.float64]) -> NDArray[np.int64]:
    """The second of the stream each packet arrived in (one before the first counts as 0)."""
    since_first = arrival_s - arrival_s[0]
    np.floor(since_first, out=since_first)
    np.maximum(since_first, 0, out=since_first)
    seconds: NDArray[np.int64] = since_first.astype(np.int64)
    return seconds


def build_timeline(
    *,
    seconds: NDArray[np.int64],
    accepted: slice | NDArray[np.bool_],
    numbers: NDArray[np.int64],
    unique: NDArray[np.int64],
    lowest: int,
    jitter_peaks: tuple[NDArray[np.int64], NDArray[np.float64]] | None,
) -> Timeline:
    """Per second: numbers the highest number passed, how many never came, peak jitter.

    ``numbers`` are those of the ``accepted`` packets, ``jitter_peaks`` the second and the
    J in ms of each counted audio packet. Empty when the arrival times span more than
    ``_MAX_TIMELINE_SECONDS``, or far more seconds than the stream has packets: one corrupt
    timestamp would otherwise ask for up to a million points (seconds of work and a huge
    report) for a handful of packets.
    """
    count = int(seconds.max()) + 1
    if count > min(_MAX_TIMELINE_SECONDS, 10 * len(seconds) + 60):
        empty = np.zeros(0, dtype=np.int64)
        return Timeline(empty, empty.copy(), np.zeros(0))
    highest_in = np.full(count, np.iinfo(np.int64).min)
    np.maximum.at(highest_in, seconds[accepted], numbers)
    highest_by_end = np.maximum.accumulate(highest_in)
    before = np.concatenate(([lowest - 1], highest_by_end[:-1]))
    received_up_to = np.searchsorted(unique, highest_by_end, side="right")
    received = np.diff(received_up_to, prepend=0)
    expected = highest_by_end - before
    peak = np.full(count, -np.inf)
    if jitter_peaks is not None:
        np.maximum.at(peak, *jitter_peaks)
    peak[peak == -np.inf] = np.nan
    return Timeline(expected, expected - received, peak)
