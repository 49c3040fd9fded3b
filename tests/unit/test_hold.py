"""Hold and resume: the re-INVITEs from a timeline, the streams' silences from arrivals; the
200 OKs resent after the ACK (the 32 s drop)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from test_policy import call, call_step, rtcp

from sipprobe.analysis.hold import hold_media
from sipprobe.errors import ScenarioError
from sipprobe.model.hold import CallHold, HoldMedia, Reinvite, hold_duration_problem, hold_start_s
from sipprobe.model.outcome import Quality, Severity, Side
from sipprobe.model.results import SipEvent, StepResult
from sipprobe.report.json_read import _call
from sipprobe.report.json_report import _call as call_json
from sipprobe.report.text import hold_lines
from sipprobe.scenario.loader import parse_scenario
from sipprobe.signalling.ack import ok_resent_after_ack
from sipprobe.signalling.hold import reinvites, without_reinvites
from sipprobe.verdict.policy import decide


def _stream(start: float, stop: float) -> list[float]:
    return [round(start + 0.02 * i, 3) for i in range(round((stop - start) / 0.02))]


def test_hold_media_rx_stops_and_resumes_tx_keeps_going() -> None:
    rx = _stream(0.0, 2.0) + _stream(5.0, 7.0)
    tx = _stream(0.0, 7.0)
    found = hold_media(rx, tx, 3.0)
    assert found[0] == HoldMedia("rx", (50, 50, 0, 0, 0, 50, 50), 3.02, 1.98, True, True)
    assert found[1].packets_per_s == (50,) * 7
    assert (found[1].longest_gap_s, found[1].stopped, found[1].resumed) == (0.02, False, None)


def test_hold_media_rx_that_never_comes_back() -> None:
    rx = _stream(0.0, 2.0)
    tx = _stream(0.0, 7.0)
    (received, _sent) = hold_media(rx, tx, 3.0)
    assert (received.longest_gap_s, received.gap_start_s) == (5.0, 1.98)
    assert (received.stopped, received.resumed) == (True, False)


def test_hold_media_short_gap_is_not_a_stop_and_nothing_is_nothing() -> None:
    rx = _stream(0.0, 2.0) + _stream(3.0, 7.0)
    assert hold_media(rx, _stream(0.0, 7.0), 3.0)[0].stopped is False  # 1.02 s < 1.5 s
    assert hold_media([], [], 3.0) == ()
    empty = hold_media([], [0.0, 1.0], 3.0)[0]
    assert (empty.packets_per_s, empty.longest_gap_s, empty.stopped) == ((), 0.0, False)


def _event(
    index: int, t_s: float, direction: str, cseq: int, first: str, body: str = ""
) -> SipEvent:
    status = None if first.startswith("INVITE") else int(first.split()[1])
    text = f"{first}\r\nCall-ID: c\r\nCSeq: {cseq} INVITE\r\n"
    if body:
        text += f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    else:
        text += "Content-Length: 0\r\n\r\n"
    return SipEvent(index, t_s, direction, "UDP", "p", first, "INVITE", status, "c", cseq, text)  # type: ignore[arg-type]


def _sdp(direction: str) -> str:
    return (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio 4000 RTP/AVP 0\r\na={direction}\r\n"
    )


TIMELINE = [
    _event(0, 0.0, "tx", 1, "INVITE sip:echo@p SIP/2.0", _sdp("sendrecv")),
    _event(1, 0.01, "rx", 1, "SIP/2.0 200 OK", _sdp("sendrecv")),
    _event(2, 2.0, "tx", 2, "INVITE sip:echo@p SIP/2.0", _sdp("sendonly")),
    _event(3, 2.5, "tx", 2, "INVITE sip:echo@p SIP/2.0", _sdp("sendonly")),  # retransmitted
    _event(4, 2.6, "rx", 2, "SIP/2.0 100 Trying"),
    _event(5, 2.7, "rx", 2, "SIP/2.0 200 OK", _sdp("recvonly")),
    _event(6, 5.0, "tx", 3, "INVITE sip:echo@p SIP/2.0", _sdp("sendrecv")),
    _event(7, 5.004, "rx", 3, "SIP/2.0 488 Not Acceptable Here"),
]


def test_reinvites_timings_and_directions() -> None:
    assert reinvites(TIMELINE, 0.01) == (
        Reinvite("hold", 1.99, "sendonly", 200, 700.0, "recvonly"),
        Reinvite("resume", 4.99, "sendrecv", 488, 4.0, None),
    )
    assert reinvites(TIMELINE[:2], 0.01) == ()


def test_without_reinvites_keeps_the_first_invite_transaction() -> None:
    assert [e.index for e in without_reinvites(TIMELINE)] == [0, 1]
    unanswered = [_event(0, 0.0, "tx", 1, "INVITE sip:echo@p SIP/2.0")]
    assert without_reinvites(unanswered) == unanswered


def test_hold_start_and_duration_needed() -> None:
    assert hold_start_s("") == 2.0
    assert hold_start_s("159#") == 3.0
    assert hold_duration_problem(3.0, 7.0, "") is None
    assert hold_duration_problem(3.0, 6.0, "1") == (
        "needs a call of at least 7.25 s (duration), got 6 s"
    )


HOLD = CallHold(
    3.0,
    None,
    (
        Reinvite("hold", 2.008, "sendonly", 200, 0.986, "recvonly"),
        Reinvite("resume", 5.008, "sendrecv", 200, 0.895, "sendrecv"),
    ),
    (
        HoldMedia("rx", (50, 50, 0, 0, 0, 50, 50, 50), 3.02, 1.981, True, True),
        HoldMedia("tx", (50,) * 8, 0.021, 6.34, False, None),
    ),
)


def _held(hold: CallHold) -> StepResult:
    return call_step(call(200, rtcp=rtcp(250, 0, 0.3), hold=hold))


def test_hold_lines_say_what_each_reinvite_and_direction_did() -> None:
    assert hold_lines(HOLD) == [
        "hold 3 s (sendonly): hold sendonly at 2.008 s -> 200 in 0.986 ms, recvonly; "
        "resume sendrecv at 5.008 s -> 200 in 0.895 ms, sendrecv",
        "hold media: rx stopped 3.02 s, came back; tx kept flowing (longest silence 0.021 s)",
    ]
    lost = replace(HOLD, media=(replace(HOLD.media[0], resumed=False),), error="resume: x")
    assert hold_lines(lost)[0].endswith("(resume: x)")
    assert (
        hold_lines(lost)[1] == "hold media: rx stopped 3.02 s, did NOT come back; tx not measured"
    )


def test_decide_clean_hold_is_no_finding() -> None:
    verdict = decide((_held(HOLD),))
    assert verdict.findings == ()
    assert (verdict.messaging, verdict.media) == (Quality.GOOD, Quality.GOOD)


def test_decide_hold_refused_and_media_not_back() -> None:
    refused = replace(
        HOLD,
        reinvites=(HOLD.reinvites[0], replace(HOLD.reinvites[1], status_code=None)),
        media=(replace(HOLD.media[0], resumed=False), HOLD.media[1]),
    )
    verdict = decide((_held(refused),))
    assert [(f.code, f.severity, f.side, f.area, f.summary) for f in verdict.findings] == [
        (
            "hold-failed",
            Severity.WARNING,
            Side.UNKNOWN,
            "messaging",
            "hold of 3 s did not complete: the resume re-INVITE got no final response",
        ),
        (
            "hold-media-not-resumed",
            Severity.CRITICAL,
            Side.UNKNOWN,
            "media",
            "RTP from the far end (rx) stopped at 1.981 s of the call's media and did not come "
            "back after the resume",
        ),
    ]
    ended = replace(HOLD, error="the call ended before the hold was over", reinvites=())
    assert decide((_held(ended),)).findings[0].summary == (
        "hold of 3 s did not complete: the call ended before the hold was over"
    )


def test_hold_json_round_trip() -> None:
    written = call_json(call(200, hold=HOLD))
    assert written["hold"]["media"][0]["packets_per_s"] == [50, 50, 0, 0, 0, 50, 50, 50]
    assert written["hold"]["reinvites"][0] == {
        "purpose": "hold",
        "at_s": 2.008,
        "offered": "sendonly",
        "status_code": 200,
        "response_ms": 0.986,
        "answered": "recvonly",
    }
    assert _call(json.loads(json.dumps(written))).hold == HOLD


def test_scenario_call_hold_s_and_its_bounds() -> None:
    text = "target: sip:p\nsteps:\n  - call: {{{body}}}\n"
    step = parse_scenario(text.format(body="duration_s: 8, hold_s: 3"), "s.yaml", {}).steps[0]
    assert step.hold_s == 3.0  # type: ignore[union-attr]
    with pytest.raises(ScenarioError, match=re.escape("needs a call of at least 7 s")):
        parse_scenario(text.format(body="duration_s: 5, hold_s: 3"), "s.yaml", {})
    # Beyond 4 calls the call workers hold theirs (run/callworker.py).
    many = parse_scenario(text.format(body="duration_s: 9, hold_s: 3, parallel: 8"), "s.yaml", {})
    assert (many.steps[0].hold_s, many.steps[0].parallel) == (3.0, 8)  # type: ignore[union-attr]


def _ack(index: int, t_s: float) -> SipEvent:
    text = "ACK sip:echo@p SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    first = "ACK sip:echo@p SIP/2.0"
    return SipEvent(index, t_s, "tx", "UDP", "p", first, "ACK", None, "c", 1, text)


def test_ok_resent_after_ack_counts_only_200s_after_the_first_ack() -> None:
    invite = _event(0, 0.0, "tx", 1, "INVITE sip:echo@p SIP/2.0", _sdp("sendrecv"))
    ok = [_event(i, 0.01 + 0.5 * i, "rx", 1, "SIP/2.0 200 OK", _sdp("sendrecv")) for i in range(4)]
    assert ok_resent_after_ack([invite, ok[0], _ack(9, 0.02)]) == 0
    lost = [invite, ok[0], _ack(9, 0.02), ok[1], _ack(10, 0.6), ok[2], ok[3], *TIMELINE[2:]]
    assert ok_resent_after_ack(lost) == 3  # the re-INVITE's 200 (CSeq 2) is not counted
    assert ok_resent_after_ack([invite, ok[0], ok[1]]) == 0  # never ACKed: another matter
    assert ok_resent_after_ack([invite]) == 0


def test_decide_ack_lost_names_the_32_second_drop() -> None:
    dropped = call(200, rtcp=rtcp(250, 0, 0.3), hangup_by="remote", hold_s=32.0)
    findings = decide((call_step(replace(dropped, ok_resent_after_ack=10)),)).findings
    assert [(f.code, f.severity, f.side) for f in findings] == [
        ("call-dropped-ack-lost", Severity.CRITICAL, Side.UNKNOWN)
    ]
    assert findings[0].summary.startswith(
        "the far end hung up after 32.0 s, having resent its 200 OK 10 times after the "
        "probe's ACK: the ACK did not reach it (the 'call drops after about 32 seconds' case"
    )
    plain = decide((call_step(replace(dropped, ok_resent_after_ack=1)),)).findings
    assert [f.code for f in plain] == ["call-dropped"]
    short = call(200, rtcp=rtcp(250, 0, 0.3), ok_resent_after_ack=5)
    assert [(f.code, f.severity) for f in decide((call_step(short),)).findings] == [
        ("ack-not-received", Severity.WARNING)
    ]
    assert call_json(short)["ok_resent_after_ack"] == 5
    assert _call(call_json(short)).ok_resent_after_ack == 5


def test_invite_timings_answer_is_the_first_200_not_its_resends() -> None:
    from sipprobe.signalling.dialog import invite_timings

    invite = _event(0, 0.0, "tx", 1, "INVITE sip:echo@p SIP/2.0", _sdp("sendrecv"))
    resent = [
        _event(i, 0.05 + 4 * i, "rx", 1, "SIP/2.0 200 OK", _sdp("sendrecv")) for i in range(3)
    ]
    timings = invite_timings([invite, *resent])
    assert timings.answer_ms == 50.0
    assert timings.final is resent[0]


def test_reinvites_skip_refreshes_and_read_an_inactive_hold() -> None:
    timeline = [
        *TIMELINE[:2],
        _event(2, 1.0, "tx", 2, "INVITE sip:echo@p SIP/2.0", _sdp("sendrecv")),  # a refresh
        _event(3, 1.01, "rx", 2, "SIP/2.0 200 OK", _sdp("sendrecv")),
        _event(4, 2.0, "tx", 3, "INVITE sip:echo@p SIP/2.0", _sdp("inactive")),
        _event(5, 2.01, "rx", 3, "SIP/2.0 200 OK", _sdp("inactive")),
        _event(6, 3.0, "tx", 4, "INVITE sip:echo@p SIP/2.0", _sdp("inactive")),  # a refresh
        _event(7, 3.01, "rx", 4, "SIP/2.0 200 OK", _sdp("inactive")),
        _event(8, 5.0, "tx", 5, "INVITE sip:echo@p SIP/2.0", _sdp("sendrecv")),
        _event(9, 5.02, "rx", 5, "SIP/2.0 200 OK", _sdp("sendrecv")),
    ]
    assert reinvites(timeline, 0.01) == (
        Reinvite("hold", 1.99, "inactive", 200, 10.0, "inactive"),
        Reinvite("resume", 4.99, "sendrecv", 200, 20.0, "sendrecv"),
    )


INACTIVE = replace(
    HOLD,
    mode="inactive",
    reinvites=(
        replace(HOLD.reinvites[0], offered="inactive", answered="inactive"),
        *HOLD.reinvites[1:],
    ),
    media=(HOLD.media[0], replace(HOLD.media[1], longest_gap_s=3.01, stopped=True, resumed=True)),
)


def test_decide_inactive_hold_expects_both_directions_to_stop() -> None:
    assert decide((_held(INACTIVE),)).findings == ()
    assert (
        hold_lines(INACTIVE)[1]
        == "hold media: rx stopped 3.02 s, came back; tx stopped 3.01 s, came back"
    )
    kept = replace(
        INACTIVE,
        media=(
            replace(HOLD.media[0], longest_gap_s=0.04, stopped=False, resumed=None),
            HOLD.media[1],
        ),
    )
    found = [
        (f.code, f.severity, f.side, f.area, f.summary) for f in decide((_held(kept),)).findings
    ]
    assert found == [
        (
            "hold-media-not-stopped",
            Severity.WARNING,
            Side.PLATFORM,  # it answered inactive and kept sending
            "media",
            "RTP from the far end (rx) kept flowing through an inactive hold of 3 s (longest "
            "silence 0.04 s)",
        ),
        (
            "hold-media-not-stopped",
            Severity.WARNING,
            Side.UNKNOWN,
            "media",
            "RTP from the probe (tx) kept flowing through an inactive hold of 3 s (longest "
            "silence 0.021 s)",
        ),
    ]
    assert decide((_held(replace(INACTIVE, mode="sendonly", media=HOLD.media)),)).findings == ()


def test_hold_mode_in_json_and_scenario() -> None:
    written = call_json(call(200, hold=INACTIVE))
    assert written["hold"]["mode"] == "inactive"
    assert _call(json.loads(json.dumps(written))).hold == INACTIVE
    del written["hold"]["mode"]  # a report from before the mode: sendonly, the only one then
    assert _call(json.loads(json.dumps(written))).hold.mode == "sendonly"  # type: ignore[union-attr]
    text = "target: sip:p\nsteps:\n  - call: {{{body}}}\n"
    body = "duration_s: 8, hold_s: 3, hold_mode: inactive"
    step = parse_scenario(text.format(body=body), "s.yaml", {}).steps[0]
    assert step.hold_mode == "inactive"  # type: ignore[union-attr]
    with pytest.raises(ScenarioError, match="'held' is not one of: sendonly, inactive"):
        parse_scenario(text.format(body="hold_s: 3, duration_s: 8, hold_mode: held"), "s.yaml", {})
