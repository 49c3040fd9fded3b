"""The fast indented JSON writer gives exactly the json module's text, or its error."""

from __future__ import annotations

import enum
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipprobe.report.jsontext import dumps


class _Level(enum.IntEnum):
    LOW = 1


class _Name(enum.StrEnum):
    GOOD = "good"


def _json_module(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return repr(exc)


def _fast(value: Any) -> str:
    try:
        return dumps(value)
    except (TypeError, ValueError) as exc:
        return repr(exc)


@pytest.mark.parametrize(
    "value",
    [
        0,
        "x",
        None,
        [],
        {},
        [1, 2.5, "a\nb", True, None],
        [{"a": 1}],
        [{"a": {}, "b": []}, {"c": "x},\n    {"}],  # a seam inside a string is not a seam
        {"rows": [{"r": 1, "s": ()}, {"r": -0.0, "s": []}], "n": {"m": [{"k": [1]}]}},
        [{3: "int key", 2.5: "float key", None: "null key", True: "bool key"}],
        {"a": 1, 2: "mixed keys"},
        [{"é": "ü\u2028"}],
        [{"level": _Level.LOW}, {"name": _Name.GOOD}],
        {"level": _Level.LOW, "name": _Name.GOOD},
        [{"x": float("nan")}],
        {"x": float("inf")},
        [{"x": object()}],
    ],
)
def test_dumps_equals_json_module(value: Any) -> None:
    assert _fast(value) == _json_module(value)


_keys = st.one_of(st.text(max_size=4), st.integers(-3, 3), st.sampled_from([None, True, 0.5]))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)
_flat_values = st.one_of(_scalars, st.just([]), st.just({}), st.just(()))
_records = st.lists(st.dictionaries(_keys, _flat_values, min_size=1, max_size=4), max_size=5)
_values = st.recursive(
    st.one_of(_scalars, _records),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_keys, inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_values)
def test_dumps_equals_json_module_on_any_value(value: Any) -> None:
    assert _fast(value) == _json_module(value)
