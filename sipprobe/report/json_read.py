"""A JSON report read back into the typed model: the one place a report.json becomes records.

``read_report(document)`` is the inverse of ``report_to_json``: encoding what it returns
gives the same document again (tests/data/recorded/ holds reports of real runs that prove
it). What the JSON does not carry stays at its default: ``StepResult.reachable`` is ``None``
and a stream's codec planning values are not needed again. Figures the JSON wrote as
``null`` because they were not finite come back as NaN, so they are written as ``null``
again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sipprobe.model.demarc import Equipment, Location, Responsible
from sipprobe.model.dtmf import CallDtmf, DtmfDigit
from sipprobe.model.endpoint import Endpoint
from sipprobe.model.hold import CallHold, HoldMedia, Reinvite
from sipprobe.model.inbound import InboundCall
from sipprobe.model.legs import CalleeLeg
from sipprobe.model.media import (
    CallEcho,
    CallListening,
    CallStream,
    EchoRttMs,
    FarEndReport,
    JitterMs,
    PerSecondRows,
    RtpStreamInfo,
    StreamMetrics,
    StreamResult,
    TimelinePoint,
    VoipMetrics,
)
from sipprobe.model.nat import (
    BindingMeasurement,
    BindingProbe,
    CallAlgCheck,
    NatCheckResult,
    NatExchange,
    PrivateAddress,
    Rewrite,
)
from sipprobe.model.outcome import Quality, Severity, Side
from sipprobe.model.results import (
    Baseline,
    BaselineFigure,
    CallResult,
    CaptureSummary,
    Finding,
    RtcpSummary,
    RunReport,
    SipEvent,
    SipLimits,
    StepResult,
    Verdict,
)
from sipprobe.model.session_timer import SessionRefresh, SessionTimer
from sipprobe.model.steps import (
    AnswerDetail,
    CallDetail,
    NatCheckDetail,
    OptionsDetail,
    RegisterDetail,
    StepDetail,
    WaitDetail,
)
from sipprobe.model.thresholds import Thresholds
from sipprobe.sip.contact import contact_binding

__all__ = ["load_report", "nat_check_result", "read_report", "stream_result"]


def load_report(path: str | Path) -> RunReport:
    """The report.json at ``path``; raises ``OSError``, ``ValueError`` (not JSON) or
    ``KeyError``/``TypeError`` (not a sipprobe report)."""
    return read_report(json.loads(Path(path).read_text(encoding="utf-8")))


def read_report(document: dict[str, Any]) -> RunReport:
    calls = iter([_call(c) for c in document["calls"]])
    steps = tuple(_step(s, calls) for s in document["steps"])
    verdict = document["verdict"]
    capture = document["capture"]
    baseline = document["baseline"]
    return RunReport(
        scenario=document["scenario"],
        service=document["service"],
        target=document["target"],
        transport=document["transport"],
        started_at=document["started_at"],
        duration_s=document["duration_s"],
        steps=steps,
        timeline=tuple(SipEvent(**event) for event in document["sip"]),
        verdict=Verdict(
            messaging=Quality(verdict["messaging"]),
            media=Quality(verdict["media"]),
            findings=tuple(_finding(f) for f in verdict["findings"]),
            summary=verdict["summary"],
        ),
        probe=dict(document["probe"]),
        local_errors=tuple(document["local_errors"]),
        capture=None
        if capture is None
        else CaptureSummary(
            path=capture["file"],
            interface=capture["interface"],
            bpf_filter=capture["filter"],
            packets=capture["packets"],
            not_captured=capture["not_captured"],
            error=capture["error"],
            # the cap's keys were added later: older reports read as no cap
            limit=capture.get("limit"),
            rtp_packets=capture.get("rtp_packets"),
            max_packets=capture.get("max_packets"),
            max_bytes=capture.get("max_bytes"),
        ),
        thresholds=Thresholds(**document["thresholds"]),
        # reports written before these keys existed read as a LAN run with default equipment
        location=Location(document.get("location", Location.CUSTOMER_LAN.value)),
        equipment=Equipment(**document["equipment"]) if document.get("equipment") else None,
        sip_limits=_sip_limits(document.get("sip_limits")),
        baseline=None
        if baseline is None
        else Baseline(
            **{k: v for k, v in baseline.items() if k != "figures"},
            figures=tuple(BaselineFigure(**f) for f in baseline["figures"]),
        ),
    )


def _sip_limits(data: dict[str, Any] | None) -> SipLimits | None:
    """The timeline's bounds and drops; None in reports written before the key existed."""
    if data is None:
        return None
    return SipLimits(
        max_messages=data["max_messages"],
        max_repeats=data["max_repeats"],
        max_text_chars=data["max_text_chars"],
        dropped=tuple(data["dropped"].items()),
        dropped_from=tuple(data["dropped_from"].items()),
        dropped_calls=tuple(data["dropped_calls"].items()),
        truncated=data["truncated"],
        unparsed=data["unparsed"],
    )


def _finding(data: dict[str, Any]) -> Finding:
    return Finding(
        severity=Severity(data["severity"]),
        side=Side(data["side"]),
        area=data["area"],
        code=data["code"],
        summary=data["summary"],
        step=data["step"],
        evidence=tuple(data["evidence"]["sip_messages"]),
        responsible=Responsible(data.get("responsible", Responsible.UNDETERMINED.value)),
        policy=data.get("policy", "undetermined"),
    )


def _step(data: dict[str, Any], calls: Any) -> StepResult:
    kind = data["kind"]
    return StepResult(
        index=data["index"],
        kind=kind,
        name=data["name"],
        ok=data["ok"],
        status_code=data["status_code"],
        reason=data["reason"],
        origin=data["origin"],
        timings_ms=dict(data["timings_ms"]),
        detail=_detail(kind, data["detail"]),
        expected_status=data["expected_status"],
        # calls[] lists the call steps' calls, and an answer step's when a call came in
        call=next(calls) if kind == "call" or _answered_in(kind, data) else None,
        events=tuple(data["sip_messages"]),
    )


def _answered_in(kind: str, data: dict[str, Any]) -> bool:
    return kind == "answer" and data["detail"]["caller"] is not None


def _inbound_call(data: dict[str, Any] | None) -> InboundCall | None:
    if data is None:
        return None
    return InboundCall(
        source=data["source"],
        transport=data["transport"],
        request_uri=data["request_uri"],
        from_header=data["from"],
        to_header=data["to"],
        asserted_identity=data["p_asserted_identity"],
        contact=data["contact"],
        user_agent=data["user_agent"],
        call_id=data["call_id"],
        invite_after_ms=data["invite_after_ms"],
        ringing_sent_ms=data["ringing_sent_ms"],
        answered_sent_ms=data["answered_sent_ms"],
        ack_after_ms=data["ack_after_ms"],
        offered_codecs=tuple(data["offered_codecs"]),
        delayed_offer=data.get("delayed_offer", False),  # both written since delayed offers
        held_by_caller=tuple(Reinvite(**r) for r in data.get("held_by_caller", [])),
    )


def _detail(kind: str, data: dict[str, Any]) -> StepDetail:
    if kind == "options":
        return OptionsDetail(
            **{**data, "allow": tuple(data["allow"]), "supported": tuple(data["supported"])}
        )
    if kind == "register":
        sent = data["contact_sent"]
        return RegisterDetail(
            action=data["action"],
            expires_s=data["expires_s"],
            requested_expires_s=data["requested_expires_s"],
            contacts=tuple(contact_binding(c) for c in data["contacts"]),
            contact_sent=contact_binding(sent) if sent is not None else None,
            challenge=data["challenge"],
            credentials=data["credentials"],
        )
    if kind == "call":
        return CallDetail(**data)
    if kind == "nat_check":
        return NatCheckDetail(nat_check_result(data))
    if kind == "wait":
        return WaitDetail(**data)
    if kind == "answer":
        return AnswerDetail(**{**data, "caller": _inbound_call(data["caller"])})
    raise ValueError(f"unknown step kind {kind!r}")


def nat_check_result(data: dict[str, Any]) -> NatCheckResult:
    binding = data["binding"]
    return NatCheckResult(
        **{k: v for k, v in data.items() if k not in ("exchanges", "binding")},
        exchanges=tuple(_exchange(e) for e in data["exchanges"]),
        binding=None
        if binding is None
        else BindingMeasurement(
            **{k: v for k, v in binding.items() if k not in ("probes", "intervals_s")},
            probes=tuple(BindingProbe(**p) for p in binding["probes"]),
            intervals_s=tuple(binding["intervals_s"]),
        ),
    )


def _exchange(data: dict[str, Any]) -> NatExchange:
    return NatExchange(
        **{k: v for k, v in data.items() if k not in ("rewrites", "private_in_answer")},
        rewrites=tuple(Rewrite(**r) for r in data["rewrites"]),
        private_in_answer=tuple(PrivateAddress(**p) for p in data["private_in_answer"]),
    )


def _call(data: dict[str, Any]) -> CallResult:
    rtcp, echo, alg = data["rtcp"], data["echo"], data.get("sip_alg")  # older reports: none
    callee = data.get("callee")  # only in a two-leg call
    dtmf, hold = data.get("dtmf"), data.get("hold")  # older reports: none
    timer = data.get("session_timer")  # older reports: none
    nested = (
        *("rtcp", "echo", "streams", "sip_alg", "listening", "dtmf", "hold", "callee"),
        "session_timer",
    )
    plain = {k: v for k, v in data.items() if k not in nested}
    return CallResult(
        **{**plain, "offered_codecs": tuple(data["offered_codecs"])},
        rtcp=None if rtcp is None else RtcpSummary(**rtcp),
        echo=None if echo is None else _echo(echo),
        streams=tuple(_call_stream(s) for s in data["streams"]),
        sip_alg=None if alg is None else _sip_alg(alg),
        listening=_listening(data.get("listening")),  # older reports: none
        callee=None if callee is None else _callee(callee),
        dtmf=None if dtmf is None else _dtmf(dtmf),
        hold=None if hold is None else _hold(hold),
        session_timer=None if timer is None else _session_timer(timer),
    )


def _session_timer(data: dict[str, Any]) -> SessionTimer:
    refreshes = tuple(SessionRefresh(**r) for r in data["refreshes"])
    return SessionTimer(**{**data, "refreshes": refreshes})


def _callee(data: dict[str, Any]) -> CalleeLeg:
    return CalleeLeg(
        account=data["account"],
        call_id=data["call_id"],
        status_code=data["status_code"],
        answered_after_ms=data["answered_after_ms"],
        invite_after_ms=data["invite_after_ms"],
        from_header=data["from"],
        to_header=data["to"],
        asserted_identity=data["p_asserted_identity"],
        codec=data["codec"],
        hangup_by=data["hangup_by"],
        error=data["error"],
        streams=tuple(_call_stream(s) for s in data["streams"]),
        listening=_listening(data.get("listening")),  # older reports: none
    )


def _listening(data: dict[str, Any] | None) -> CallListening | None:
    return None if data is None else CallListening(**data)


def _hold(data: dict[str, Any]) -> CallHold:
    return CallHold(
        hold_s=data["hold_s"],
        error=data["error"],
        reinvites=tuple(Reinvite(**r) for r in data["reinvites"]),
        mode=data.get("mode", "sendonly"),  # older reports: sendonly, the only mode then
        media=tuple(
            HoldMedia(**{**m, "packets_per_s": tuple(m["packets_per_s"])}) for m in data["media"]
        ),
    )


def _dtmf(data: dict[str, Any]) -> CallDtmf:
    plain = {k: v for k, v in data.items() if k not in ("sent_digits", "received_digits")}
    del plain["matched"]  # derived from the others
    plain.setdefault("inband_received", None)  # written since in-band DTMF
    return CallDtmf(
        **plain,
        sent_digits=tuple(DtmfDigit(**d) for d in data["sent_digits"]),
        received_digits=tuple(DtmfDigit(**d) for d in data["received_digits"]),
    )


def _sip_alg(data: dict[str, Any]) -> CallAlgCheck:
    return CallAlgCheck(
        seen_from=data["seen_from"],
        public_address=data["public_address"],
        proxies=tuple(data["proxies"]),
        rewrites=tuple(Rewrite(**r) for r in data["rewrites"]),
        evidence=tuple(data["evidence"]),
        error=data["error"],
    )


def _echo(data: dict[str, Any]) -> CallEcho:
    return CallEcho(
        lag_ms=data["lag_ms"],
        correlation=data["correlation"],
        packets=data["packets"],
        rtt_ms=EchoRttMs(**data["rtt_ms"]),
        histogram_ms=tuple((bucket, count) for bucket, count in data["histogram_ms"]),
        one_way_delay_ms=data["one_way_delay_ms"],
        mos_cq=data["mos_cq"],
        mos_cq_null_reason=data["mos_cq_null_reason"],
        r_factor_cq=data.get("r_factor_cq"),  # written only with a score
    )


def _call_stream(data: dict[str, Any]) -> CallStream:
    announced = data["sdp_remote"]
    return CallStream(
        direction=data["direction"],
        source=data["source"],
        announced_rtp=Endpoint.parse(announced) if announced is not None else None,
        from_announced_address=data["from_announced_address"],
        measured=stream_result(data),
    )


def _number(value: float | None) -> float:
    """A figure that is always a number: ``null`` in JSON means it was not finite."""
    return math.nan if value is None else value


def stream_result(data: dict[str, Any]) -> StreamResult:
    """A stream object of ``sipprobe analyze``'s JSON (or of a run's call) as a record."""
    far_end = data["far_end"]
    return StreamResult(
        stream=RtpStreamInfo(
            src=data["src"],
            dst=data["dst"],
            ssrc=data["ssrc"],
            payload_type=data["payload_type"],
            codec=data["codec"],
            clock_rate=data["clock_rate"],
            call_id=data["call_id"],
            found_by=data["found_by"],
            dscp=tuple(data["dscp"]),
        ),
        metrics=_metrics(data),
        start_s=_number(data["start_s"]),
        end_s=_number(data["end_s"]),
        one_way_delay_ms=data["one_way_delay_ms"],
        delay_source=data["delay_source"],
        rtt_ms=data["rtt_ms"],
        far_end=None if far_end is None else _far_end(far_end),
        verdict=Quality(data["verdict"]),
        reasons=tuple(data["verdict_reasons"]),
    )


def _far_end(data: dict[str, Any]) -> FarEndReport:
    voip = data["voip_metrics"]
    return FarEndReport(
        reports=data["reports"],
        fraction_lost=_number(data["fraction_lost"]),
        cumulative_lost=data["cumulative_lost"],
        jitter_ms=data["jitter_ms"],
        voip_metrics=None if voip is None else VoipMetrics(**voip),
    )


_FLOATS = ("loss_pct", "max_delta_ms", "burst_density", "gap_density", "burst_r", "ppl_pct")


def _metrics(data: dict[str, Any]) -> StreamMetrics:
    jitter = data["jitter_ms"]
    rows = tuple(
        TimelinePoint(row["second"], row["expected"], row["lost"], row["jitter_ms"])
        for row in data["timeline"]
    )
    names = StreamMetrics.__dataclass_fields__
    plain = {k: data[k] for k in names if k not in ("jitter_ms", "timeline")}
    plain.update({k: _number(plain[k]) for k in (*_FLOATS, "duration_s")})
    return StreamMetrics(
        **plain,
        jitter_ms=None if jitter is None else JitterMs(**jitter),
        timeline=PerSecondRows(rows),
    )
