"""Where records start in a chunk: walked one by one, or confirmed a whole run at a time.

Used by ``framing`` for pcap records and pcapng blocks alike: both chain each record to the
next by a length field, so equal lengths in a row make a run that numpy can check at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["Offsets"]

I64 = NDArray[np.int64]
_LONG_RUN = 16  # records of one length in a row that make their length worth resuming


class Offsets:
    """Record offsets in file order, from the plain walk and from runs of equal-length records.

    The walker steps record by record and, when a record looks like the start of a run (its
    length is the length of the last long run, or eight records in a row had one length),
    ``run`` confirms the records that follow in one vectorised step: a record of length
    ``stride`` ends where the next begins, so a run whose length fields all match is exact,
    not a guess. Resuming the last run's length right away matters: RTP of equal-sized packets
    with an RTCP report or a SIP message now and then is the usual capture. A guess that fails
    early makes it wait longer before the next one, so a capture of mixed sizes keeps the plain
    walk's speed. The state lasts across chunks; the offsets are taken per chunk.
    """

    def __init__(self) -> None:
        self.parts: list[I64] = []
        self.single: list[int] = []
        self.resume = 0  # record length of the last long run
        self.limit = 64  # records one look may confirm
        self.wait = 0
        self.backoff = 1

    def expected(self) -> int:
        """The record length that starts a look for a run during the next batch (-1: none)."""
        if self.wait:
            self.wait -= 1
            return -1
        return self.resume

    def steady(self, pos: int) -> int:
        """The common length of the last eight records, if they share one; else 0."""
        single = self.single
        if len(single) < 8 or single[-1] - single[-8] != 7 * (pos - single[-1]):
            return 0
        stride = pos - single[-1]
        steps = zip(single[-8:-1], single[-7:], strict=True)
        return stride if all(b - a == stride for a, b in steps) else 0

    def run(
        self, buf: bytearray, end: int, pos: int, stride: int, checks: list[tuple[int, str, int]]
    ) -> int:
        """How many records from ``pos`` on are ``stride`` long."""
        count = min(self.limit, (end - pos) // stride)
        if count < 1:
            return 0
        differ = np.zeros(count, dtype=bool)
        for offset, dtype, value in checks:
            view = np.ndarray((count,), dtype, buffer=buf, offset=pos + offset, strides=(stride,))
            differ |= view != value
        first = int(np.argmax(differ))  # the first record that differs, else 0
        run = first if differ[first] else count
        if run:
            if self.single:
                self._flush()
            self.parts.append(np.arange(pos, pos + run * stride, stride, dtype=np.int64))
        self.limit = min(self.limit * 2, 1 << 16) if run == count else max(64, 2 * run)
        if run >= _LONG_RUN or run == count:
            self.resume, self.backoff = stride, 1
        else:  # no look at this length for a while, longer after each miss
            self.backoff = min(self.backoff * 2, 64)
            self.wait = self.backoff - 1
        return run

    def _flush(self) -> None:
        if self.single:  # before a run's part, so that offsets stay in file order
            self.parts.append(np.array(self.single, dtype=np.int64))
            self.single.clear()

    def take(self) -> I64:
        self._flush()
        out = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)
        self.parts = []
        return out
