"""Call results crossing the boundary between a call worker process and its run, as JSON.

The dicts live only on the pipe between the two processes (as pytest's reports have
``_to_json`` for xdist). They are not the report's JSON: ``report/json_read.py`` reads that,
and it sits above ``run`` in the layers, so a run cannot use it; and a worker's records are
simpler (no streams nor echo yet: those come from the run's capture, after the workers
ended). Every record is rebuilt as the frozen model type on the run's side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sipprobe.model.dtmf import CallDtmf, DtmfDigit
from sipprobe.model.hold import CallHold, HoldMedia, Reinvite
from sipprobe.model.results import CallResult, RtcpSummary, SipEvent


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


def _dtmf_from_dict(data: dict[str, Any] | None) -> CallDtmf | None:
    if data is None:
        return None
    digits = {k: tuple(DtmfDigit(**d) for d in data[k]) for k in ("sent_digits", "received_digits")}
    return CallDtmf(**{**data, **digits})


def _hold_from_dict(data: dict[str, Any] | None) -> CallHold | None:
    if data is None:
        return None
    reinvites = tuple(Reinvite(**r) for r in data["reinvites"])
    media = tuple(HoldMedia(**m) for m in data["media"])
    return CallHold(**{**data, "reinvites": reinvites, "media": media})


def call_from_dict(data: dict[str, Any]) -> CallResult:
    fields = dict(data)
    rtcp = fields.pop("rtcp")
    fields["offered_codecs"] = tuple(fields["offered_codecs"])
    fields["dtmf"] = _dtmf_from_dict(fields.get("dtmf"))
    fields["hold"] = _hold_from_dict(fields.get("hold"))
    return CallResult(**fields, rtcp=RtcpSummary(**rtcp) if rtcp is not None else None)


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
