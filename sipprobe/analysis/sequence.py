"""RTP sequence-number extension and loss counting (RFC 3550 A.1 and A.3).

The 16-bit sequence number is extended with a cycle count exactly as RFC 3550 A.1
``update_seq`` does (without the probation of new sources: stream discovery has already
decided that the packets form a stream). Relative to the highest number seen so far a packet
is

- in order (step 0 to MAX_DROPOUT - 1, wrapping through 65535 counts a cycle),
- reordered or duplicated (at most MAX_MISORDER - 1 behind), or
- a jump: ignored, unless it is the number right after the last ignored jump, in which case
  the source restarted its numbering. RFC 3550 then resets its counters; sipprobe keeps them
  and numbers the new run right after the highest number of the old one, so a restart neither
  hides the loss measured before it nor invents loss across it (which cannot be known).

Doing this packet by packet in Python is too slow for captures of millions of packets. The
vectorised form rests on two facts. While every packet falls in the window of the highest
number seen before it, the extended number of a packet is that of the packet before it plus
the signed 16-bit step between them (the two lie within 3099 of each other), so a cumulative
sum of steps extends a whole chunk at once. And the window (-100, 3000) around the running
maximum holds each value modulo 2**16 once, so a candidate that a running-maximum check finds
inside it is the number A.1 gives. Only a packet outside it (a jump, rare in real traffic)
goes through the per-packet rules before vector processing resumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAX_DROPOUT = 3000
MAX_MISORDER = 100
SEQ_MOD = 1 << 16
_NO_BAD_SEQ = SEQ_MOD + 1

_FIRST_CHUNK = 4096
_MAX_CHUNK = 1 << 18
# After a jump found early in a chunk, the next packets go through the per-packet rules: a
# stream full of jumps would otherwise cost one vector pass per packet.
_SCALAR_AFTER_EARLY_JUMP = 32
_SCALAR_RUN = 512


@dataclass(frozen=True, slots=True)
class ExtendedSequence:
    """Per packet, in arrival order: the extended sequence number and whether A.1 accepted it.

    ``extended`` is meaningless where ``accepted`` is False (a jump that was ignored).
    ``restarts`` counts the times the source restarted its numbering.
    """

    extended: NDArray[np.int64]
    accepted: NDArray[np.bool_]
    restarts: int

    def accepted_numbers(self) -> NDArray[np.int64]:
        """The extended numbers of the accepted packets, in arrival order (no copy if all are)."""
        return self.extended if self.accepted.all() else self.extended[self.accepted]


@dataclass(frozen=True, slots=True)
class SequenceCounts:
    """Loss accounting of one stream, as docs/measurement.md defines it.

    ``received`` counts the packets A.1 accepted; ``ignored`` the jumps it did not.
    ``lowest`` and ``highest`` are the extended numbers that bound ``expected``.
    """

    received: int
    ignored: int
    restarts: int
    lowest: int
    highest: int
    expected: int
    unique: int
    duplicates: int
    reordered: int
    lost: int
    rfc3550_cumulative_lost: int


class _State:
    """The A.1 per-source state; ``max_ext`` is RFC 3550's ``cycles + max_seq``.

    As in A.1, a restart begins a new run numbered from its first sequence number, so runs
    may overlap in value; ``restarts`` holds the packet index at which each run begins, and
    the runs are laid end to end once all packets are numbered.
    """

    __slots__ = ("bad_seq", "max_ext", "restarts")

    def __init__(self, first_seq: int) -> None:
        self.max_ext = first_seq
        self.bad_seq = _NO_BAD_SEQ
        self.restarts: list[int] = []

    @property
    def max_seq(self) -> int:
        return self.max_ext & 0xFFFF

    def update(self, index: int, seq: int) -> int | None:
        """Apply RFC 3550 A.1 ``update_seq`` to one packet: its extended number or None."""
        udelta = (seq - self.max_seq) & 0xFFFF
        if udelta < MAX_DROPOUT:
            self.max_ext += udelta
            return self.max_ext
        if udelta <= SEQ_MOD - MAX_MISORDER:
            if seq != self.bad_seq:
                self.bad_seq = (seq + 1) & 0xFFFF
                return None
            self.max_ext = seq
            self.bad_seq = _NO_BAD_SEQ
            self.restarts.append(index)
            return self.max_ext
        return self.max_ext - (SEQ_MOD - udelta)


def _extend_chunk(
    *,
    seq: NDArray[np.uint16],
    step: NDArray[np.int64],
    extended: NDArray[np.int64],
    start: int,
    stop: int,
    state: _State,
) -> int:
    """Extend ``seq[start:stop]`` up to the first jump; return how many packets were done.

    Candidates are written to ``extended[start:stop]``; those from the first jump on are
    left for the caller to overwrite.
    """
    count = stop - start
    delta = ((int(seq[start]) - state.max_seq + (SEQ_MOD >> 1)) & 0xFFFF) - (SEQ_MOD >> 1)
    step[start] = state.max_ext + delta  # the first candidate; ``step`` is not read there again
    candidate = extended[start:stop]
    np.cumsum(step[start:stop], out=candidate)
    if 0 < delta < MAX_DROPOUT and not _outside_window(step[start + 1 : stop], 1).any():
        # In order all through (the usual case): the running maximum is the candidate itself.
        state.max_ext = int(candidate[-1])
        return count
    highest = np.empty(count + 1, dtype=np.int64)  # highest[k]: the maximum before packet k
    highest[0] = state.max_ext
    highest[1:] = candidate
    np.maximum.accumulate(highest, out=highest)
    outside = _outside_window(candidate - highest[:-1], 1 - MAX_MISORDER)
    first = int(outside.argmax())
    done = first if outside[first] else count
    if done:
        state.max_ext = int(highest[done])
    return done


def _outside_window(offset: NDArray[np.int64], lowest: int) -> NDArray[np.bool_]:
    """Not ``lowest <= offset < MAX_DROPOUT``; below ``lowest`` the unsigned difference is huge."""
    outside: NDArray[np.bool_] = (offset - lowest).view(np.uint64) >= MAX_DROPOUT - lowest
    return outside


def _lay_runs_end_to_end(
    extended: NDArray[np.int64], accepted: NDArray[np.bool_], restarts: list[int]
) -> NDArray[np.int64]:
    """Renumber each run so that its lowest number follows the previous run's highest."""
    run = np.zeros(extended.size, dtype=np.int64)
    run[restarts] = 1
    run = np.cumsum(run)
    accepted_ext = extended[accepted]
    starts = np.searchsorted(run[accepted], np.arange(len(restarts) + 1))
    lows = np.minimum.reduceat(accepted_ext, starts)
    highs = np.maximum.reduceat(accepted_ext, starts)
    shift = np.zeros(len(restarts) + 1, dtype=np.int64)
    for k in range(1, shift.size):
        shift[k] = shift[k - 1] + int(lows[k]) - int(highs[k - 1]) - 1
    return extended - shift[run]


def extend_sequence(seq: NDArray[np.uint16]) -> ExtendedSequence:
    """Extend the sequence numbers of one stream, given in arrival order."""
    values = np.asarray(seq, dtype=np.uint16)
    count = values.size
    extended = np.zeros(count, dtype=np.int64)
    accepted = np.ones(count, dtype=np.bool_)
    if count == 0:
        return ExtendedSequence(extended, accepted, 0)
    step = np.empty(count, dtype=np.int64)
    step[1:] = np.diff(values).view(np.int16)  # uint16 differences wrap: the signed 16-bit step
    state = _State(int(values[0]))
    extended[0] = values[0]
    position, chunk = 1, _FIRST_CHUNK
    while position < count:
        stop = min(count, position + chunk)
        done = _extend_chunk(
            seq=values, step=step, extended=extended, start=position, stop=stop, state=state
        )
        position += done
        if position == stop:
            chunk = min(2 * chunk, _MAX_CHUNK)
            continue
        chunk = _FIRST_CHUNK
        scalar_stop = position + 1
        if done < _SCALAR_AFTER_EARLY_JUMP:
            scalar_stop = min(count, position + _SCALAR_RUN)
        for index in range(position, scalar_stop):
            number = state.update(index, int(values[index]))
            if number is None:
                accepted[index] = False
                extended[index] = 0
            else:
                extended[index] = number
        position = scalar_stop
    if state.restarts:
        extended = _lay_runs_end_to_end(extended, accepted, state.restarts)
    return ExtendedSequence(extended, accepted, len(state.restarts))


def sorted_unique(numbers: NDArray[np.int64]) -> NDArray[np.int64]:
    """Sorted distinct extended numbers, in linear time when they span a sane range."""
    if numbers.size == 0 or _ascending(numbers, strictly=True):
        return numbers.copy()
    lowest, highest = int(numbers.min()), int(numbers.max())
    span = highest - lowest + 1
    if span > 4 * numbers.size + SEQ_MOD:
        return np.unique(numbers)
    present = np.zeros(span, dtype=np.bool_)
    present[numbers - lowest] = True
    unique = np.flatnonzero(present).astype(np.int64, copy=False)
    unique += lowest
    return unique


def _ascending(numbers: NDArray[np.int64], *, strictly: bool) -> bool:
    later, earlier = numbers[1:], numbers[:-1]
    return bool((later > earlier if strictly else later >= earlier).all())


def count_sequence(
    sequence: ExtendedSequence, unique: NDArray[np.int64] | None = None
) -> SequenceCounts:
    """Count expected, lost, duplicated and reordered packets of one stream.

    ``expected`` runs from the lowest to the highest extended number received: RFC 3550
    starts at the first packet's number instead, which makes ``lost`` negative when the
    first packets arrive out of order. ``unique`` is ``sorted_unique`` of the accepted
    numbers, for a caller that has it already.
    """
    numbers = sequence.accepted_numbers()
    received = int(numbers.size)
    ignored = int(sequence.accepted.size) - received
    if received == 0:
        return SequenceCounts(0, ignored, sequence.restarts, 0, -1, 0, 0, 0, 0, 0, 0)
    if unique is None:
        unique = sorted_unique(numbers)
    lowest, highest = int(unique[0]), int(unique[-1])
    expected = highest - lowest + 1
    reordered = 0
    if not _ascending(numbers, strictly=False):
        reordered = int(np.count_nonzero(numbers[1:] < np.maximum.accumulate(numbers)[:-1]))
    return SequenceCounts(
        received=received,
        ignored=ignored,
        restarts=sequence.restarts,
        lowest=lowest,
        highest=highest,
        expected=expected,
        unique=int(unique.size),
        duplicates=received - int(unique.size),
        reordered=reordered,
        lost=expected - int(unique.size),
        rfc3550_cumulative_lost=expected - received,
    )
