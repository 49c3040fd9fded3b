"""Burst/gap metrics (RFC 3611 4.7.2, Gmin 16) and the Gilbert BurstR on known patterns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipprobe.analysis.bursts import BurstMetrics, burst_metrics

GMIN = 16


def _metrics(pattern: str, interval_ms: float | None = 20.0, lowest: int = 1000) -> BurstMetrics:
    """Pattern: '.' played in time, 'x' lost or discarded, one character per number."""
    played = np.array([lowest + i for i, c in enumerate(pattern) if c == "."], dtype=np.int64)
    return burst_metrics(played, lowest, lowest + len(pattern) - 1, interval_ms)


def reference_bursts(pattern: str, interval_ms: float) -> BurstMetrics:
    """The RFC 3611 definitions walked packet by packet."""
    groups: list[list[int]] = []
    received_since_loss = GMIN
    for i, c in enumerate(pattern):
        if c == ".":
            received_since_loss += 1
            continue
        if received_since_loss >= GMIN or not groups:
            groups.append([])
        groups[-1].append(i)
        received_since_loss = 0
    bursts = [(g[0], g[-1], len(g)) for g in groups if len(g) >= 2]
    in_burst = [False] * len(pattern)
    for first, last, _ in bursts:
        for i in range(first, last + 1):
            in_burst[i] = True
    burst_packets = sum(in_burst)
    burst_losses = sum(n for _, _, n in bursts)
    gap_packets = len(pattern) - burst_packets
    gap_losses = pattern.count("x") - burst_losses
    gaps = sum(1 for i in range(len(pattern)) if not in_burst[i] and (i == 0 or in_burst[i - 1]))
    # Gilbert: transitions between consecutive numbers.
    pairs = list(itertools.pairwise(pattern))
    from_received = sum(1 for a, _ in pairs if a == ".")
    from_lost = sum(1 for a, _ in pairs if a == "x")
    p = sum(1 for a, b in pairs if a == "." and b == "x") / from_received if from_received else 0
    q = sum(1 for a, b in pairs if a == "x" and b == ".") / from_lost if from_lost else 1
    burst_r = 1.0 if "x" not in pattern or p + q == 0 else max(1.0, 1 / (p + q))
    return BurstMetrics(
        bursts=len(bursts),
        burst_density=burst_losses / burst_packets if burst_packets else 0.0,
        gap_density=gap_losses / gap_packets if gap_packets else 0.0,
        burst_mean_ms=burst_packets * interval_ms / len(bursts) if bursts else 0.0,
        gap_mean_ms=gap_packets * interval_ms / gaps if gaps else 0.0,
        burst_r=burst_r,
    )


def test_burst_metrics_loss_free_stream_has_zero_burst_density() -> None:
    metrics = _metrics("." * 100)
    assert metrics == BurstMetrics(0, 0.0, 0.0, 0.0, 2000.0, 1.0)


def test_burst_metrics_isolated_loss_is_a_gap_loss() -> None:
    metrics = _metrics("." * 50 + "x" + "." * 49)
    assert metrics.bursts == 0
    assert metrics.gap_density == pytest.approx(1 / 100)
    assert metrics.gap_mean_ms == 2000.0
    assert metrics.burst_r == 1.0


def test_burst_metrics_one_burst_in_the_middle() -> None:
    pattern = "." * 40 + "x.x..x" + "." * 54
    metrics = _metrics(pattern)
    assert metrics.bursts == 1
    assert metrics.burst_density == pytest.approx(3 / 6)
    assert metrics.gap_density == 0.0
    assert metrics.burst_mean_ms == pytest.approx(6 * 20.0)
    assert metrics.gap_mean_ms == pytest.approx(94 * 20.0 / 2)


def test_burst_metrics_gmin_received_packets_split_bursts() -> None:
    split = _metrics("." * 20 + "xx" + "." * GMIN + "xx" + "." * 20)
    joined = _metrics("." * 20 + "xx" + "." * (GMIN - 1) + "xx" + "." * 20)
    assert split.bursts == 2
    assert split.burst_density == 1.0
    assert joined.bursts == 1
    assert joined.burst_density == pytest.approx(4 / (GMIN + 3))


def test_burst_metrics_burst_at_both_ends_leaves_one_gap() -> None:
    metrics = _metrics("xx" + "." * 30 + "xx")
    assert metrics.bursts == 2
    assert metrics.gap_mean_ms == pytest.approx(30 * 20.0)
    assert metrics.burst_mean_ms == pytest.approx(2 * 20.0)


def test_burst_metrics_gilbert_burst_r_of_regular_pairs() -> None:
    # "xx" after every 18 received: p = 1/18 per received->next, q = 1/2 -> BurstR 1/(1/18+1/2)
    pattern = ("." * 18 + "xx") * 50 + "."
    metrics = _metrics(pattern)
    from_received = 18 * 50 + 1 - 1
    p = 50 / from_received
    q = 50 / 100
    assert metrics.burst_r == pytest.approx(1 / (p + q))
    assert metrics.burst_r > 1.0


def test_burst_metrics_random_loss_clamps_burst_r_to_one() -> None:
    metrics = _metrics(("." * 9 + "x") * 100 + ".")
    assert metrics.burst_r == 1.0


def test_burst_metrics_unknown_interval_gives_no_durations() -> None:
    metrics = _metrics("." * 10 + "xx" + "." * 10, interval_ms=None)
    assert (metrics.burst_mean_ms, metrics.gap_mean_ms) == (None, None)
    assert metrics.bursts == 1


def test_burst_metrics_nothing_played() -> None:
    metrics = _metrics("xxxx")
    assert (metrics.bursts, metrics.burst_density, metrics.gap_mean_ms) == (1, 1.0, 0.0)
    assert metrics.burst_r == 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=".x", min_size=1, max_size=400))
def test_burst_metrics_equal_packet_by_packet_definition(pattern: str) -> None:
    got = _metrics(pattern)
    want = reference_bursts(pattern, 20.0)
    assert got.bursts == want.bursts
    for field in ("burst_density", "gap_density", "burst_mean_ms", "gap_mean_ms", "burst_r"):
        assert getattr(got, field) == pytest.approx(getattr(want, field)), field
