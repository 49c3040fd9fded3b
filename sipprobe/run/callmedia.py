"""Each call's media, measured from the run's capture: which stream is which, in which direction.

The SDP the probe sent (the offer) says where the probe receives RTP; the SDP answer says
where the far end wants it. A stream arriving at the probe's address is ``rx`` (platform to
probe), one leaving it is ``tx`` (probe to platform, the probe's own sending regularity: the
measurement floor). Both come from the capture, so ``source`` is ``capture``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sipprobe.analysis.analyze import AnalysisResult, AnalyzeOptions, analyze_file
from sipprobe.analysis.codecs import codec_by_name, planning_values
from sipprobe.analysis.echo import EchoPacket, measure_echo
from sipprobe.analysis.emodel import e_model
from sipprobe.analysis.sipsdp import parse_sdp
from sipprobe.capture.payloads import RtpPayload, rtp_payloads
from sipprobe.model.results import SipEvent, StepResult
from sipprobe.report.analysis import stream_json
from sipprobe.sip.message import parse_message


@dataclass(frozen=True, slots=True)
class CallMediaEnds:
    """Where a call's RTP should flow, from the SDP offer and answer in the timeline."""

    call_id: str
    local: str | None  # "addr:port" the probe announced
    remote: str | None  # "addr:port" the far end announced


def sdp_endpoint(body: str) -> str | None:
    """``addr:port`` of the first audio stream of an SDP body, written as the capture's stream
    endpoints are (the same parser reads SDP out of captures)."""
    audio = [
        m
        for m in parse_sdp(body.encode(), call_id="", message="", arrival_s=0.0)
        if m.media == "audio"
    ]
    if not audio:
        return None
    address, port = audio[0].address, audio[0].port
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def call_media_ends(events: Iterable[SipEvent], call_id: str) -> CallMediaEnds:
    local = remote = None
    for event in events:
        if event.call_id != call_id or "application/sdp" not in event.text.lower():
            continue
        try:
            endpoint = sdp_endpoint(parse_message(event.text).body)
        except ValueError:
            continue
        if event.direction == "tx" and event.is_request and event.method == "INVITE":
            local = local or endpoint
        elif event.direction == "rx" and event.status_code is not None:
            remote = endpoint or remote  # the last answer wins (183 then 200)
    return CallMediaEnds(call_id, local, remote)


def _port(endpoint: str | None) -> int | None:
    if endpoint is None:
        return None
    return int(endpoint.rsplit(":", 1)[1])


def analyse_run_capture(
    path: Path, ends: list[CallMediaEnds], jitter_buffer_ms: float = 60.0
) -> AnalysisResult:
    ports = tuple(p for p in (_port(e.local) for e in ends) if p is not None)
    return analyze_file(path, AnalyzeOptions(jitter_buffer_ms=jitter_buffer_ms, rtp_ports=ports))


def streams_of_call(analysis: AnalysisResult, ends: CallMediaEnds) -> tuple[dict[str, Any], ...]:
    """The call's streams as report objects, rx first, each with direction and source."""
    if ends.local is None:
        return ()
    found: list[dict[str, Any]] = []
    for result in analysis.streams:
        stream = result.stream
        if stream.dst == ends.local:
            direction = "rx"
        elif stream.src == ends.local:
            direction = "tx"
        else:
            continue
        data = stream_json(result)
        data["direction"] = direction
        data["source"] = "capture"
        data["sdp_remote"] = ends.remote
        data["from_announced_address"] = stream.src == ends.remote if direction == "rx" else None
        found.append(data)
    return tuple(sorted(found, key=lambda s: (s["direction"] != "rx", s.get("start_s") or 0)))


def attach_streams(
    steps: tuple[StepResult, ...], timeline: tuple[SipEvent, ...], analysis: AnalysisResult
) -> tuple[StepResult, ...]:
    """Steps with each call's ``streams`` filled from the capture analysis."""
    updated = []
    for step in steps:
        call = step.call
        if call is None or not call.call_id:
            updated.append(step)
            continue
        ends = call_media_ends(timeline, call.call_id)
        streams = streams_of_call(analysis, ends)
        updated.append(replace(step, call=replace(call, streams=streams)))
    return tuple(updated)


def calls_media_ends(
    steps: tuple[StepResult, ...], timeline: tuple[SipEvent, ...]
) -> list[CallMediaEnds]:
    return [
        call_media_ends(timeline, s.call.call_id)
        for s in steps
        if s.call is not None and s.call.call_id
    ]


def _echo_packets(packets: list[RtpPayload], local_port: int, sent: bool) -> list[EchoPacket]:
    return [
        EchoPacket(p.arrival_s, p.seq, p.payload_type, p.payload)
        for p in packets
        if (p.src_port if sent else p.dst_port) == local_port
    ]


def echo_report(
    packets: list[RtpPayload],
    local_port: int,
    rx: dict[str, Any] | None,
    jitter_buffer_ms: float,
) -> dict[str, Any] | None:
    """The call's echo round trip and the MOS-CQ it implies, or None without an echo."""
    result = measure_echo(
        _echo_packets(packets, local_port, sent=True),
        _echo_packets(packets, local_port, sent=False),
    )
    if result is None:
        return None
    report: dict[str, Any] = {
        "lag_ms": result.lag_ms,
        "correlation": result.correlation,
        "packets": result.packets,
        "rtt_ms": {
            "min": result.rtt_ms_min,
            "median": result.rtt_ms_median,
            "p95": result.rtt_ms_p95,
            "max": result.rtt_ms_max,
        },
        "histogram_ms": [list(bucket) for bucket in result.histogram_ms],
        "one_way_delay_ms": None,
        "mos_cq": None,
        "mos_cq_null_reason": None,
    }
    if rx is None:
        report["mos_cq_null_reason"] = "no received stream to score"
        return report
    ptime = float(rx.get("ptime_ms") or 20.0)
    ta_ms = result.rtt_ms_median / 2.0 + jitter_buffer_ms + ptime
    report["one_way_delay_ms"] = round(ta_ms, 3)
    codec_name, clock = rx.get("codec"), rx.get("clock_rate")
    values = (
        planning_values(codec_by_name(str(codec_name), int(clock)), plc=True)
        if codec_name and clock
        else None
    )
    if values is None:
        report["mos_cq_null_reason"] = f"no E-model planning value for codec {codec_name}"
        return report
    score = e_model(
        ie=values.ie,
        bpl=values.bpl,
        ppl_pct=float(rx.get("ppl_pct") or 0.0),
        burst_r=max(1.0, float(rx.get("burst_r") or 1.0)),
        ta_ms=ta_ms,
    )
    report["mos_cq"] = round(score.mos, 4)
    report["r_factor_cq"] = round(score.r, 4)
    return report


def attach_echo(
    steps: tuple[StepResult, ...],
    timeline: tuple[SipEvent, ...],
    path: Path,
    jitter_buffer_ms: float = 60.0,
) -> tuple[StepResult, ...]:
    """Steps whose calls had an echoing far end, with ``echo`` filled in."""
    ends = {e.call_id: e for e in calls_media_ends(steps, timeline)}
    ports = {p for p in (_port(e.local) for e in ends.values()) if p is not None}
    if not ports:
        return steps
    packets = rtp_payloads(path, ports)
    updated = []
    for step in steps:
        call = step.call
        local = _port(ends[call.call_id].local) if call and call.call_id in ends else None
        # Encrypted payloads are not audio: a far end that reflects SRTP byte for byte would
        # correlate perfectly with noise, so an SRTP call has no echo figures.
        if call is None or local is None or call.srtp:
            updated.append(step)
            continue
        rx = next((s for s in call.streams if s.get("direction") == "rx"), None)
        echo = echo_report(packets, local, rx, jitter_buffer_ms)
        updated.append(replace(step, call=replace(call, echo=echo)))
    return tuple(updated)
