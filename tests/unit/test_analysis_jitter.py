"""Interarrival jitter against a straight per-packet RFC 3550 A.8 implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipprobe.analysis.jitter import (
    JitterMs,
    decay_filter,
    interarrival_jitter,
    summarise_jitter,
    timestamp_steps,
    unwrap_timestamps,
)


def reference_jitter(arrival_s: list[float], rtp_ts: list[int], clock_rate: int) -> list[float]:
    """RFC 3550 A.8, one packet at a time, with the 32-bit timestamp difference sign-extended."""
    jitter = 0.0
    values = [0.0]
    for i in range(1, len(arrival_s)):
        ts_step = (rtp_ts[i] - rtp_ts[i - 1]) % 2**32
        if ts_step >= 2**31:
            ts_step -= 2**32
        d = (arrival_s[i] - arrival_s[i - 1]) * clock_rate - ts_step
        jitter += (abs(d) - jitter) / 16.0
        values.append(jitter)
    return values


def _stream(
    count: int, spread_s: float, seed: int, first_ts: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrival = 1.7e9 + np.arange(count) * 0.02 + rng.uniform(0.0, spread_s, count)
    rtp_ts = ((first_ts + np.arange(count) * 160) % 2**32).astype(np.uint32)
    return arrival, rtp_ts


def test_interarrival_jitter_matches_reference_over_many_blocks() -> None:
    arrival, rtp_ts = _stream(5000, 0.01, seed=1)
    expected = reference_jitter(arrival.tolist(), rtp_ts.tolist(), 8000)
    np.testing.assert_allclose(interarrival_jitter(arrival, rtp_ts, 8000), expected, rtol=1e-9)


def test_interarrival_jitter_across_timestamp_wrap() -> None:
    arrival, rtp_ts = _stream(600, 0.005, seed=2, first_ts=2**32 - 160 * 300)
    assert rtp_ts[-1] < rtp_ts[0]
    expected = reference_jitter(arrival.tolist(), rtp_ts.tolist(), 8000)
    np.testing.assert_allclose(interarrival_jitter(arrival, rtp_ts, 8000), expected, rtol=1e-9)
    assert max(expected) < 0.01 * 8000


def test_interarrival_jitter_reordered_packets_follow_arrival_order() -> None:
    arrival = np.array([0.0, 0.02, 0.04, 0.06, 0.08])
    rtp_ts = np.array([0, 160, 480, 320, 640], dtype=np.uint32)
    expected = reference_jitter(arrival.tolist(), rtp_ts.tolist(), 8000)
    # |D| in samples: 0, 160, 320, 160 (the late packet shows twice, as RFC 3550 implies).
    assert expected[2] == pytest.approx(10.0)
    np.testing.assert_allclose(interarrival_jitter(arrival, rtp_ts, 8000), expected, rtol=1e-12)


def test_interarrival_jitter_of_perfect_stream_is_zero() -> None:
    arrival = np.arange(100) * 0.02
    rtp_ts = (np.arange(100) * 160).astype(np.uint32)
    assert np.abs(interarrival_jitter(arrival, rtp_ts, 8000)).max() < 1e-9


def test_interarrival_jitter_uniform_delay_tends_to_a_third() -> None:
    """docs/measurement.md sanity check: extra delay U(0, a) gives J near a/3."""
    a_s = 0.030
    arrival, rtp_ts = _stream(200_000, a_s, seed=3)
    jitter_ms = interarrival_jitter(arrival, rtp_ts, 8000) * 1000 / 8000
    assert jitter_ms[1000:].mean() == pytest.approx(a_s * 1000 / 3, rel=0.02)
    assert jitter_ms[-1] == pytest.approx(a_s * 1000 / 3, rel=0.25)


def test_interarrival_jitter_short_inputs() -> None:
    assert interarrival_jitter(np.zeros(0), np.zeros(0, np.uint32), 8000).tolist() == []
    assert interarrival_jitter(np.array([5.0]), np.array([7], np.uint32), 8000).tolist() == [0.0]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1e3), max_size=1500),
    st.sampled_from([0.5, 15 / 16, 0.999]),
)
def test_decay_filter_equals_the_recursion(x: list[float], decay: float) -> None:
    expected, y = [], 0.0
    for value in x:
        y = decay * y + value
        expected.append(y)
    np.testing.assert_allclose(decay_filter(np.array(x), decay), expected, rtol=1e-9, atol=1e-9)


def test_timestamp_steps_and_unwrap() -> None:
    rtp_ts = np.array([2**32 - 160, 0, 160, 0], dtype=np.uint32)
    assert timestamp_steps(rtp_ts).tolist() == [160, 160, -160]
    assert unwrap_timestamps(rtp_ts).tolist() == [2**32 - 160, 2**32, 2**32 + 160, 2**32]
    assert unwrap_timestamps(np.zeros(0, np.uint32)).tolist() == []


def test_summarise_jitter_counts_only_selected_packets() -> None:
    jitter_ts = np.array([0.0, 80.0, 800.0, 40.0])
    counted = np.array([False, True, False, True])
    assert summarise_jitter(jitter_ts, counted, 8000) == JitterMs(10.0, 7.5, 5.0)
    assert summarise_jitter(jitter_ts[:1], counted[:1], 8000) == JitterMs(0.0, 0.0, 0.0)
