"""A call the probe answered: read from its timeline, judged, written and read back."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema

from sipprobe.model.inbound import AnswerDetail
from sipprobe.model.outcome import ExitCode, Quality, Severity, Side
from sipprobe.model.results import RunReport, SipEvent, StepResult
from sipprobe.report.formats import OutputFormat
from sipprobe.report.json_read import read_report
from sipprobe.report.json_report import report_to_json
from sipprobe.report.text import render_run_text
from sipprobe.signalling.inbound_read import answered_dialog
from sipprobe.verdict.policy import decide

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "sipprobe/schema/report.schema.json").read_text()
)
CALL_ID = "in-1@192.0.2.7"
SOURCE = "192.0.2.7:5062"
OFFER = "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n" + (
    "m=audio 4000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
)
ANSWER = "v=0\r\no=- 2 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" + (
    "m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
)
HEADERS = (
    "From: <sip:+442079460000@sbc.example>;tag=c1\r\n"
    "To: <sip:+441234000000@trunk.example>\r\n"
    "P-Asserted-Identity: <sip:+442079460000@sbc.example>\r\n"
    "Contact: <sip:sbc@192.0.2.7:5062>\r\n"
    "User-Agent: ExampleSBC/1.0\r\n"
)


def _event(
    index: int,
    t_s: float,
    direction: str,
    first_line: str,
    method: str,
    cseq: int = 1,
    body: str = "",
) -> SipEvent:
    status = int(first_line.split()[1]) if first_line.startswith("SIP/2.0") else None
    content = f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n" if body else ""
    text = (
        f"{first_line}\r\nVia: SIP/2.0/UDP {SOURCE};branch=z9hG4bK1\r\n{HEADERS}"
        f"Call-ID: {CALL_ID}\r\nCSeq: {cseq} {method}\r\n{content}\r\n{body}"
    )
    return SipEvent(
        index, t_s, direction, "UDP", SOURCE, first_line, method, status, CALL_ID, cseq, text
    )


def timeline() -> list[SipEvent]:
    return [
        _event(
            0, 2.500, "rx", "INVITE sip:+441234000000@192.0.2.1:5070 SIP/2.0", "INVITE", body=OFFER
        ),
        _event(1, 2.501, "tx", "SIP/2.0 100 Trying", "INVITE"),
        _event(2, 2.502, "tx", "SIP/2.0 180 Ringing", "INVITE"),
        _event(3, 2.505, "tx", "SIP/2.0 200 OK", "INVITE", body=ANSWER),
        _event(4, 2.510, "rx", "ACK sip:probe@192.0.2.1:5070 SIP/2.0", "ACK"),
        _event(5, 7.505, "rx", "BYE sip:probe@192.0.2.1:5070 SIP/2.0", "BYE", cseq=2),
        _event(6, 7.506, "tx", "SIP/2.0 200 OK", "BYE", cseq=2),
    ]


def test_answered_dialog_reads_who_called_and_the_answering_timings() -> None:
    dialog = answered_dialog(timeline(), waited_from_t_s=0.5)
    assert dialog is not None
    caller, call = dialog.caller, dialog.call
    assert caller.source == SOURCE and caller.transport == "UDP"
    assert caller.request_uri == "sip:+441234000000@192.0.2.1:5070"
    assert caller.from_header == "<sip:+442079460000@sbc.example>;tag=c1"
    assert caller.to_header == "<sip:+441234000000@trunk.example>"
    assert caller.asserted_identity == "<sip:+442079460000@sbc.example>"
    assert caller.contact == "<sip:sbc@192.0.2.7:5062>"
    assert caller.user_agent == "ExampleSBC/1.0"
    assert caller.invite_after_ms == 2000.0
    assert caller.ringing_sent_ms == 2.0
    assert caller.answered_sent_ms == 5.0
    assert caller.ack_after_ms == 5.0
    assert caller.offered_codecs == ("PCMA/8000", "PCMU/8000")
    assert (call.status_code, call.reason, call.answered) == (200, "OK", True)
    assert call.codec == "PCMA/8000" and call.ringing
    assert call.hold_s == 5.0 and call.hangup_by == "remote"
    assert call.bye_ms is None and call.bye_status == 200  # the caller's BYE, answered
    assert call.invite_retransmissions == 0
    assert dialog.events == (0, 1, 2, 3, 4, 5, 6)


def test_no_invite_is_no_dialog() -> None:
    assert answered_dialog(timeline()[1:], waited_from_t_s=0.0) is None


def _detail(**changes: object) -> AnswerDetail:
    fields: dict[str, object] = {
        "account": "b",
        "listening_on": "1002@pbx (via 192.0.2.1:5070)",
        "timeout_s": 20.0,
        "duration_s": 10.0,
        "waited_ms": 20001.5,
        "caller": None,
        "hangup_by": None,
        "registered_at_step": 1,
    }
    fields.update(changes)
    return AnswerDetail(**fields)


def _not_received(detail: AnswerDetail) -> StepResult:
    return StepResult(
        2,
        "answer",
        "answer on b",
        False,
        None,
        "no call within 20 s",
        "none",
        {"waited": detail.waited_ms},
        detail,
    )


def test_no_call_after_a_registration_is_critical_with_an_undetermined_side() -> None:
    verdict = decide((_not_received(_detail()),))
    (finding,) = verdict.findings
    assert (finding.code, finding.severity, finding.side) == (
        "inbound-call-not-received",
        Severity.CRITICAL,
        Side.UNKNOWN,
    )
    assert "within 20 s" in finding.summary
    assert "registered (step 2)" in finding.summary
    assert "cannot tell whether the caller dialled" in finding.summary
    assert verdict.messaging is Quality.BAD and verdict.media is Quality.UNKNOWN
    assert verdict.exit_code is ExitCode.CRITICAL


def test_no_call_on_an_unregistered_account_or_when_interrupted() -> None:
    (unregistered,) = decide((_not_received(_detail(registered_at_step=None)),)).findings
    assert "did not register in this run" in unregistered.summary
    (trunk,) = decide((_not_received(_detail(account=None, registered_at_step=None)),)).findings
    assert "check that the trunk's destination is this address" in trunk.summary
    interrupted = decide((_not_received(_detail(interrupted=True, waited_ms=3500.0)),))
    (finding,) = interrupted.findings
    assert finding.severity is Severity.WARNING
    assert "interrupted after 3.5 s" in finding.summary
    assert interrupted.exit_code is ExitCode.WARNING


def _answered_step() -> StepResult:
    dialog = answered_dialog(timeline(), waited_from_t_s=0.5)
    assert dialog is not None
    detail = _detail(caller=dialog.caller, hangup_by="caller", waited_ms=2000.0)
    return StepResult(
        0,
        "answer",
        "answer on b",
        True,
        200,
        "OK",
        "network",
        {"invite_after": 2000.0},
        detail,
        200,
        True,
        dialog.call,
        dialog.events,
    )


def test_an_answered_call_the_caller_ended_early_is_noted_and_media_is_judged() -> None:
    verdict = decide((_answered_step(),))
    codes = [(f.code, f.severity) for f in verdict.findings]
    # no capture and no RTCP in this hand-made call: media never ran, as for any call
    assert codes == [
        ("inbound-caller-hung-up", Severity.INFO),
        ("no-rtp", Severity.CRITICAL),
    ]
    assert "hung up after 5.0 s of the planned 10 s" in verdict.findings[0].summary


def test_answer_steps_are_written_to_the_schema_and_read_back() -> None:
    steps = (_answered_step(), _not_received(replace(_detail(), waited_ms=20000.0)))
    report = RunReport(
        scenario="inbound",
        service="sip-trunk",
        target="sip:pbx",
        transport="udp",
        started_at="2025-03-04T05:06:07.089Z",
        duration_s=30.0,
        steps=steps,
        timeline=tuple(timeline()),
        verdict=decide(steps),
    )
    document = report_to_json(report)
    jsonschema.validate(document, SCHEMA)
    (call,) = document["calls"]
    assert call["codec"] == "PCMA/8000" and call["hangup_by"] == "remote"
    caller = document["steps"][0]["detail"]["caller"]
    assert caller["p_asserted_identity"] == "<sip:+442079460000@sbc.example>"
    assert caller["source"] == SOURCE
    assert document["steps"][1]["detail"]["caller"] is None
    again = read_report(json.loads(json.dumps(document)))
    # the JSON does not carry ``reachable`` (the verdict's input, not a figure)
    assert again.steps == tuple(replace(s, reachable=None) for s in report.steps)
    assert report_to_json(again) == document
    text = render_run_text(report)
    assert "from: <sip:+442079460000@sbc.example>;tag=c1" in text
    assert "p-asserted-identity: <sip:+442079460000@sbc.example>" in text
    assert f"source: {SOURCE} (UDP)" in text
    assert "ended: the caller hung up" in text
    assert "   3  answer on b" + " " * 37 + "FAIL no call within 20 s\n" in text
    assert "      waited 20.00 s\n" in text
    markdown = OutputFormat.MARKDOWN.render(report)
    assert "#### Answer (step 1)" in markdown
    assert "- p-asserted-identity: &lt;sip:+442079460000@sbc.example&gt;" in markdown
    assert "#### Answer (step 3)" not in markdown  # no call: its row in the steps says so
    assert "| 3 | answer on b | FAIL no call within 20 s | waited 20.00 s |" in markdown
    html = OutputFormat.HTML.render(report)
    assert "Incoming call 1: <code>sip:+441234000000@192.0.2.1:5070</code>" in html
    assert "<th>p-asserted-identity</th><td>&lt;sip:+442079460000@sbc.example&gt;</td>" in html


def test_expected_caller_and_number_are_searched_in_from_pai_to_and_request_uri() -> None:
    step = _answered_step()
    assert isinstance(step.detail, AnswerDetail)
    # the caller ID in P-Asserted-Identity, the DID in the Request-URI: both as expected
    good = replace(step.detail, expect_from=r"^<sip:\+44207946", expect_to=r"\+441234000000@")
    codes = [f.code for f in decide((replace(step, detail=good),)).findings]
    assert "inbound-caller-unexpected" not in codes
    assert "inbound-called-unexpected" not in codes
    bad = replace(step.detail, expect_from="alice", expect_to="^sip:1002@")
    found = {f.code: f for f in decide((replace(step, detail=bad),)).findings}
    caller = found["inbound-caller-unexpected"]
    assert (caller.severity, caller.side) == (Severity.WARNING, Side.UNKNOWN)
    assert caller.summary == (
        "the call arrived from <sip:+442079460000@sbc.example>;tag=c1 (P-Asserted-Identity "
        "<sip:+442079460000@sbc.example>), which does not match expect_from 'alice'"
    )
    assert found["inbound-called-unexpected"].summary == (
        "the call arrived for <sip:+441234000000@trunk.example> (Request-URI "
        "sip:+441234000000@192.0.2.1:5070), which does not match expect_to '^sip:1002@'"
    )
