"""The simulated fixed de-jitter buffer: which packets are discarded as too late."""

from __future__ import annotations

import numpy as np

from sipprobe.analysis.dejitter import discarded_numbers, late_packets


def _regular(count: int = 50) -> tuple[np.ndarray, np.ndarray]:
    arrival = 1.7e9 + np.arange(count) * 0.020
    return arrival, (np.arange(count) * 160).astype(np.uint32)


def test_late_packets_only_beyond_the_depth() -> None:
    arrival, rtp_ts = _regular()
    arrival[10] += 0.059
    arrival[20] += 0.061
    late = late_packets(arrival, rtp_ts, 8000, 60.0)
    assert np.flatnonzero(late).tolist() == [20]


def test_late_packets_reference_is_the_smallest_transit_so_far() -> None:
    arrival, rtp_ts = _regular()
    arrival[5] -= 0.030  # an early packet lowers the reference for everything after it
    arrival[30] += 0.035
    assert np.flatnonzero(late_packets(arrival, rtp_ts, 8000, 60.0)).tolist() == [30]
    # Before the early packet, the same delay is absorbed.
    arrival, rtp_ts = _regular()
    arrival[3] += 0.035
    arrival[5] -= 0.030
    assert not late_packets(arrival, rtp_ts, 8000, 60.0).any()


def test_late_packets_across_timestamp_wrap() -> None:
    arrival, _ = _regular()
    rtp_ts = ((2**32 - 160 * 25 + np.arange(50) * 160) % 2**32).astype(np.uint32)
    arrival[40] += 0.1
    assert np.flatnonzero(late_packets(arrival, rtp_ts, 8000, 60.0)).tolist() == [40]


def test_late_packets_zero_depth_discards_any_delay() -> None:
    arrival, rtp_ts = _regular(5)
    arrival[2] += 0.001
    assert late_packets(arrival, rtp_ts, 8000, 0.0).tolist() == [False, False, True, False, False]


def test_discarded_numbers_ignore_late_copies_of_played_packets() -> None:
    extended = np.array([1, 2, 3, 2, 4, 5, 5], dtype=np.int64)
    late = np.array([False, False, True, True, False, True, True])
    assert discarded_numbers(extended, late).tolist() == [3, 5]
    assert discarded_numbers(extended, np.zeros(7, bool)).tolist() == []
