"""Numbering distinct keys: exact whatever the number of keys, with a sample or without."""

import random

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sipprobe.analysis.keys import PERFECT_MAX, KeyIndex, dense

KEYS = st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=40, unique=True)


@given(KEYS, st.integers(1, 200_000), st.randoms(use_true_random=False))
def test_dense_numbers_every_distinct_value_even_those_a_sample_misses(
    distinct: list[int], length: int, draw: random.Random
) -> None:
    # Most rows hold the first value; the others sit at a few random rows, which the
    # sample of every n-th row will usually miss: they must still be found and numbered.
    values = np.full(length, distinct[0], dtype=np.uint64)
    for value in distinct[1:]:
        values[draw.randrange(length)] = value
    expected = np.unique(values, return_inverse=True)[1].ravel()
    assert np.array_equal(dense(values), expected)


@given(KEYS, KEYS)
def test_key_index_numbers_in_order_added_and_knows_what_it_lacks(
    first: list[int], second: list[int]
) -> None:
    index = KeyIndex()
    index.add(np.array(first, dtype=np.uint64))
    index.add(np.array(second + first, dtype=np.uint64))
    added = first + [k for k in second if k not in first]
    assert list(index.keys) == added
    numbers, found = index.lookup(np.array([*added, 0, 2**64 - 1], dtype=np.uint64))
    assert list(numbers[: len(added)]) == list(range(len(added)))
    assert list(found) == [True] * len(added) + [0 in added, 2**64 - 1 in added]


def test_key_index_many_random_keys_stays_exact_and_small() -> None:
    # Past PERFECT_MAX keys a collision-free table would need about k^2 slots; the sorted
    # fallback must give the same numbers with memory that grows with k.
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 2**63, 50_000, dtype=np.uint64)
    keys[:3] = (0, 1, 2**63 - 1)
    index = KeyIndex()
    numbers = index.number(np.concatenate([keys[:100], keys, keys[::-1]]))
    assert len(index) == len(np.unique(keys)) > PERFECT_MAX
    assert np.array_equal(index.keys[numbers], np.concatenate([keys[:100], keys, keys[::-1]]))
    missing = np.array([3, 2**63, 2**64 - 1], dtype=np.uint64)
    assert not index.lookup(missing[~np.isin(missing, keys)])[1].any()
    assert index._table is None  # the sorted arrays, which hold one entry per key
    assert len(index._sorted) == len(index._numbers) == len(index)


@given(st.lists(KEYS, min_size=2, max_size=12))
def test_key_index_added_in_steps_across_the_switch_to_sorted_keys(
    batches: list[list[int]],
) -> None:
    # Each step may take the index from the hash table (256 keys or fewer) to the sorted
    # arrays; numbers once given must never change.
    rng = np.random.default_rng(len(batches))
    index, given_so_far = KeyIndex(), {}
    for batch in batches:
        extra = rng.integers(0, 2**64, 60, dtype=np.uint64, endpoint=False)
        values = np.concatenate([np.array(batch, dtype=np.uint64), extra])
        numbers = index.number(values)
        for value, number in zip(values.tolist(), numbers.tolist(), strict=True):
            assert given_so_far.setdefault(value, number) == number
    assert len(index) == len(given_so_far) == sorted(given_so_far.values())[-1] + 1
    assert (index._table is None) == (len(index) > PERFECT_MAX)


def test_key_index_takes_nothing_and_any_integer_input() -> None:
    index = KeyIndex()
    index.add(np.zeros(0, dtype=np.uint64))
    assert len(index) == 0
    index.add(np.array([5, 7], dtype=np.uint64))
    numbers, found = index.lookup(np.array([7, 6], dtype=np.int64))
    assert (numbers[0], list(found)) == (1, [True, False])
