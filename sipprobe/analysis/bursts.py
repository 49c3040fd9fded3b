"""Burst and gap metrics (RFC 3611 section 4.7.2) and the Gilbert BurstR of ITU-T G.107.

The loss pattern runs over the expected sequence numbers; a number is a *loss* when it never
arrived or every copy came too late for the de-jitter buffer (RFC 3611 counts both, and so
does the E-model's Ppl). Losses closer than ``Gmin`` received packets to each other belong to
the same group. A group of two or more losses is a burst, spanning from its first to its last
loss; everything else is gap. RFC 3611 describes gaps as the periods where "only isolated lost
packets may occur" and its Appendix A.2 counts a lone loss as a gap loss: otherwise the gap
density would always be zero.

Everything is computed from runs of consecutive numbers, so the cost grows with the number of
packets received, not with the span of sequence numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

GMIN = 16


@dataclass(frozen=True, slots=True)
class BurstMetrics:
    """Burst and gap metrics of one stream.

    Densities are fractions (0 to 1) of the packets in bursts or gaps that were lost or
    discarded; mean lengths are ``None`` when the packet interval is unknown.
    """

    bursts: int
    burst_density: float
    gap_density: float
    burst_mean_ms: float | None
    gap_mean_ms: float | None
    burst_r: float


def _loss_runs(
    played: NDArray[np.int64], lowest: int, highest: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start and length of each run of consecutive losses in ``[lowest, highest]``."""
    if played.size == 0:
        return np.array([lowest], dtype=np.int64), np.array([highest - lowest + 1])
    holes = np.diff(played) - 1
    inside = np.flatnonzero(holes > 0)
    starts = [played[inside] + 1]
    lengths = [holes[inside]]
    if played[0] > lowest:
        starts.insert(0, np.array([lowest]))
        lengths.insert(0, np.array([played[0] - lowest]))
    if played[-1] < highest:
        starts.append(np.array([played[-1] + 1]))
        lengths.append(np.array([highest - played[-1]]))
    return np.concatenate(starts).astype(np.int64), np.concatenate(lengths).astype(np.int64)


def gilbert_burst_r(
    run_starts: NDArray[np.int64], run_lengths: NDArray[np.int64], lowest: int, highest: int
) -> float:
    """BurstR = 1 / (p + q) of the two-state Markov model fitted to the loss runs.

    p = P(loss | previous received), q = P(received | previous loss), counted over the
    transitions between consecutive sequence numbers. Clamped to at least 1 (random loss);
    1 also where the pattern leaves p + q undefined.
    """
    losses = int(run_lengths.sum())
    if losses == 0:
        return 1.0
    total = highest - lowest + 1
    starts_with_loss = int(run_starts[0]) == lowest
    ends_with_loss = int(run_starts[-1] + run_lengths[-1] - 1) == highest
    from_received = (total - losses) - (0 if ends_with_loss else 1)
    from_lost = losses - (1 if ends_with_loss else 0)
    p = (run_starts.size - starts_with_loss) / from_received if from_received else 0.0
    q = (run_starts.size - ends_with_loss) / from_lost if from_lost else 1.0
    if p + q == 0.0:
        return 1.0
    return max(1.0, 1.0 / (p + q))


def burst_metrics(
    played: NDArray[np.int64],
    lowest: int,
    highest: int,
    packet_interval_ms: float | None,
    gmin: int = GMIN,
) -> BurstMetrics:
    """Burst/gap metrics over ``[lowest, highest]`` given the sorted numbers played in time."""
    total = highest - lowest + 1
    starts, lengths = _loss_runs(played, lowest, highest)
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    burst_r = gilbert_burst_r(starts, lengths, lowest, highest)
    ms = packet_interval_ms
    if starts.size == 0:
        return BurstMetrics(
            0, 0.0, 0.0, None if ms is None else 0.0, None if ms is None else total * ms, burst_r
        )
    ends = starts + lengths - 1
    splits = (starts[1:] - ends[:-1] - 1) >= gmin
    firsts = np.flatnonzero(np.concatenate(([True], splits)))
    lasts = np.concatenate((firsts[1:] - 1, [starts.size - 1]))
    group_losses = np.add.reduceat(lengths, firsts)
    is_burst = group_losses >= 2
    bursts = int(np.count_nonzero(is_burst))
    burst_packets = int((ends[lasts] - starts[firsts] + 1)[is_burst].sum())
    burst_losses = int(group_losses[is_burst].sum())
    gap_packets = total - burst_packets
    gap_losses = int(lengths.sum()) - burst_losses
    gaps = 1
    if bursts:
        gaps = bursts + 1
        gaps -= int(starts[firsts][is_burst][0] == lowest)
        gaps -= int(ends[lasts][is_burst][-1] == highest)
    return BurstMetrics(
        bursts=bursts,
        burst_density=burst_losses / burst_packets if burst_packets else 0.0,
        gap_density=gap_losses / gap_packets if gap_packets else 0.0,
        burst_mean_ms=None if ms is None else (burst_packets * ms / bursts if bursts else 0.0),
        gap_mean_ms=None if ms is None else (gap_packets * ms / gaps if gaps else 0.0),
        burst_r=burst_r,
    )
