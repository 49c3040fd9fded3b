"""Inbound calls as PBXs and carriers place them: a delayed offer (an INVITE without SDP, the
answer in the ACK) and a caller that holds and resumes the call (its re-INVITEs)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema

from sipprobe.model.hold import Reinvite
from sipprobe.model.inbound import AnswerDetail
from sipprobe.model.outcome import Severity
from sipprobe.model.results import RunReport, SipEvent, StepResult
from sipprobe.report.json_read import read_report
from sipprobe.report.json_report import report_to_json
from sipprobe.report.text import render_run_text
from sipprobe.run.callmedia import CallMediaEnds, call_media_ends
from sipprobe.signalling.inbound_read import AnsweredDialog, answered_dialog
from sipprobe.verdict.policy import decide

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "sipprobe/schema/report.schema.json").read_text()
)
CALL_ID = "in-2@192.0.2.7"
SOURCE = "192.0.2.7:5062"
INVITE = "INVITE sip:+441234000000@192.0.2.1:5070 SIP/2.0"
IN_DIALOG = "sip:probe@192.0.2.1:5070 SIP/2.0"


def _sdp(address: str, port: int, payloads: str, direction: str | None = None) -> str:
    names = {"0": "PCMU/8000", "8": "PCMA/8000", "101": "telephone-event/8000"}
    lines = [
        "v=0",
        f"o=- 1 1 IN IP4 {address}",
        "s=-",
        f"c=IN IP4 {address}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {payloads}",
        *(f"a=rtpmap:{p} {names[p]}" for p in payloads.split()),
        *([f"a={direction}"] if direction else []),
    ]
    return "\r\n".join(lines) + "\r\n"


PROBE_OFFER = _sdp("192.0.2.1", 40000, "0 8 101")  # the probe's 200 OK to an SDP-less INVITE
CALLER = _sdp("192.0.2.7", 4000, "8")


def _event(
    index: int, t_s: float, direction: str, first_line: str, method: str, cseq: int, body: str = ""
) -> SipEvent:
    status = int(first_line.split()[1]) if first_line.startswith("SIP/2.0") else None
    content = f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n" if body else ""
    text = (
        f"{first_line}\r\nVia: SIP/2.0/UDP {SOURCE};branch=z9hG4bK{index}\r\n"
        "From: <sip:+442079460000@sbc.example>;tag=c1\r\nTo: <sip:+441234000000@trunk.example>\r\n"
        f"Call-ID: {CALL_ID}\r\nCSeq: {cseq} {method}\r\n{content}\r\n{body}"
    )
    return SipEvent(
        index, t_s, direction, "UDP", SOURCE, first_line, method, status, CALL_ID, cseq, text
    )


def delayed_offer() -> list[SipEvent]:
    return [
        _event(0, 2.500, "rx", INVITE, "INVITE", 1),
        _event(1, 2.502, "tx", "SIP/2.0 180 Ringing", "INVITE", 1),
        _event(2, 2.505, "tx", "SIP/2.0 200 OK", "INVITE", 1, PROBE_OFFER),
        _event(3, 2.510, "rx", f"ACK {IN_DIALOG}", "ACK", 1, CALLER),
        _event(4, 7.505, "rx", f"BYE {IN_DIALOG}", "BYE", 2),
        _event(5, 7.506, "tx", "SIP/2.0 200 OK", "BYE", 2),
    ]


def held(hold_sdp: str, resumed: bool = True) -> list[SipEvent]:
    """An offer in the INVITE; the caller holds 2 s after the answer and resumes 2.5 s later."""
    events = [
        _event(0, 2.500, "rx", INVITE, "INVITE", 1, CALLER),
        _event(1, 2.505, "tx", "SIP/2.0 200 OK", "INVITE", 1, _sdp("192.0.2.1", 40000, "8")),
        _event(2, 2.510, "rx", f"ACK {IN_DIALOG}", "ACK", 1),
        _event(3, 2.900, "rx", INVITE, "INVITE", 1, CALLER),  # its 200 lost: resent, no hold
        _event(4, 4.505, "rx", f"INVITE {IN_DIALOG}", "INVITE", 2, hold_sdp),
        _event(5, 4.506, "tx", "SIP/2.0 200 OK", "INVITE", 2, _hold_answer(hold_sdp)),
        _event(6, 4.507, "rx", f"ACK {IN_DIALOG}", "ACK", 2),
    ]
    if resumed:
        events += [
            _event(7, 7.005, "rx", f"INVITE {IN_DIALOG}", "INVITE", 3, CALLER),
            _event(8, 7.007, "tx", "SIP/2.0 200 OK", "INVITE", 3, _sdp("192.0.2.1", 40000, "8")),
            _event(9, 7.008, "rx", f"ACK {IN_DIALOG}", "ACK", 3),
        ]
    return [
        *events,
        _event(10, 9.505, "rx", f"BYE {IN_DIALOG}", "BYE", 4),
        _event(11, 9.506, "tx", "SIP/2.0 200 OK", "BYE", 4),
    ]


def _hold_answer(offer: str) -> str:
    answer = {"a=sendonly": "recvonly", "a=inactive": "inactive"}
    direction = next((v for k, v in answer.items() if k in offer), None)
    return _sdp("192.0.2.1", 40000, "8", direction)


def _dialog(events: list[SipEvent]) -> AnsweredDialog:
    dialog = answered_dialog(events, waited_from_t_s=0.5)
    assert dialog is not None
    return dialog


def test_delayed_offer_is_said_and_the_codec_is_the_acks_answer() -> None:
    dialog = _dialog(delayed_offer())
    assert (dialog.caller.delayed_offer, dialog.caller.offered_codecs) == (True, ())
    assert dialog.caller.ack_after_ms == 5.0 and dialog.caller.held_by_caller == ()
    # the 200 OK offered PCMU first; the ACK answered PCMA, which the call uses
    assert (dialog.call.codec, dialog.call.offered_codecs) == ("PCMA/8000", ())


def test_delayed_offer_media_ends_are_the_200s_offer_and_the_acks_answer() -> None:
    assert call_media_ends(delayed_offer(), CALL_ID, callee=True) == CallMediaEnds(
        CALL_ID, "192.0.2.1:40000", "192.0.2.7:4000", 101, None
    )
    # an offer in the INVITE stays the caller's end; a later SDP in an ACK does not move it
    events = held(_sdp("192.0.2.7", 4000, "8", "sendonly"))
    events[2] = _event(2, 2.510, "rx", f"ACK {IN_DIALOG}", "ACK", 1, _sdp("198.51.100.9", 6, "8"))
    assert call_media_ends(events, CALL_ID, callee=True).remote == "192.0.2.7:4000"
    assert _dialog(events).caller.delayed_offer is False


def test_the_callers_hold_and_resume_are_read_from_its_reinvites() -> None:
    caller = _dialog(held(_sdp("192.0.2.7", 4000, "8", "sendonly"))).caller
    assert caller.held_by_caller == (
        Reinvite("hold", 2.0, "sendonly", 200, 1.0, "recvonly"),
        Reinvite("resume", 4.5, "sendrecv", 200, 2.0, "sendrecv"),
    )
    assert caller.caller_hold() == ("sendonly", 2.0, 2.5)
    assert caller.offered_codecs == ("PCMA/8000",) and caller.delayed_offer is False


def test_inactive_and_the_old_zero_address_hold_and_a_hold_never_resumed() -> None:
    inactive = _dialog(held(_sdp("192.0.2.7", 4000, "8", "inactive"), resumed=False)).caller
    assert inactive.held_by_caller == (Reinvite("hold", 2.0, "inactive", 200, 1.0, "inactive"),)
    assert inactive.caller_hold() == ("inactive", 2.0, None)
    zero = _dialog(held(_sdp("0.0.0.0", 4000, "8"))).caller
    assert zero.caller_hold() == ("c=0.0.0.0", 2.0, 2.5)
    assert _dialog(delayed_offer()).caller.caller_hold() is None


def _step(events: list[SipEvent]) -> StepResult:
    dialog = _dialog(events)
    detail = AnswerDetail(
        account=None,
        listening_on="192.0.2.1:5070 (UDP)",
        timeout_s=20.0,
        duration_s=10.0,
        waited_ms=2000.0,
        caller=dialog.caller,
        hangup_by="caller",
    )
    return StepResult(
        0, "answer", "answer on 192.0.2.1:5070 (UDP)", True, 200, "OK", "network",
        {"invite_after": 2000.0}, detail, 200, True, dialog.call, dialog.events,
    )  # fmt: skip


def test_the_callers_hold_is_an_information_finding() -> None:
    findings = decide((_step(held(_sdp("192.0.2.7", 4000, "8", "sendonly"))),)).findings
    (hold,) = [f for f in findings if f.code == "inbound-caller-held"]
    assert hold.severity is Severity.INFO
    assert hold.summary == (
        "the caller held the call (its re-INVITE offered sendonly) 2.0 s after the answer for "
        "2.5 s, then resumed it: the caller's RTP may stop meanwhile, which is not loss"
    )
    never = decide((_step(held(_sdp("192.0.2.7", 4000, "8", "inactive"), resumed=False)),))
    (hold,) = [f for f in never.findings if f.code == "inbound-caller-held"]
    assert "2.0 s after the answer and never resumed it:" in hold.summary
    assert not [f for f in decide((_step(delayed_offer()),)).findings if "held" in f.code]


def test_delayed_offer_and_hold_in_the_json_and_the_text() -> None:
    steps = (_step(held(_sdp("192.0.2.7", 4000, "8", "sendonly"))), _step(delayed_offer()))
    steps = (steps[0], replace(steps[1], index=1))
    report = RunReport(
        scenario="inbound",
        service="sip-trunk",
        target="sip:192.0.2.1",
        transport="udp",
        started_at="2025-03-04T05:06:07.089Z",
        duration_s=30.0,
        steps=steps,
        timeline=tuple(held(_sdp("192.0.2.7", 4000, "8", "sendonly"))),
        verdict=decide(steps),
    )
    document = report_to_json(report)
    jsonschema.validate(document, SCHEMA)
    holding, delayed = (s["detail"]["caller"] for s in document["steps"])
    assert holding["delayed_offer"] is False
    assert holding["held_by_caller"][0] == {
        "purpose": "hold",
        "at_s": 2.0,
        "offered": "sendonly",
        "status_code": 200,
        "response_ms": 1.0,
        "answered": "recvonly",
    }
    assert (delayed["delayed_offer"], delayed["held_by_caller"]) == (True, [])
    again = read_report(json.loads(json.dumps(document)))
    assert again.steps == tuple(replace(s, reachable=None) for s in report.steps)
    older = json.loads(json.dumps(document))  # a report written before these fields
    for step in older["steps"]:
        del step["detail"]["caller"]["delayed_offer"], step["detail"]["caller"]["held_by_caller"]
    jsonschema.validate(older, SCHEMA)
    caller = read_report(older).steps[1].detail
    assert isinstance(caller, AnswerDetail) and caller.caller is not None
    assert (caller.caller.delayed_offer, caller.caller.held_by_caller) == (False, ())
    text = render_run_text(report)
    assert "held by caller: sendonly at 2.0 s after the answer, resumed after 2.5 s" in text
    assert "offered: nothing: delayed offer (the 200 OK offered, the ACK answered)" in text
