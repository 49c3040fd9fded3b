"""Run reports for the output-format tests, built the way the runner builds them.

`clean_report()`: OPTIONS, REGISTER (401 then 200), a call with echoed media, the
un-REGISTER; every figure good. `troubled_report()`: a REGISTER rejected with the configured
password, a busy call, and SIP text holding what a hostile peer might send (control bytes,
markup, a '|').
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from media_samples import call_detail, call_stream, options_detail, register_detail, timeline

from sipprobe.model.demarc import Location, default_equipment
from sipprobe.model.media import CallStream, JitterMs
from sipprobe.model.results import (
    CallResult,
    RtcpSummary,
    RunReport,
    SipEvent,
    StepResult,
    Verdict,
)
from sipprobe.model.thresholds import Thresholds
from sipprobe.verdict.attribution import attribute
from sipprobe.verdict.policy import decide

PEER = "192.0.2.10:5060"
CALL_ID = "a84b4c76e66710@probe"


def event(index: int, t_s: float, direction: str, first_line: str, **extra: Any) -> SipEvent:
    status = int(first_line.split()[1]) if first_line.startswith("SIP/2.0") else None
    method = extra.pop("method", None) or first_line.split(maxsplit=1)[0]
    headers = extra.pop("headers", "")
    text = f"{first_line}\nCall-ID: {CALL_ID}\nCSeq: {index + 1} {method}\n{headers}".rstrip("\n")
    return SipEvent(
        index=index,
        t_s=t_s,
        direction=direction,  # type: ignore[arg-type]
        transport="UDP",
        peer=PEER,
        first_line=first_line,
        method=method,
        status_code=status,
        call_id=CALL_ID,
        cseq=index + 1,
        text=text,
    )


AUTHORIZATION = (
    'Authorization: Digest username="1001", realm="pbx", nonce="<redacted>", '
    'uri="sip:pbx", response="<redacted>", cnonce="<redacted>"'
)


def _timeline() -> tuple[SipEvent, ...]:
    return (
        event(0, 0.001, "tx", "OPTIONS sip:pbx SIP/2.0"),
        event(1, 0.013, "rx", "SIP/2.0 200 OK", method="OPTIONS"),
        event(2, 0.020, "tx", "REGISTER sip:pbx SIP/2.0"),
        event(3, 0.031, "rx", "SIP/2.0 401 Unauthorized", method="REGISTER"),
        event(4, 0.035, "tx", "REGISTER sip:pbx SIP/2.0", headers=AUTHORIZATION),
        event(5, 0.047, "rx", "SIP/2.0 200 OK", method="REGISTER"),
        event(6, 0.100, "tx", "INVITE sip:echo@pbx SIP/2.0"),
        event(7, 0.104, "rx", "SIP/2.0 100 Trying", method="INVITE"),
        event(8, 0.180, "rx", "SIP/2.0 180 Ringing", method="INVITE"),
        event(9, 0.420, "rx", "SIP/2.0 200 OK", method="INVITE"),
        event(10, 0.421, "tx", "ACK sip:echo@pbx SIP/2.0"),
        event(11, 5.421, "tx", "BYE sip:echo@pbx SIP/2.0"),
        event(12, 5.430, "rx", "SIP/2.0 200 OK", method="BYE"),
        event(13, 5.500, "tx", "REGISTER sip:pbx SIP/2.0", headers=AUTHORIZATION),
        event(14, 5.510, "rx", "SIP/2.0 200 OK", method="REGISTER"),
    )


def call_result(**changes: Any) -> CallResult:
    fields: dict[str, Any] = {
        "target": "sip:echo@pbx",
        "call_id": CALL_ID,
        "status_code": 200,
        "reason": "OK",
        "answered": True,
        "trying_ms": 4.0,
        "pdd_ms": 80.0,
        "answer_ms": 320.0,
        "challenge": None,
        "invite_retransmissions": 0,
        "early_media": False,
        "ringing": True,
        "hold_s": 5.0,
        "bye_ms": 9.0,
        "bye_status": 200,
        "hangup_by": "probe",
        "offered_codecs": ("PCMU/8000", "PCMA/8000"),
        "codec": "PCMU/8000",
        "rtcp": RtcpSummary("pjmedia", 250, 0, 0.0, 0.4, 0.9, 250, 0, 0.5, 0.2, "192.0.2.10:4000"),
    }
    fields.update(changes)
    return CallResult(**fields)


def _step(index: int, kind: str, name: str, code: int | None, **fields: Any) -> StepResult:
    defaults: dict[str, Any] = {
        "ok": code is not None and 200 <= code < 300,
        "reason": "OK" if code == 200 else "",
        "origin": "network" if code else "none",
        "timings_ms": {},
        "detail": options_detail(),
        "reachable": code is not None,
    }
    defaults.update(fields)
    return StepResult(index=index, kind=kind, name=name, status_code=code, **defaults)  # type: ignore[arg-type]


def verdict_of(steps: tuple[StepResult, ...], thresholds: Thresholds) -> Verdict:
    """The verdict as the runner gives it: the rules, then the customer-LAN attribution."""
    equipment = default_equipment("sip-trunk")
    return attribute(
        decide(steps, thresholds), steps, "sip-trunk", equipment, Location.CUSTOMER_LAN
    )


def _report(steps: tuple[StepResult, ...], thresholds: Thresholds) -> RunReport:
    return RunReport(
        scenario="trunk-check",
        service="sip-trunk",
        target="sip:pbx:5060",
        transport="udp",
        started_at="2025-03-04T05:06:07.089Z",
        duration_s=5.6,
        steps=steps,
        timeline=_timeline(),
        verdict=verdict_of(steps, thresholds),
        probe={"version": "0.1.0", "host": "probe-1", "python": "3.11.2"},
        thresholds=thresholds,
    )


def clean_report(thresholds: Thresholds | None = None) -> RunReport:
    registered = register_detail(credentials="environment variable PW")
    steps = (
        _step(0, "options", "OPTIONS sip:pbx:5060", 200, timings_ms={"rtt": 12.0}, events=(0, 1)),
        _step(
            1,
            "register",
            "REGISTER 1001@pbx",
            200,
            timings_ms={"request_to_final": 27.0, "total": 30.0},
            detail=registered,
            events=(2, 3, 4, 5),
        ),
        _step(
            2,
            "call",
            "call sip:echo@pbx",
            200,
            timings_ms={"trying": 4.0, "pdd": 80.0, "answer": 320.0, "bye": 9.0},
            detail=call_detail(duration_s=5.0),
            expected_status=200,
            call=call_result(),
            events=(6, 7, 8, 9, 10, 11, 12),
        ),
        _step(
            3,
            "register",
            "UNREGISTER 1001@pbx",
            200,
            detail=replace(registered, action="unregister"),
            events=(13, 14),
        ),
    )
    return _report(steps, thresholds or Thresholds())


HOSTILE = "Busy <script>alert(1)</script> | now\x00\x1b[31m"


def troubled_report() -> RunReport:
    clean = clean_report()
    timeline = list(clean.timeline)
    timeline[9] = replace(
        timeline[9], first_line="SIP/2.0 486 Busy Here", status_code=486, text=HOSTILE
    )
    busy = call_result(
        status_code=486,
        reason=HOSTILE,
        answered=False,
        answer_ms=None,
        hold_s=None,
        bye_ms=None,
        bye_status=None,
        hangup_by=None,
        codec=None,
        rtcp=None,
    )
    steps = (
        clean.steps[0],
        replace(
            clean.steps[1], ok=False, status_code=403, reason="Forbidden", timings_ms={"total": 30}
        ),
        replace(clean.steps[2], ok=False, status_code=486, reason=HOSTILE, call=busy),
    )
    report = _report(steps, Thresholds())
    return replace(report, timeline=tuple(timeline), local_errors=("stack\x07 stopped",))


def stream(
    direction: Literal["rx", "tx"], loss_pct: float, jitter_mean: float, mos: float
) -> CallStream:
    """A stream of the run's capture, as sipprobe.run.callmedia attaches it to a call."""
    ends = ("192.0.2.10:4000", "192.0.2.1:40000")
    src, dst = ends if direction == "rx" else ends[::-1]
    return call_stream(
        direction,
        src=src,
        dst=dst,
        announced=ends[0],
        packets=246,
        expected=250,
        lost=4,
        loss_pct=loss_pct,
        jitter_ms=JitterMs(max=2 * jitter_mean, mean=jitter_mean, final=jitter_mean),
        mos_lq=mos,
        timeline=timeline([(50, s % 2, jitter_mean + s) for s in range(5)]),
    )


def captured_report() -> RunReport:
    """The clean run, its call measured from a capture too: rx 1.6 % lost, MOS-LQ 4.1."""
    clean = clean_report()
    call = replace(
        clean.steps[2].call,
        streams=(stream("rx", 1.6, 2.5, 4.1), stream("tx", 0.0, 0.5, 4.4)),
    )
    steps = (*clean.steps[:2], replace(clean.steps[2], call=call), clean.steps[3])
    return replace(clean, steps=steps, verdict=verdict_of(steps, clean.thresholds))
