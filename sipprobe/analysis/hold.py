"""What each direction's RTP did around a hold: per-second counts and its longest silence.

Both directions are counted from the call's first RTP packet (either direction), so their
seconds line up. A stream stopped when its longest silence lasted at least half the hold
(a far end that stops sending on hold is silent about as long as the hold); it resumed when
packets came after that silence. A silence that lasts until the call's last packet (in
either direction) is a stream that stopped and did not come back.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from sipprobe.model.hold import Direction, HoldMedia

STOPPED_SHARE = 0.5  # of the hold: a silence this long is the stream stopping


def _one(
    direction: Direction, arrivals: Sequence[float], span: tuple[float, float], hold_s: float
) -> HoldMedia:
    origin, end = span
    times = sorted(arrivals)
    per_s: list[int] = []
    for t in times:
        second = int(t - origin)
        per_s.extend([0] * (second + 1 - len(per_s)))
        per_s[second] += 1
    gap, gap_start = 0.0, None
    for earlier, later in itertools.pairwise(times):
        if later - earlier > gap:
            gap, gap_start = later - earlier, earlier
    resumed = True
    if times and end - times[-1] > gap:
        gap, gap_start, resumed = end - times[-1], times[-1], False
    stopped = gap >= STOPPED_SHARE * hold_s
    return HoldMedia(
        direction=direction,
        packets_per_s=tuple(per_s),
        longest_gap_s=round(gap, 3),
        gap_start_s=round(gap_start - origin, 3) if gap_start is not None else None,
        stopped=stopped,
        resumed=resumed if stopped else None,
    )


def hold_media(
    rx_arrivals: Sequence[float], tx_arrivals: Sequence[float], hold_s: float
) -> tuple[HoldMedia, ...]:
    """The rx and tx streams' behaviour around a hold of ``hold_s``; () without any RTP."""
    if not rx_arrivals and not tx_arrivals:
        return ()
    every = [*rx_arrivals, *tx_arrivals]
    span = (min(every), max(every))
    return (_one("rx", rx_arrivals, span, hold_s), _one("tx", tx_arrivals, span, hold_s))
