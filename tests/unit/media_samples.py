"""Typed call streams and step details for unit tests, built as the runner builds them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.media import (
    CallStream,
    FarEndReport,
    JitterMs,
    PerSecondRows,
    RtpStreamInfo,
    StreamMetrics,
    StreamResult,
    TimelinePoint,
)
from sipprobe.model.outcome import Quality
from sipprobe.model.steps import CallDetail, OptionsDetail, RegisterDetail
from sipprobe.sip.contact import contact_binding

PROBE_RTP = "10.0.0.1:30000"
FAR_RTP = "10.0.0.2:4000"


def metrics(**changes: Any) -> StreamMetrics:
    """A clean 500-packet PCMU stream's figures, with ``changes``."""
    fields: dict[str, Any] = {
        "packets": 500,
        "expected": 500,
        "lost": 0,
        "duplicates": 0,
        "reordered": 0,
        "rfc3550_cumulative_lost": 0,
        "sequence_jumps_ignored": 0,
        "sequence_restarts": 0,
        "loss_pct": 0.0,
        "jitter_ms": JitterMs(max=0.8, mean=0.4, final=0.4),
        "jitter_null_reason": None,
        "max_delta_ms": 20.5,
        "ptime_ms": 20.0,
        "discarded": 0,
        "burst_density": 0.0,
        "gap_density": 0.0,
        "burst_mean_ms": 0.0,
        "gap_mean_ms": 10000.0,
        "burst_r": 1.0,
        "ppl_pct": 0.0,
        "r_factor": 93.2,
        "mos_lq": 4.41,
        "r_factor_cq": None,
        "mos_cq": None,
        "cq_delay_ms": None,
        "mos_null_reason": "MOS-CQ needs the one-way delay",
        "timeline": PerSecondRows(()),
        "duration_s": 10.0,
    }
    fields.update(changes)
    return StreamMetrics(**fields)


def timeline(rows: list[tuple[int, int, float | None]]) -> PerSecondRows:
    """Per second from 0: (expected, lost, peak jitter ms)."""
    return PerSecondRows(tuple(TimelinePoint(second, *row) for second, row in enumerate(rows)))


def call_stream(
    direction: Literal["rx", "tx"],
    *,
    src: str | None = None,
    dst: str | None = None,
    announced: str | None = FAR_RTP,
    from_announced_address: bool | None = None,
    dscp: tuple[int, ...] = (46,),
    far_end: FarEndReport | None = None,
    verdict: Quality = Quality.GOOD,
    reasons: tuple[str, ...] = (),
    **metric_changes: Any,
) -> CallStream:
    """A stream of the run's capture; ``metric_changes`` go to ``StreamMetrics``."""
    ends = (FAR_RTP, PROBE_RTP) if direction == "rx" else (PROBE_RTP, FAR_RTP)
    info = RtpStreamInfo(
        src=src or ends[0],
        dst=dst or ends[1],
        ssrc=0x1234 if direction == "rx" else 0x5678,
        payload_type=0,
        codec="PCMU",
        clock_rate=8000,
        call_id="c",
        found_by="sdp",
        dscp=dscp,
    )
    result = StreamResult(
        stream=info,
        metrics=metrics(**metric_changes),
        start_s=0.5,
        end_s=10.5,
        one_way_delay_ms=None,
        delay_source=None,
        rtt_ms=None,
        far_end=far_end,
        verdict=verdict,
        reasons=reasons,
    )
    if from_announced_address is None and direction == "rx":
        from_announced_address = True
    return CallStream(
        direction=direction,
        source="capture",
        announced_rtp=Endpoint.parse(announced) if announced else None,
        from_announced_address=from_announced_address,
        measured=result,
    )


def far_end(reports: int, fraction_lost: float, cumulative_lost: int) -> FarEndReport:
    return FarEndReport(reports, fraction_lost, cumulative_lost, 0.5, None)


def with_mos(stream: CallStream, mos_lq: float | None) -> CallStream:
    measured = stream.measured
    return replace(
        stream, measured=replace(measured, metrics=replace(measured.metrics, mos_lq=mos_lq))
    )


def call_detail(**changes: Any) -> CallDetail:
    fields: dict[str, Any] = {
        "duration_s": 5.0,
        "expect_dscp": 46,
        "srtp": "off",
        "timed_out": None,
        "credentials": None,
    }
    fields.update(changes)
    return CallDetail(**fields)


def options_detail(**changes: Any) -> OptionsDetail:
    fields: dict[str, Any] = {
        "server": None,
        "user_agent": None,
        "allow": (),
        "supported": (),
        "retransmissions": 0,
        "error": None,
        "timeout_s": 5.0,
    }
    fields.update(changes)
    return OptionsDetail(**fields)


def register_detail(
    contacts: tuple[str, ...] = (), contact_sent: str | None = None, **changes: Any
) -> RegisterDetail:
    fields: dict[str, Any] = {
        "action": "register",
        "expires_s": 300,
        "requested_expires_s": 300,
        "contacts": tuple(contact_binding(c) for c in contacts),
        "contact_sent": contact_binding(contact_sent) if contact_sent is not None else None,
        "challenge": None,
        "credentials": None,
    }
    fields.update(changes)
    return RegisterDetail(**fields)
