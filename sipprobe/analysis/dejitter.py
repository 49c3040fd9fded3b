"""A simulated fixed de-jitter buffer: which packets arrive too late to be played.

A packet that misses its playout time is as bad as a lost one for the listener, so the
E-model's Ppl counts both. The buffer is fixed (docs/measurement.md): its reference is the smallest
transit time (arrival minus media time) seen so far, and a packet whose transit exceeds that
reference by more than the depth misses its slot. Transit is taken relative to the first
packet, which keeps float64 precise to well under a microsecond for epoch timestamps.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.jitter import unwrap_timestamps


def late_packets(
    arrival_s: NDArray[np.float64],
    rtp_ts: NDArray[np.uint32],
    clock_rate: int,
    depth_ms: float,
) -> NDArray[np.bool_]:
    """Mark the packets (arrival order) that arrive after a ``depth_ms`` buffer plays them."""
    if np.asarray(arrival_s).size == 0:
        return np.zeros(0, dtype=np.bool_)
    media_s = (unwrap_timestamps(rtp_ts) - int(rtp_ts[0])) / clock_rate
    transit_s = (arrival_s - arrival_s[0]) - media_s
    depth_s = depth_ms / 1000.0
    # No transit exceeds the smallest one before it by more than the spread of all of them
    # (rounding is monotonic, so neither does the computed difference): when the spread fits
    # in the buffer, as it usually does, the running minimum is not needed.
    if transit_s.max() - transit_s.min() <= depth_s:
        return np.zeros(transit_s.size, dtype=np.bool_)
    late: NDArray[np.bool_] = transit_s - np.minimum.accumulate(transit_s) > depth_s
    return late


def discarded_numbers(extended: NDArray[np.int64], late: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Sorted extended numbers of which every copy arrived late.

    A late duplicate of a packet that was played in time costs nothing, so discards count
    sequence numbers, not packets.
    """
    if not late.any():
        return np.zeros(0, dtype=np.int64)
    late_numbers = np.unique(extended[late])
    return late_numbers[~np.isin(late_numbers, extended[~late])]
