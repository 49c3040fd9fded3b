"""Run reports made by hand for the history and baseline tests: an OPTIONS step, then a call."""

from __future__ import annotations

from media_samples import call_detail, options_detail

from sipprobe.model.media import CallStream
from sipprobe.model.results import (
    CallResult,
    Finding,
    Quality,
    RtcpSummary,
    RunReport,
    Severity,
    Side,
    StepResult,
    Verdict,
)

GOOD = Verdict(Quality.GOOD, Quality.GOOD, (), "signalling and media were good at the demarc")


def rtcp(loss_pct: float | None = 0.0, jitter_ms: float | None = 1.5) -> RtcpSummary:
    return RtcpSummary(
        source="pjmedia",
        rx_packets=250,
        rx_lost=0,
        rx_loss_pct=loss_pct,
        rx_jitter_mean_ms=jitter_ms,
        rx_jitter_max_ms=jitter_ms,
        tx_packets=250,
        tx_lost_reported=2,
        tx_jitter_reported_ms=0.8,
        rtt_ms=0.4,
        remote_rtp="127.0.0.1:4000",
    )


def call(
    pdd_ms: float | None = 400.0,
    answer_ms: float | None = 450.0,
    media: RtcpSummary | None = None,
    streams: tuple[CallStream, ...] = (),
) -> CallResult:
    return CallResult(
        target="sip:echo@127.0.0.1:5062",
        call_id="call-1",
        status_code=200,
        reason="OK",
        answered=True,
        trying_ms=2.0,
        pdd_ms=pdd_ms,
        answer_ms=answer_ms,
        challenge=None,
        invite_retransmissions=0,
        early_media=False,
        ringing=True,
        hold_s=5.0,
        bye_ms=1.0,
        bye_status=200,
        hangup_by="probe",
        offered_codecs=("PCMU/8000",),
        codec="PCMU/8000",
        rtcp=media if media is not None else rtcp(),
        streams=streams,
    )


def report(
    result: CallResult | None = None,
    started_at: str = "2026-11-20T10:00:00.000Z",
    verdict: Verdict = GOOD,
    scenario: str = "trunk",
    target: str = "sip:127.0.0.1:5062",
) -> RunReport:
    options = StepResult(
        index=0,
        kind="options",
        name="OPTIONS",
        ok=True,
        status_code=200,
        reason="OK",
        origin="network",
        timings_ms={"rtt": 0.7},
        detail=options_detail(),
        reachable=True,
        events=(0, 1),
    )
    the_call = result if result is not None else call()
    call_step = StepResult(
        index=1,
        kind="call",
        name="call sip:echo@127.0.0.1:5062",
        ok=True,
        status_code=200,
        reason="OK",
        origin="network",
        timings_ms={"pdd": the_call.pdd_ms or 0.0, "answer": the_call.answer_ms or 0.0},
        detail=call_detail(),
        reachable=True,
        call=the_call,
        events=(2, 3, 4, 5),
    )
    return RunReport(
        scenario=scenario,
        service="sip-trunk",
        target=target,
        transport="udp",
        started_at=started_at,
        duration_s=6.2,
        steps=(options, call_step),
        timeline=(),
        verdict=verdict,
        probe={"version": "0.1.0"},
    )


def degraded(summary: str = "post-dial delay 3.50 s (good below 3 s)") -> Verdict:
    finding = Finding(
        Severity.WARNING, Side.PLATFORM, "messaging", "post-dial-delay", summary, 1, (2, 3)
    )
    return Verdict(Quality.DEGRADED, Quality.GOOD, (finding,), f"messaging degraded: {summary}")
