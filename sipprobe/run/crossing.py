"""Call results crossing the boundary between a call worker process and its run, as JSON.

The dicts live only on the pipe between the two processes (as pytest's reports have
``_to_json`` for xdist). They are not the report's JSON: ``report/json_read.py`` reads that,
and it sits above ``run`` in the layers, so a run cannot use it; and a worker's records are
simpler (no streams nor echo yet: those come from the run's capture, after the workers
ended). Every record is rebuilt as the frozen model type on the run's side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, is_dataclass
from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from sipprobe.model.results import CallResult, SipEvent


@dataclass(frozen=True, slots=True)
class WorkerCall:
    """One call a worker placed: its result, which phase hit its bound, where the final status
    came from, and its messages (indexes into the worker's own timeline)."""

    result: CallResult
    timed_out: str | None
    origin: str
    events: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class WorkerReport:
    """What one worker sends back: its timeline's zero (monotonic clock, shared by every
    process of the machine), its messages and its calls."""

    t0: float
    events: tuple[SipEvent, ...]
    calls: tuple[WorkerCall, ...]


def event_to_dict(event: SipEvent) -> dict[str, Any]:
    return asdict(event)


def event_from_dict(data: dict[str, Any]) -> SipEvent:
    return SipEvent(**data)


def call_to_dict(result: CallResult) -> dict[str, Any]:
    if result.streams or result.echo is not None:
        raise ValueError("a worker's call has no streams nor echo: the run measures them")
    data = asdict(result)
    del data["streams"], data["echo"]
    return data


def _rebuild(kind: Any, value: Any) -> Any:
    """``value`` as read from JSON, rebuilt as the annotated type ``kind``: records (frozen
    dataclasses) from dicts, tuples from lists, and so on down, so that a field a later change
    adds to a call's result crosses without code of its own here."""
    if value is None:
        return None
    origin = get_origin(kind)
    if origin in (Union, UnionType):
        options = [a for a in get_args(kind) if a is not type(None)]
        return _rebuild(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_rebuild(args[0], item) for item in value)
        return tuple(_rebuild(arg, item) for arg, item in zip(args, value, strict=True))
    if isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        return kind(**{f.name: _rebuild(hints[f.name], value[f.name]) for f in fields(kind)})
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    return value


def call_from_dict(data: dict[str, Any]) -> CallResult:
    result: CallResult = _rebuild(CallResult, {**data, "streams": [], "echo": None})
    return result


def report_to_dict(report: WorkerReport) -> dict[str, Any]:
    return {
        "t0": report.t0,
        "events": [event_to_dict(e) for e in report.events],
        "calls": [
            {
                "result": call_to_dict(c.result),
                "timed_out": c.timed_out,
                "origin": c.origin,
                "events": list(c.events),
            }
            for c in report.calls
        ],
    }


def report_from_dict(data: dict[str, Any]) -> WorkerReport:
    return WorkerReport(
        t0=float(data["t0"]),
        events=tuple(event_from_dict(e) for e in data["events"]),
        calls=tuple(
            WorkerCall(
                result=call_from_dict(c["result"]),
                timed_out=c["timed_out"],
                origin=c["origin"],
                events=tuple(int(i) for i in c["events"]),
            )
            for c in data["calls"]
        ),
    )
