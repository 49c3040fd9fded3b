"""Media findings from captured streams: directions, sides and the evidence they cite."""

from __future__ import annotations

from dataclasses import replace

from media_samples import call_detail, call_stream, far_end

from sipprobe.model.media import CallStream
from sipprobe.model.results import CallResult, Finding, Severity, Side, StepResult
from sipprobe.model.thresholds import Thresholds
from sipprobe.verdict.media import merge_dscp_notes, sending_floor, stream_findings

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


def findings(
    *streams: CallStream, expect_dscp: int | None = 46, far_end_dscp: int | None = None
) -> dict[str, Finding]:
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
        call=replace(CALL, streams=streams, far_end_dscp=far_end_dscp),
        events=(3, 4),
    )
    assert step.call is not None
    found = stream_findings(step, detail, step.call, Thresholds())
    assert len({f.code for f in found}) == len(found)  # one finding per code in these calls
    return {f.code: f for f in found}


def test_stream_findings_clean_call_has_none() -> None:
    assert findings(call_stream("rx"), call_stream("tx")) == {}


def test_stream_findings_tx_loss_from_cumulative_count_not_last_fraction() -> None:
    # pjmedia's last RR (sent with its RTCP BYE) covers no new packets: fraction 0
    found = findings(call_stream("rx"), call_stream("tx", far_end=far_end(3, 0.0, 26)))
    assert found == {
        "tx-loss": Finding(
            Severity.CRITICAL,  # 5.2 % >= 3 %
            Side.UNKNOWN,  # loss only upstream is no evidence of the customer's uplink
            "media",
            "tx-loss",
            "the far end reports 5.2% of the probe's RTP to 10.0.0.2:4000 lost (26 of 500 "
            "packets, 3 RTCP receiver reports)",
            0,
            (3, 4),
        )
    }


def test_stream_findings_loss_both_ways_is_unknown_too() -> None:
    found = findings(
        call_stream("rx", lost=25, loss_pct=5.0), call_stream("tx", far_end=far_end(3, 0.0, 26))
    )
    assert (found["tx-loss"].side, found["tx-loss"].severity) == (Side.UNKNOWN, Severity.CRITICAL)
    assert (found["rx-loss"].side, found["rx-loss"].severity) == (Side.UNKNOWN, Severity.CRITICAL)


def test_stream_findings_one_way_audio_and_no_rtp() -> None:
    one_way = findings(call_stream("tx"))
    assert one_way["one-way-audio"].severity is Severity.CRITICAL
    assert "500 RTP packets to 10.0.0.2:4000" in one_way["one-way-audio"].summary
    assert set(findings()) == {"no-rtp"}


def test_stream_findings_dscp_changed_against_the_scenarios_marking() -> None:
    found = findings(call_stream("rx", dscp=(0,)), call_stream("tx"))
    assert found == {
        "dscp-changed": Finding(
            Severity.WARNING,
            Side.UNKNOWN,  # never customer-network from one run
            "media",
            "dscp-changed",
            "RTP from 10.0.0.2:4000 arrives with DSCP 0, not 46 as the scenario's expect_dscp "
            "says it is marked: something on the path re-marked it (one vantage point cannot "
            "tell where)",
            0,
            (3, 4),
        )
    }


def test_stream_findings_dscp_changed_against_the_far_ends_declared_marking() -> None:
    found = findings(
        call_stream("rx", dscp=(10,)), call_stream("tx"), expect_dscp=None, far_end_dscp=46
    )
    assert set(found) == {"dscp-changed"}
    assert found["dscp-changed"].summary.startswith(
        "RTP from 10.0.0.2:4000 arrives with DSCP 10, not 46 as the far end's "
        "X-Sipprobe-Rtp-Dscp says"
    )
    # the scenario's word wins over the far end's
    kept = findings(call_stream("rx", dscp=(10,)), expect_dscp=10, far_end_dscp=46)
    assert "dscp-changed" not in kept and "dscp-observed" not in kept


def test_stream_findings_dscp_as_declared_is_nothing() -> None:
    assert findings(call_stream("rx"), call_stream("tx"), expect_dscp=None, far_end_dscp=46) == {}


def test_stream_findings_dscp_unknown_marking_is_observed_only() -> None:
    found = findings(call_stream("rx", dscp=(0,)), call_stream("tx"), expect_dscp=None)
    assert found == {
        "dscp-observed": Finding(
            Severity.INFO,
            Side.UNKNOWN,
            "media",
            "dscp-observed",
            "RTP from 10.0.0.2:4000 arrives with DSCP 0; the far end's marking is not known "
            "(no expect_dscp, no X-Sipprobe-Rtp-Dscp), so it is not judged",
            0,
            (3, 4),
        )
    }
    both = findings(call_stream("rx", dscp=(0, 46)), call_stream("tx"), expect_dscp=None)
    assert both["dscp-observed"].summary.startswith(
        "RTP from 10.0.0.2:4000 arrives with DSCP 0, 46;"
    )


def test_stream_findings_dscp_partly_as_known_is_observed_not_changed() -> None:
    found = findings(call_stream("rx", dscp=(0, 46)), call_stream("tx"))
    assert set(found) == {"dscp-observed"}
    assert found["dscp-observed"].severity is Severity.INFO
    assert found["dscp-observed"].summary == (
        "RTP from 10.0.0.2:4000 arrives with DSCP 0, 46: some packets not with 46, the "
        "marking the scenario's expect_dscp names"
    )


def test_stream_findings_rtp_from_unannounced_address_with_audio_both_ways_is_info() -> None:
    moved = findings(
        call_stream("rx", src="192.0.2.9:5000", from_announced_address=False), call_stream("tx")
    )
    assert moved == {
        "rtp-source-mismatch": Finding(
            Severity.INFO,
            Side.UNKNOWN,
            "media",
            "rtp-source-mismatch",
            "RTP from 192.0.2.9:5000 arrives from another address than the SDP announced "
            "(10.0.0.2:4000); RTP flows both ways, so this is the far end's address selection "
            "or a media relay, not a fault",
            0,
            (3, 4),
        )
    }


def test_stream_findings_rtp_from_unannounced_address_without_tx_is_evidence() -> None:
    moved = findings(call_stream("rx", src="192.0.2.9:5000", from_announced_address=False))
    assert moved["rtp-source-mismatch"].severity is Severity.WARNING
    assert moved["rtp-source-mismatch"].summary.endswith(
        "(10.0.0.2:4000), and the probe sent no RTP: NAT on the path or a media relay"
    )


def test_stream_findings_late_packets_graded_as_loss() -> None:
    # 11 of 500 discarded by the de-jitter buffer, 1 within the probe's own floor (its tx
    # stream's largest gap, 20.5 ms, holds back one packet): 10 = 2 % >= 1 %, < 3 %
    late = findings(
        call_stream("rx", discarded=11, reordered=0, max_delta_ms=95.4), call_stream("tx")
    )
    assert late == {
        "rx-late": Finding(
            Severity.WARNING,
            Side.UNKNOWN,
            "media",
            "rx-late",
            "2.00% of RTP from 10.0.0.2:4000 arrived too late for the de-jitter buffer (11 of "
            "500 packets discarded, 1 of them within the probe's own sending floor; 0 "
            "reordered (0.0%); largest gap 95 ms)",
            0,
            (3, 4),
        )
    }
    bad = findings(call_stream("rx", discarded=16, reordered=150), call_stream("tx"))
    assert bad["rx-late"].severity is Severity.CRITICAL  # 15 = 3 % >= loss_bad_pct
    assert "16 of 500 packets discarded, 1 of them" in bad["rx-late"].summary
    assert "150 reordered (30.0%)" in bad["rx-late"].summary
    assert bad["rx-reordered"] == Finding(
        Severity.INFO,
        Side.UNKNOWN,
        "media",
        "rx-reordered",
        "150 of 500 packets of RTP from 10.0.0.2:4000 arrived out of order (30.0%; 16 "
        "discarded as late)",
        0,
        (3, 4),
    )


def test_stream_findings_late_packets_the_probes_own_sending_explains_are_not_graded() -> None:
    # A 3 s call: the probe's sender stalled 99.8 ms (4 packets held back), which an echo
    # reflects: 3 late packets of 151 are the probe's floor, not the path's.
    stalled = call_stream("tx", expected=151, max_delta_ms=99.8)
    assert sending_floor(stalled) == 4
    assert findings(call_stream("rx", expected=151, discarded=3), stalled) == {}
    # its own discards count too
    discarding = call_stream("tx", expected=151, discarded=3)
    assert sending_floor(discarding) == 3
    assert findings(call_stream("rx", expected=151, discarded=3), discarding) == {}
    # beyond the floor it is graded: 4 + 2 of 151 = 1.3 %
    assert findings(call_stream("rx", expected=151, discarded=6), stalled)["rx-late"].severity is (
        Severity.WARNING
    )
    # without a sent stream there is no floor
    assert sending_floor(call_stream("tx", ptime_ms=None, discarded=None)) == 0


def test_stream_findings_reordering_alone_is_info() -> None:
    found = findings(call_stream("rx", reordered=12, discarded=5), call_stream("tx"))
    assert set(found) == {"rx-reordered"}  # 5 late packets, 1 the floor's: 0.8 %, below 1 %
    assert found["rx-reordered"].severity is Severity.INFO
    unknown_clock = findings(call_stream("rx", reordered=3, discarded=None), call_stream("tx"))
    assert unknown_clock["rx-reordered"].summary.endswith("(0.6%; late unknown)")
    assert "rx-late" not in unknown_clock


def test_stream_findings_late_thresholds_are_the_scenarios() -> None:
    detail = call_detail(expect_dscp=None)
    call = replace(CALL, streams=(call_stream("rx", discarded=4), call_stream("tx")))
    step = StepResult(0, "call", "call", True, 200, "OK", "network", {}, detail, call=call)
    strict = Thresholds(loss_degraded_pct=0.5, loss_bad_pct=0.6)
    codes = {f.code: f.severity for f in stream_findings(step, detail, call, strict)}
    assert codes["rx-late"] is Severity.CRITICAL  # 0.6 % >= 0.6 %


def test_dscp_notes_of_many_calls_are_one_per_marking() -> None:
    def note(port: int, seen: str, step: int) -> Finding:
        return Finding(
            Severity.INFO, Side.UNKNOWN, "media", "dscp-observed",
            f"RTP from 10.0.0.2:{port} arrives with DSCP {seen}; the far end's marking is not "
            "known (no expect_dscp, no X-Sipprobe-Rtp-Dscp), so it is not judged",
            step,
        )  # fmt: skip

    loss = Finding(Severity.WARNING, Side.UNKNOWN, "media", "rx-loss", "2.00% lost", 1)
    notes = [note(4000 + 2 * i, "46", i) for i in range(5)]
    merged = merge_dscp_notes([notes[0], loss, *notes[1:], note(5000, "0", 7)])
    assert merged == [
        replace(
            notes[0],
            summary="RTP of 5 calls (from 10.0.0.2:4000, 10.0.0.2:4002, 10.0.0.2:4004 and 2 "
            "more) arrives with DSCP 46; the far end's marking is not known (no expect_dscp, "
            "no X-Sipprobe-Rtp-Dscp), so it is not judged",
        ),
        loss,
        note(5000, "0", 7),
    ]
    assert merge_dscp_notes(notes[:1]) == notes[:1]
    (two_in_one,) = merge_dscp_notes([note(4000, "0", 2), note(4100, "0", 2)])
    assert two_in_one.summary.startswith("2 RTP streams of 1 call (from 10.0.0.2:4000, 10.0")
    other_leg = replace(notes[1], summary="callee leg b: " + notes[1].summary)
    assert merge_dscp_notes([notes[0], other_leg]) == [notes[0], other_leg]
