"""Media findings from captured streams: directions, sides and the evidence they cite."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from media_samples import call_detail, call_stream, far_end

from sipprobe.model.media import CallStream
from sipprobe.model.results import CallResult, Severity, Side, StepResult
from sipprobe.model.thresholds import Thresholds
from sipprobe.verdict.media import stream_findings

CALL = CallResult(
    target="sip:echo@p",
    call_id="c",
    status_code=200,
    reason="OK",
    answered=True,
    trying_ms=1.0,
    pdd_ms=2.0,
    answer_ms=3.0,
    challenge=None,
    invite_retransmissions=0,
    early_media=False,
    ringing=True,
    hold_s=10.0,
    bye_ms=1.0,
    bye_status=200,
    hangup_by="probe",
    offered_codecs=("PCMU/8000",),
    codec="PCMU/8000",
    rtcp=None,
)


def findings(*streams: CallStream, expect_dscp: int | None = 46) -> dict[str, Any]:
    detail = call_detail(expect_dscp=expect_dscp)
    step = StepResult(
        index=0,
        kind="call",
        name="call",
        ok=True,
        status_code=200,
        reason="OK",
        origin="network",
        timings_ms={},
        detail=detail,
        call=replace(CALL, streams=streams),
    )
    assert step.call is not None
    return {f.code: f for f in stream_findings(step, detail, step.call, Thresholds())}


def test_stream_findings_clean_call_has_none() -> None:
    assert findings(call_stream("rx"), call_stream("tx")) == {}


def test_stream_findings_upstream_loss_from_cumulative_count_not_last_fraction() -> None:
    # pjmedia's last RR (sent with its RTCP BYE) covers no new packets: fraction 0
    found = findings(call_stream("rx"), call_stream("tx", far_end=far_end(3, 0.0, 26)))
    finding = found["tx-loss"]
    assert finding.side is Side.CUSTOMER_NETWORK
    assert finding.severity is Severity.CRITICAL  # 5.2 % >= 3 %
    assert "5.2%" in finding.summary
    assert "upstream" in finding.summary


def test_stream_findings_loss_both_ways_is_not_pinned_on_the_uplink() -> None:
    found = findings(
        call_stream("rx", lost=25, loss_pct=5.0), call_stream("tx", far_end=far_end(3, 0.0, 26))
    )
    assert found["tx-loss"].side is Side.UNKNOWN
    assert found["rx-loss"].severity is Severity.CRITICAL


def test_stream_findings_one_way_audio_and_no_rtp() -> None:
    one_way = findings(call_stream("tx"))
    assert one_way["one-way-audio"].severity is Severity.CRITICAL
    assert "500 RTP packets to 10.0.0.2:4000" in one_way["one-way-audio"].summary
    assert set(findings()) == {"no-rtp"}


def test_stream_findings_dscp_only_against_an_expectation() -> None:
    bleached = findings(call_stream("rx", dscp=(0,)), call_stream("tx"))
    assert bleached["dscp-removed"].side is Side.CUSTOMER_NETWORK
    assert findings(call_stream("rx", dscp=(0,)), call_stream("tx"), expect_dscp=None) == {}


def test_stream_findings_rtp_from_unannounced_address() -> None:
    moved = findings(
        call_stream("rx", src="192.0.2.9:5000", from_announced_address=False), call_stream("tx")
    )
    assert "192.0.2.9:5000" in moved["rtp-source-mismatch"].summary
