"""Sequence extension and loss counting against hand-made cases and RFC 3550 A.1 itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipprobe.analysis import sequence as sequence_module
from sipprobe.analysis.sequence import count_sequence, extend_sequence, sorted_unique

RTP_SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000
MAX_MISORDER = 100


class _Rfc3550Source:
    """RFC 3550 Appendix A.1 ``init_seq``/``update_seq``, transcribed line by line.

    Probation is left out (stream discovery validates sources). Besides the RFC state it
    records, per packet, the segment (a new one at each re-sync) and the extended number
    within it: ``cycles + max_seq`` for in-order packets, the nearest number below the
    highest for reordered ones.
    """

    def __init__(self, seq: int) -> None:
        self.segment = -1
        self.init_seq(seq)

    def init_seq(self, seq: int) -> None:
        self.base_seq = seq
        self.max_seq = seq
        self.bad_seq = RTP_SEQ_MOD + 1
        self.cycles = 0
        self.received = 0
        self.segment += 1

    def update_seq(self, seq: int) -> tuple[int, int] | None:
        udelta = (seq - self.max_seq) % RTP_SEQ_MOD
        if udelta < MAX_DROPOUT:
            if seq < self.max_seq:
                self.cycles += RTP_SEQ_MOD
            self.max_seq = seq
            number = self.cycles + seq
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
            if seq == self.bad_seq:
                self.init_seq(seq)
                number = seq
            else:
                self.bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1)
                return None
        else:
            behind = RTP_SEQ_MOD - udelta
            number = self.cycles + self.max_seq - behind
        self.received += 1
        return self.segment, number


def reference_extension(seqs: list[int]) -> tuple[list[int | None], int]:
    """Extended numbers per packet (None: ignored) with segments laid end to end."""
    source = _Rfc3550Source(seqs[0])
    marks: list[tuple[int, int] | None] = [(0, seqs[0])]
    marks += [source.update_seq(seq) for seq in seqs[1:]]
    segments = source.segment + 1
    lows = [min(m[1] for m in marks if m and m[0] == k) for k in range(segments)]
    highs = [max(m[1] for m in marks if m and m[0] == k) for k in range(segments)]
    offsets = [0]
    for k in range(1, segments):
        offsets.append(highs[k - 1] + offsets[k - 1] + 1 - lows[k])
    numbers = [None if m is None else m[1] + offsets[m[0]] for m in marks]
    return numbers, segments - 1


def _vectorised(seqs: list[int]) -> tuple[list[int | None], int]:
    result = extend_sequence(np.array(seqs, dtype=np.uint16))
    numbers = [
        int(n) if ok else None
        for n, ok in zip(result.extended.tolist(), result.accepted.tolist(), strict=True)
    ]
    return numbers, result.restarts


def _counts(seqs: list[int]) -> sequence_module.SequenceCounts:
    return count_sequence(extend_sequence(np.array(seqs, dtype=np.uint16)))


def test_extend_sequence_in_order_is_unchanged() -> None:
    assert _vectorised([10, 11, 12, 13]) == ([10, 11, 12, 13], 0)


def test_extend_sequence_wraps_through_65535() -> None:
    numbers, _ = _vectorised([65533, 65534, 65535, 0, 1, 2])
    assert numbers == [65533, 65534, 65535, 65536, 65537, 65538]


def test_extend_sequence_wrap_with_loss_and_reorder_across_it() -> None:
    numbers, _ = _vectorised([65530, 65532, 1, 65535, 3])
    assert numbers == [65530, 65532, 65537, 65535, 65539]


def test_extend_sequence_reordered_before_first_packet_goes_below_it() -> None:
    numbers, _ = _vectorised([0, 65535, 1])
    assert numbers == [0, -1, 1]


def test_extend_sequence_single_jump_is_ignored() -> None:
    numbers, restarts = _vectorised([100, 101, 9000, 102, 103])
    assert numbers == [100, 101, None, 102, 103]
    assert restarts == 0


def test_extend_sequence_restart_continues_numbering_after_highest() -> None:
    numbers, restarts = _vectorised([100, 101, 103, 9000, 9001, 9002])
    assert numbers == [100, 101, 103, None, 104, 105]
    assert restarts == 1


def test_extend_sequence_late_packet_of_new_run_cannot_collide_with_old_run() -> None:
    numbers, restarts = _vectorised([1, 2, 3, 9000, 9001, 8999, 9002])
    assert restarts == 1
    assert numbers == [1, 2, 3, None, 6, 4, 7]
    counts = _counts([1, 2, 3, 9000, 9001, 8999, 9002])
    assert (counts.duplicates, counts.expected, counts.lost) == (0, 7, 1)


def test_extend_sequence_step_of_max_dropout_is_a_jump_and_one_less_is_not() -> None:
    assert _vectorised([0, MAX_DROPOUT - 1])[0] == [0, MAX_DROPOUT - 1]
    assert _vectorised([0, MAX_DROPOUT])[0] == [0, None]


def test_extend_sequence_misorder_limit() -> None:
    assert _vectorised([200, 200 - (MAX_MISORDER - 1)])[0] == [200, 200 - MAX_MISORDER + 1]
    assert _vectorised([200, 200 - MAX_MISORDER])[0] == [200, None]


def test_extend_sequence_bad_seq_survives_good_packets() -> None:
    # RFC 3550 A.1 keeps bad_seq until a re-sync, even across accepted packets.
    numbers, restarts = _vectorised([10, 5000, 11, 5001, 5002])
    assert numbers == [10, None, 11, 12, 13]
    assert restarts == 1


def test_count_sequence_clean_stream() -> None:
    counts = _counts(list(range(100)))
    assert (counts.expected, counts.lost, counts.duplicates, counts.reordered) == (100, 0, 0, 0)
    assert counts.rfc3550_cumulative_lost == 0


def test_count_sequence_loss_across_sequence_wrap() -> None:
    seqs = [s % RTP_SEQ_MOD for s in range(65500, 65600) if s not in (65535, 65536, 65540)]
    counts = _counts(seqs)
    assert (counts.expected, counts.received, counts.lost) == (100, 97, 3)


def test_count_sequence_reorder_and_duplicate() -> None:
    counts = _counts([0, 1, 3, 2, 4, 4, 5])
    assert counts.expected == 6
    assert counts.unique == 6
    assert counts.duplicates == 1
    assert counts.reordered == 1
    assert counts.lost == 0
    assert counts.rfc3550_cumulative_lost == -1


def test_count_sequence_late_duplicate_counts_as_reordered_too() -> None:
    # docs/measurement.md: reordered = number lower than the highest seen before it.
    counts = _counts([0, 1, 2, 3, 1])
    assert (counts.duplicates, counts.reordered, counts.lost) == (1, 1, 0)


def test_count_sequence_last_packet_reordered_is_not_negative_loss() -> None:
    # tshark's "Lost" says -1 here because it uses the last number seen, not the highest.
    counts = _counts([0, 1, 2, 4, 3])
    assert (counts.expected, counts.lost, counts.reordered) == (5, 0, 1)


def test_count_sequence_first_packets_out_of_order() -> None:
    counts = _counts([5, 4, 6, 8])
    assert (counts.lowest, counts.highest, counts.expected, counts.lost) == (4, 8, 5, 1)


def test_count_sequence_ignored_jump_is_not_received() -> None:
    counts = _counts([100, 101, 9000, 102, 104])
    assert (counts.received, counts.ignored, counts.expected, counts.lost) == (4, 1, 5, 1)
    assert counts.rfc3550_cumulative_lost == 1


def test_count_sequence_restart_keeps_loss_before_it() -> None:
    counts = _counts([1, 2, 4, 5, 30000, 30001, 30003])
    assert counts.restarts == 1
    assert counts.ignored == 1
    assert counts.expected == 5 + 3
    assert counts.lost == 2


def test_sorted_unique_large_span_falls_back_to_sorting() -> None:
    numbers = np.array([5, 10**12, 5, 7], dtype=np.int64)
    assert sorted_unique(numbers).tolist() == [5, 7, 10**12]
    assert sorted_unique(np.array([3, 1, 3], dtype=np.int64)).tolist() == [1, 3]


def test_extend_sequence_long_stream_matches_reference() -> None:
    """Chunk boundaries, jumps, restarts and wraps on a long, nasty stream."""
    rng = np.random.default_rng(7)
    true_numbers = np.arange(200_000) + 60_000
    kept = true_numbers[rng.random(true_numbers.size) > 0.02]
    order = np.argsort(np.arange(kept.size) + rng.integers(0, 40, kept.size), kind="stable")
    seqs = (kept[order] % RTP_SEQ_MOD).tolist()
    for where in rng.integers(1, len(seqs) - 1, 30).tolist():
        seqs[where] = int(rng.integers(0, RTP_SEQ_MOD))
    restart_at = 150_000
    seqs[restart_at:] = [(s + 20_000) % RTP_SEQ_MOD for s in seqs[restart_at:]]
    assert _vectorised(seqs) == reference_extension(seqs)


sequence_numbers = st.integers(min_value=0, max_value=RTP_SEQ_MOD - 1)


@st.composite
def realistic_streams(draw: st.DrawFn) -> list[int]:
    """Loss, reordering, duplicates, wraps, jumps and restarts in plausible proportions."""
    start = draw(sequence_numbers)
    length = draw(st.integers(min_value=1, max_value=400))
    seqs = [(start + i) % RTP_SEQ_MOD for i in range(length)]
    edits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["drop", "swap", "dup", "jump", "restart", "gap"]),
                st.integers(min_value=0, max_value=10**6),
                sequence_numbers,
            ),
            max_size=20,
        )
    )
    for kind, where, value in edits:
        if not seqs:
            break
        i = where % len(seqs)
        if kind == "drop":
            del seqs[i]
        elif kind == "swap" and i + 1 < len(seqs):
            seqs[i], seqs[i + 1] = seqs[i + 1], seqs[i]
        elif kind == "dup":
            seqs.insert(min(len(seqs), i + value % 5), seqs[i])
        elif kind == "jump":
            seqs[i] = value
        elif kind == "restart":
            seqs[i:] = [(s + value) % RTP_SEQ_MOD for s in seqs[i:]]
        elif kind == "gap":
            seqs[i:] = [(s + value % 4000) % RTP_SEQ_MOD for s in seqs[i:]]
    return seqs or [start]


@settings(max_examples=400, deadline=None)
@given(realistic_streams())
def test_extend_sequence_equals_rfc3550_per_packet(seqs: list[int]) -> None:
    assert _vectorised(seqs) == reference_extension(seqs)


@settings(max_examples=200, deadline=None)
@given(st.lists(sequence_numbers, min_size=1, max_size=200))
def test_extend_sequence_equals_rfc3550_on_arbitrary_numbers(seqs: list[int]) -> None:
    assert _vectorised(seqs) == reference_extension(seqs)


@settings(max_examples=200, deadline=None)
@given(realistic_streams())
def test_extend_sequence_equals_rfc3550_with_tiny_chunks(seqs: list[int]) -> None:
    """Shrink the chunk sizes so that every chunk and scalar hand-over path runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sequence_module, "_FIRST_CHUNK", 2)
        patch.setattr(sequence_module, "_MAX_CHUNK", 8)
        patch.setattr(sequence_module, "_SCALAR_AFTER_EARLY_JUMP", 2)
        patch.setattr(sequence_module, "_SCALAR_RUN", 3)
        assert _vectorised(seqs) == reference_extension(seqs)


@st.composite
def shuffled_subsets(draw: st.DrawFn) -> tuple[int, list[int]]:
    start = draw(sequence_numbers)
    length = draw(st.integers(min_value=1, max_value=2000))
    subset = draw(st.lists(st.integers(0, length - 1), min_size=1, max_size=300, unique=True))
    return start, draw(st.permutations(subset))


@settings(max_examples=300, deadline=None)
@given(shuffled_subsets())
def test_count_sequence_any_order_of_any_subset(case: tuple[int, list[int]]) -> None:
    start, offsets = case
    counts = _counts([(start + k) % RTP_SEQ_MOD for k in offsets])
    assert counts.lost == counts.expected - counts.unique
    assert counts.lost >= 0
    assert counts.duplicates == 0
    assert counts.received + counts.ignored == len(offsets)
    assert counts.rfc3550_cumulative_lost == counts.expected - counts.received


@settings(max_examples=300, deadline=None)
@given(
    shuffled_subsets(),
    st.lists(st.integers(min_value=0, max_value=MAX_MISORDER - 2), min_size=300, max_size=300),
)
def test_count_sequence_bounded_reordering_finds_true_loss(
    case: tuple[int, list[int]], lateness: list[int]
) -> None:
    """Within A.1's windows, extension recovers the true numbers and so the true loss."""
    start, offsets = case
    offsets.sort()
    # Delay each packet by fewer positions than MAX_MISORDER numbers: never out of window.
    order = sorted(range(len(offsets)), key=lambda i: (offsets[i] + lateness[i], i))
    arrived = [offsets[i] for i in order]
    result = extend_sequence(np.array([(start + k) % RTP_SEQ_MOD for k in arrived], np.uint16))
    assert result.accepted.all()
    assert (result.extended - result.extended[0]).tolist() == [k - arrived[0] for k in arrived]
    counts = count_sequence(result)
    truth = offsets[-1] - offsets[0] + 1 - len(offsets)
    assert counts.lost == truth
    assert counts.reordered == sum(1 for i, k in enumerate(arrived) if i and k < max(arrived[:i]))
