"""The run report as JSON (the contract in ``sipprobe/schema/report.schema.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sipprobe.model.demarc import default_equipment
from sipprobe.model.dtmf import CallDtmf, DtmfDigit
from sipprobe.model.hold import CallHold
from sipprobe.model.legs import CalleeLeg
from sipprobe.model.media import CallEcho, CallListening, CallStream
from sipprobe.model.nat import CallAlgCheck
from sipprobe.model.results import (
    CallResult,
    CaptureSummary,
    Finding,
    RunReport,
    SipEvent,
    SipLimits,
    StepResult,
)
from sipprobe.model.session_timer import SessionTimer
from sipprobe.report.analysis import stream_json
from sipprobe.report.json_detail import detail_json
from sipprobe.verdict.headline import headline

SCHEMA_VERSION = "1.0"


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "severity": finding.severity.value,
        "side": finding.side.value,
        "area": finding.area,
        "code": finding.code,
        "summary": finding.summary,
        "step": finding.step,
        "evidence": {"sip_messages": list(finding.evidence)},
        "responsible": finding.responsible.value,
        "policy": finding.policy,
    }


def _echo(echo: CallEcho | None) -> dict[str, Any] | None:
    if echo is None:
        return None
    data = {
        "lag_ms": echo.lag_ms,
        "correlation": echo.correlation,
        "packets": echo.packets,
        "rtt_ms": {
            "min": echo.rtt_ms.min,
            "median": echo.rtt_ms.median,
            "p95": echo.rtt_ms.p95,
            "max": echo.rtt_ms.max,
        },
        "histogram_ms": [list(bucket) for bucket in echo.histogram_ms],
        "one_way_delay_ms": echo.one_way_delay_ms,
        "mos_cq": echo.mos_cq,
        "mos_cq_null_reason": echo.mos_cq_null_reason,
    }
    if echo.r_factor_cq is not None:  # only with a score: the key has always been optional
        data["r_factor_cq"] = echo.r_factor_cq
    return data


def _listening(listening: CallListening | None) -> dict[str, Any] | None:
    if listening is None:
        return None
    return {
        "mos_lqo": listening.mos_lqo,
        "model": listening.model,
        "aligned_delay_ms": listening.aligned_delay_ms,
        "active_speech_s": listening.active_speech_s,
    }


def call_stream_json(stream: CallStream) -> dict[str, Any]:
    """A stream of ``sipprobe analyze``'s JSON, with the call's view of it."""
    data = stream_json(stream.measured)
    data["direction"] = stream.direction
    data["source"] = stream.source
    data["sdp_remote"] = str(stream.announced_rtp) if stream.announced_rtp else None
    data["from_announced_address"] = stream.from_announced_address
    return data


def _call(call: CallResult) -> dict[str, Any]:
    data = {
        "target": call.target,
        "call_id": call.call_id,
        "status_code": call.status_code,
        "reason": call.reason,
        "answered": call.answered,
        "trying_ms": call.trying_ms,
        "pdd_ms": call.pdd_ms,
        "answer_ms": call.answer_ms,
        "challenge": call.challenge,
        "invite_retransmissions": call.invite_retransmissions,
        "ringing": call.ringing,
        "early_media": call.early_media,
        "hold_s": call.hold_s,
        "bye_ms": call.bye_ms,
        "bye_status": call.bye_status,
        "hangup_by": call.hangup_by,
        "local_disconnect": call.local_disconnect,
        "echo": _echo(call.echo),
        "srtp": call.srtp,
        "offered_codecs": list(call.offered_codecs),
        "codec": call.codec,
        "rtcp": asdict(call.rtcp) if call.rtcp is not None else None,
        "streams": [call_stream_json(s) for s in call.streams],
        # additions (README, "JSON report"): what a sipprobe responder's 200 OK said
        "far_end_dscp": call.far_end_dscp,
        "sip_alg": _sip_alg(call.sip_alg),
        "unusable_answer": call.unusable_answer,
        "dtmf": _dtmf(call.dtmf),
        "hold": _hold(call.hold),
        "ok_resent_after_ack": call.ok_resent_after_ack,
        "listening": _listening(call.listening),
        "session_timer": _session_timer(call.session_timer),
    }
    if call.callee is not None:  # only in a two-leg call (README, "JSON report")
        data["callee"] = _callee(call.callee)
    return data


def _callee(leg: CalleeLeg) -> dict[str, Any]:
    return {
        "account": leg.account,
        "call_id": leg.call_id,
        "status_code": leg.status_code,
        "answered_after_ms": leg.answered_after_ms,
        "invite_after_ms": leg.invite_after_ms,
        "from": leg.from_header,
        "to": leg.to_header,
        "p_asserted_identity": leg.asserted_identity,
        "codec": leg.codec,
        "hangup_by": leg.hangup_by,
        "error": leg.error,
        "streams": [call_stream_json(s) for s in leg.streams],
        "listening": _listening(leg.listening),
    }


def _hold(hold: CallHold | None) -> dict[str, Any] | None:
    if hold is None:
        return None
    return {
        "hold_s": hold.hold_s,
        "mode": hold.mode,
        "error": hold.error,
        "reinvites": [asdict(r) for r in hold.reinvites],
        "media": [{**asdict(m), "packets_per_s": list(m.packets_per_s)} for m in hold.media],
    }


def _session_timer(timer: SessionTimer | None) -> dict[str, Any] | None:
    if timer is None:
        return None
    return {**asdict(timer), "refreshes": [asdict(r) for r in timer.refreshes]}


def _dtmf_digit(digit: DtmfDigit) -> dict[str, Any]:
    return {
        "digit": digit.digit,
        "start_s": round(digit.start_s, 6),
        "duration_ms": digit.duration_ms,
        "ended": digit.ended,
    }


def _dtmf(dtmf: CallDtmf | None) -> dict[str, Any] | None:
    if dtmf is None:
        return None
    return {
        "sent": dtmf.sent,
        "received": dtmf.received,
        "method": dtmf.method,
        "received_method": dtmf.received_method,
        "matched": dtmf.matched,
        "duration_ms": dtmf.duration_ms,
        "sent_at_s": dtmf.sent_at_s,
        "send_error": dtmf.send_error,
        "sent_digits": [_dtmf_digit(d) for d in dtmf.sent_digits],
        "received_digits": [_dtmf_digit(d) for d in dtmf.received_digits],
        "far_end_received": dtmf.far_end_received,
        "inband_received": dtmf.inband_received,
    }


def _sip_alg(check: CallAlgCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "seen_from": check.seen_from,
        "public_address": check.public_address,
        "proxies": list(check.proxies),
        "rewrites": [
            {"part": r.part, "before": r.before, "after": r.after} for r in check.rewrites
        ],
        "evidence": list(check.evidence),
        "error": check.error,
    }


def _step(step: StepResult) -> dict[str, Any]:
    return {
        "index": step.index,
        "kind": step.kind,
        "name": step.name,
        "ok": step.ok,
        "status_code": step.status_code,
        "reason": step.reason,
        "origin": step.origin,
        "expected_status": step.expected_status,
        "timings_ms": dict(step.timings_ms),
        "detail": detail_json(step.detail),
        "sip_messages": list(step.events),
    }


def _event(event: SipEvent) -> dict[str, Any]:
    return {
        "index": event.index,
        "t_s": event.t_s,
        "direction": event.direction,
        "transport": event.transport,
        "peer": event.peer,
        "first_line": event.first_line,
        "call_id": event.call_id,
        "cseq": event.cseq,
        "method": event.method,
        "status_code": event.status_code,
        "text": event.text,
    }


def _capture(capture: CaptureSummary | None) -> dict[str, Any] | None:
    """Capture facts; the file is named as it is in the evidence bundle."""
    if capture is None:
        return None
    return {
        "file": "capture.pcap" if capture.path else None,
        "interface": capture.interface,
        "filter": capture.bpf_filter,
        "packets": capture.packets,
        "not_captured": capture.not_captured,
        "error": capture.error,
        "limit": capture.limit,
        "rtp_packets": capture.rtp_packets,
        "max_packets": capture.max_packets,
        "max_bytes": capture.max_bytes,
    }


def _sip_limits(limits: SipLimits | None) -> dict[str, Any] | None:
    if limits is None:
        return None
    return {
        "max_messages": limits.max_messages,
        "max_repeats": limits.max_repeats,
        "max_text_chars": limits.max_text_chars,
        "dropped": dict(limits.dropped),
        "dropped_from": dict(limits.dropped_from),
        "dropped_calls": dict(limits.dropped_calls),
        "truncated": limits.truncated,
        "unparsed": limits.unparsed,
    }


def report_to_json(report: RunReport) -> dict[str, Any]:
    verdict = report.verdict
    return {
        "schema_version": SCHEMA_VERSION,
        "scenario": report.scenario,
        "service": report.service,
        "target": report.target,
        "transport": report.transport,
        "started_at": report.started_at,
        "duration_s": report.duration_s,
        "probe": dict(report.probe),
        "location": report.location.value,
        "equipment": asdict(report.equipment or default_equipment(report.service)),
        "exit_code": int(verdict.exit_code),
        "verdict": {
            "messaging": verdict.messaging.value,
            "media": verdict.media.value,
            "summary": verdict.summary,
            "headline": headline(verdict, report.location),
            "findings": [_finding(f) for f in verdict.findings],
        },
        "steps": [_step(s) for s in report.steps],
        "calls": [_call(c) for c in report.calls],
        "local_errors": list(report.local_errors),
        "capture": _capture(report.capture),
        "sip_limits": _sip_limits(report.sip_limits),
        "baseline": asdict(report.baseline) if report.baseline is not None else None,
        "thresholds": asdict(report.thresholds),
        "sip": [_event(e) for e in report.timeline],
    }


def render_json(report: RunReport) -> str:
    return json.dumps(report_to_json(report), indent=2) + "\n"
