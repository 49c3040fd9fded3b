"""Numbering distinct 64-bit keys (addresses, flows, streams) for a million packets at a time.

``KeyIndex`` gives each key it is told about a small number and looks up a whole array of
keys in a few vector operations. While there are few keys (the usual capture: tens of
addresses and streams) a multiplicative hash whose multiplier is drawn until no two keys
share a slot indexes a small table, cheaper than a binary search. Such a collision-free table
needs about k^2 slots for k keys, so past ``PERFECT_MAX`` keys (a capture full of scanners or
random UDP) it gives way to a sorted array and ``np.searchsorted``: slower per lookup, but
its memory and build time grow with k, not k^2.
"""

from __future__ import annotations

import random

import numpy as np
from numpy.typing import NDArray

__all__ = ["PERFECT_MAX", "KeyIndex", "dense"]

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
PERFECT_MAX = 256  # keys; with 2^16 slots a random draw separates them with odds above 1/2
_MAX_BITS = 16
_DRAWS = 64
_SAMPLE = 4096  # values looked at to find the distinct ones before checking them all


class KeyIndex:
    """Keys numbered 0..k-1 in the order they were added; lookups say which values are keys."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self._table: tuple[np.uint64, np.uint64, U64, I64] | None = None
        self._sorted = np.zeros(0, dtype=np.uint64)
        self._numbers = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, new: U64) -> None:
        """Number the keys of ``new`` that are not known yet, in their order there."""
        new = np.asarray(new, dtype=np.uint64)
        if not len(new):
            return
        if len(self.keys):
            new = new[~self.lookup(new)[1]]
        distinct, first = np.unique(new, return_index=True)
        self.keys = np.concatenate([self.keys, distinct[np.argsort(first)]])
        self._table = _perfect_hash(self.keys) if len(self.keys) <= PERFECT_MAX else None
        if self._table is None:
            order = np.argsort(self.keys)
            self._sorted, self._numbers = self.keys[order], order.astype(np.int64)

    def lookup(self, values: U64) -> tuple[I64, NDArray[np.bool_]]:
        """The number of each value, and whether it is a key at all (its number is then junk)."""
        values = np.asarray(values, dtype=np.uint64)
        if self._table is not None:
            multiplier, shift, slot_keys, slot_numbers = self._table
            # wraps modulo 2**64, as intended; slots < 2**16 read the same as int64, and numpy
            # indexes with int64 without first converting the index array
            slots = ((values * multiplier) >> shift).view(np.int64)
            return slot_numbers[slots], slot_keys[slots] == values
        if not len(self.keys):
            return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
        at = np.minimum(np.searchsorted(self._sorted, values), len(self._sorted) - 1)
        return self._numbers[at], self._sorted[at] == values

    def number(self, values: U64) -> I64:
        """The number of every value, adding the ones not known yet."""
        numbers, found = self.lookup(values)
        if found.all():
            return numbers
        self.add(values[~found])
        return self.lookup(values)[0]


def _perfect_hash(keys: U64) -> tuple[np.uint64, np.uint64, U64, I64] | None:
    """Multiplier, shift and the slot table of a collision-free hash of ``keys``, if found."""
    draw = random.Random(len(keys))
    # Start small: keys with structure (consecutive addresses, ports) often part in about 2k
    # slots, a table that stays in cache; random keys need about k^2 and get there after some
    # rounds of 8 draws, one more bit each.
    first_bits = max(2, 2 * len(keys)).bit_length()
    for attempt in range(_DRAWS):
        bits = min(_MAX_BITS, first_bits + attempt // 8)
        multiplier, shift = np.uint64(draw.getrandbits(64) | 1), np.uint64(64 - bits)
        slots = (keys * multiplier) >> shift
        if len(_distinct(slots)) == len(keys):
            # An empty slot holds keys[0], which belongs in another slot: no value matches it.
            slot_keys = np.full(1 << bits, keys[0], dtype=np.uint64)
            slot_numbers = np.zeros(1 << bits, dtype=np.int64)
            slot_keys[slots], slot_numbers[slots] = keys, np.arange(len(keys))
            return multiplier, shift, slot_keys, slot_numbers
    return None


def dense(values: U64) -> I64:
    """Numbers 0..k-1 for the distinct values, in sorted order.

    The distinct values come from a sample; every value is then checked, so a value the
    sample missed is found and numbered too.
    """
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    sample = _distinct(values[:: max(1, len(values) // _SAMPLE)])
    index = KeyIndex()
    index.add(sample)
    numbers, found = index.lookup(values)
    if found.all():
        return numbers
    index = KeyIndex()  # numbered afresh, so that the numbers follow the sorted order
    index.add(_distinct(np.concatenate([sample, values[~found]])))
    return index.lookup(values)[0]


def _distinct(values: U64) -> U64:
    """Sorted distinct values: ``np.unique`` by sorting, for the small arrays here. (Plain
    ``np.unique`` takes a hash path whose first use imports ``numpy.ma``, ~10 ms of start-up
    that ``sipprobe analyze`` has no other reason to pay.)"""
    ordered = np.sort(values)
    distinct: U64 = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
    return distinct
