"""``json.dumps(value, indent=2, allow_nan=False)``, byte for byte, in a fraction of the time.

Python 3.11's json module uses its C encoder only without ``indent``; with it, every value goes
through Python generators, which takes longer than the whole analysis of a million-packet
capture (20 streams' per-second timelines, 4,000 RTCP reports). Most of such a document is
lists of flat objects, whose values are numbers, strings, booleans, null or empty containers,
and the C encoder writes those too: given an item separator of a newline and the members'
indentation, it puts every member where ``indent`` would. Only the seams between objects are
then indented one level too deep, and one ``str.replace`` fixes them all: a raw newline never
occurs inside encoded JSON (strings escape it), so ``},<newline><indent>{`` is always a seam.

The rest of the document is walked in Python. Anything the fast path does not know (a
subclass of a JSON type, a key that is not a string, a float that is not finite) goes to the
json module itself, so the text and any error are always exactly what it gives.
"""

from __future__ import annotations

import json
import math
from itertools import chain
from json.encoder import encode_basestring_ascii
from typing import Any

__all__ = ["dumps"]

_INDENT = "  "
_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({dict, list, tuple})


class _UnsupportedError(Exception):
    """A value the fast path does not know."""


def dumps(value: Any) -> str:
    """What ``json.dumps(value, indent=2, allow_nan=False)`` returns, or raises."""
    try:
        return _encode(value, "\n")
    except (_UnsupportedError, ValueError):  # ValueError: a float that is not finite
        return json.dumps(value, indent=2, allow_nan=False)


def _encode(value: Any, newline: str) -> str:
    """``value`` as JSON text, ``newline`` holding the indentation of its closing bracket."""
    kind = type(value)
    if kind not in _CONTAINERS:
        return _scalar(value)
    if not value:
        return "{}" if kind is dict else "[]"
    inner = newline + _INDENT
    if kind is dict:
        if _flat(list(value.values())):
            return _compact(value, newline)
        if set(map(type, value)) != {str}:
            raise _UnsupportedError
        members = [f"{encode_basestring_ascii(k)}: {_encode(v, inner)}" for k, v in value.items()]
        return "{" + inner + ("," + inner).join(members) + newline + "}"
    if _records(value):
        return _records_text(value, newline)
    if _flat(value):
        return _compact(value, newline)
    items = [_encode(item, inner) for item in value]
    return "[" + inner + ("," + inner).join(items) + newline + "]"


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise _UnsupportedError


def _flat(values: list[Any] | tuple[Any, ...]) -> bool:
    """Every value a scalar or an empty container: what the C encoder writes as indent does."""
    kinds = set(map(type, values))
    if kinds <= _SCALARS:
        return True
    if not kinds <= _SCALARS | _CONTAINERS:
        return False
    kinds_and_truth = set(zip(map(type, values), map(bool, values), strict=True))
    return not any(kind in _CONTAINERS and truth for kind, truth in kinds_and_truth)


def _records(items: list[Any] | tuple[Any, ...]) -> bool:
    """Every item a non-empty flat object (the C encoder writes any key as the json module)."""
    if set(map(type, items)) != {dict} or not all(items):
        return False
    return _flat(list(chain.from_iterable(map(dict.values, items))))


def _c_encoded(value: Any, separator: str) -> str:
    encoder = json.JSONEncoder(separators=(separator, ": "), allow_nan=False)
    return encoder.encode(value)


def _compact(value: Any, newline: str) -> str:
    """A flat object or array: each member on a line of its own, one level in."""
    inner = newline + _INDENT
    text = _c_encoded(value, "," + inner)
    return text[0] + inner + text[1:-1] + newline + text[-1]


def _records_text(items: Any, newline: str) -> str:
    """An array of flat objects: the members written in place, then the seams re-indented."""
    inner = newline + _INDENT
    member = inner + _INDENT
    text = _c_encoded(items, "," + member)  # [{"a": 1,<member>"b": 2},<member>{"a": ...}]
    body = text[2:-2].replace("}," + member + "{", inner + "}," + inner + "{" + member)
    return "[" + inner + "{" + member + body + inner + "}" + newline + "]"
