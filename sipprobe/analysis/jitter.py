"""Interarrival jitter (RFC 3550 section 6.4.1 and A.8), vectorised.

For consecutive packets in arrival order ``D = (R_i - R_{i-1}) - (S_i - S_{i-1})`` in
timestamp units and ``J_i = J_{i-1} + (|D| - J_{i-1}) / 16``. The recursion is a first-order
filter ``J_i = a J_{i-1} + x_i`` with ``a = 15/16``; a Python loop over a million packets takes
most of a second, so the filter runs in blocks: inside a block the closed form
``J_j = a^j * cumsum(x_m * a^-m)`` is a numpy expression, and only the value carried from one
block to the next goes through a loop (one step per block). The growth ``a^-m`` stays below
1e15 for the block length used, so the closed form loses no meaningful precision.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sipprobe.model.media import JitterMs

JITTER_DECAY = 15.0 / 16.0
_BLOCK = 512


def timestamp_steps(rtp_ts: NDArray[np.uint32]) -> NDArray[np.int64]:
    """Signed differences of consecutive 32-bit RTP timestamps, wrap-around removed."""
    # Differences of uint32 wrap modulo 2**32; read as int32 they are the signed step.
    steps: NDArray[np.int64] = (
        np.diff(np.asarray(rtp_ts, dtype=np.uint32)).view(np.int32).astype(np.int64)
    )
    return steps


def unwrap_timestamps(rtp_ts: NDArray[np.uint32]) -> NDArray[np.int64]:
    """RTP timestamps in arrival order, extended beyond 32 bits (first one unchanged)."""
    unwrapped = np.empty(np.asarray(rtp_ts).size, dtype=np.int64)
    if unwrapped.size:
        unwrapped[0] = int(rtp_ts[0])
        np.cumsum(timestamp_steps(rtp_ts), out=unwrapped[1:])
        unwrapped[1:] += unwrapped[0]
    return unwrapped


def decay_filter(x: NDArray[np.float64], decay: float) -> NDArray[np.float64]:
    """Return ``y`` with ``y_i = decay * y_{i-1} + x_i`` and ``y_{-1} = 0``."""
    count = x.size
    if count == 0:
        return np.zeros(0)
    rows = -(-count // _BLOCK)
    blocks = np.zeros((rows, _BLOCK))
    blocks.reshape(-1)[:count] = x
    power = np.arange(_BLOCK, dtype=np.float64)
    blocks *= decay**-power
    np.cumsum(blocks, axis=1, out=blocks)
    blocks *= decay**power
    carried = [0.0] * rows
    block_decay = decay**_BLOCK
    block_ends = blocks[:, -1].tolist()
    for row in range(1, rows):
        carried[row] = block_ends[row - 1] + block_decay * carried[row - 1]
    blocks += np.asarray(carried)[:, None] * decay ** (power + 1)
    return blocks.reshape(-1)[:count]


def interarrival_jitter(
    arrival_s: NDArray[np.float64], rtp_ts: NDArray[np.uint32], clock_rate: int
) -> NDArray[np.float64]:
    """J in timestamp units after each packet (0 after the first), packets in arrival order."""
    jitter = np.zeros(np.asarray(arrival_s).size)
    if jitter.size > 1:
        change = np.diff(np.asarray(arrival_s, dtype=np.float64))
        change *= clock_rate
        change -= timestamp_steps(rtp_ts)  # D of RFC 3550 A.8, in timestamp units
        np.abs(change, out=change)
        change /= 16.0
        jitter[1:] = decay_filter(change, JITTER_DECAY)
    return jitter


def summarise_jitter(
    jitter_ts: NDArray[np.float64], counted: NDArray[np.bool_] | slice, clock_rate: int
) -> JitterMs:
    """Max and mean over the ``counted`` packets, and the final value, in milliseconds.

    Which packets count is the caller's choice (Wireshark leaves out the first packet, marker
    packets and those after comfort noise).
    """
    to_ms = 1000.0 / clock_rate
    final = float(jitter_ts[-1]) * to_ms if jitter_ts.size else 0.0
    values = jitter_ts[counted]
    if values.size == 0:
        return JitterMs(0.0, 0.0, final)
    return JitterMs(float(values.max()) * to_ms, float(values.mean()) * to_ms, final)
