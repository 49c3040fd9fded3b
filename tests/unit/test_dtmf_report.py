"""DTMF through the pipeline: capture payloads to CallDtmf, finding, text line, JSON, scenario."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from test_policy import call, call_step, rtcp

from sipprobe.analysis.dtmf import TelephoneEvent
from sipprobe.capture.payloads import RtpPayload
from sipprobe.errors import ScenarioError
from sipprobe.model.dtmf import CallDtmf, DtmfDigit, dtmf_problem
from sipprobe.model.outcome import Quality, Severity, Side
from sipprobe.report.json_read import _call
from sipprobe.report.json_report import _call as call_json
from sipprobe.report.text import dtmf_line
from sipprobe.run.callmedia import CallMediaEnds, call_media_ends, dtmf_report
from sipprobe.scenario.loader import parse_scenario
from sipprobe.verdict.policy import decide

SENT = CallDtmf("159#", "rfc4733", 160, 1.007, None, None, None, (), ())
ENDS = CallMediaEnds("c", "127.0.0.1:4000", "127.0.0.1:5000", events_rx=101, events_tx=96)


def _events(code: int, timestamp: int, at: float, src: int, dst: int, pt: int) -> list[RtpPayload]:
    packets = [
        RtpPayload(
            at + 0.02 * i, src, dst, pt, i, bytes(TelephoneEvent(code, False, 10, d)), timestamp
        )
        for i, d in enumerate((160, 320, 480, 640, 800, 960, 1120))
    ]
    end = bytes(TelephoneEvent(code, True, 10, 1280))
    return packets + [RtpPayload(at + 0.16, src, dst, pt, 9 + i, end, timestamp) for i in range(3)]


def test_dtmf_report_reads_sent_and_received_events_by_port_and_payload_type() -> None:
    packets = [
        *_events(1, 100, 10.0, 4000, 5000, 96),  # tx, the answer's payload type
        *_events(1, 9100, 10.001, 5000, 4000, 101),  # rx, the offer's payload type
        *_events(5, 9300, 10.2, 5000, 4000, 101),
        *_events(7, 9500, 10.4, 5000, 4000, 96),  # rx with the wrong type: not an event
        RtpPayload(10.5, 5000, 4000, 0, 99, bytes(160), 0),  # audio
    ]
    dtmf = dtmf_report(SENT, packets, ENDS)
    assert dtmf.sent_digits == (DtmfDigit("1", 10.0, 160.0),)
    assert dtmf.received_digits == (DtmfDigit("1", 10.001, 160.0), DtmfDigit("5", 10.2, 160.0))
    assert (dtmf.received, dtmf.received_method, dtmf.matched) == ("15", "rfc4733", False)


def test_dtmf_report_nothing_back_and_sip_info_unmeasured() -> None:
    nothing = dtmf_report(SENT, [], ENDS)
    assert (nothing.received, nothing.received_method, nothing.matched) == ("", None, False)
    info = replace(SENT, method="sip-info")
    assert dtmf_report(info, [], ENDS) == info


def test_call_media_ends_reads_telephone_event_types_from_offer_and_answer() -> None:
    from sipprobe.model.results import SipEvent

    def sdp(port: int, pt: int) -> str:
        return (
            f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 {pt}\r\na=rtpmap:{pt} telephone-event/8000\r\n"
        )

    def event(index: int, direction: str, first: str, body: str) -> SipEvent:
        text = f"{first}\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
        text += f"Content-Length: {len(body)}\r\n\r\n{body}"
        status = None if first.startswith("INVITE") else 200
        return SipEvent(index, 0.0, direction, "UDP", "p", first, "INVITE", status, "c", 1, text)  # type: ignore[arg-type]

    timeline = [
        event(0, "tx", "INVITE sip:echo@p SIP/2.0", sdp(4000, 101)),
        event(1, "rx", "SIP/2.0 200 OK", sdp(5000, 96)),
    ]
    assert call_media_ends(timeline, "c") == ENDS


def _dtmf_call(dtmf: CallDtmf) -> object:
    return call_step(call(200, rtcp=rtcp(250, 0, 0.3), dtmf=dtmf))


def test_decide_dtmf_as_sent_or_unmeasured_is_no_finding() -> None:
    for dtmf in (replace(SENT, received="159#", received_method="rfc4733"), SENT):
        verdict = decide((_dtmf_call(dtmf),))  # type: ignore[arg-type]
        assert verdict.findings == ()
        assert (verdict.messaging, verdict.media) == (Quality.GOOD, Quality.GOOD)


def test_decide_dtmf_mismatch_is_a_warning_side_unknown() -> None:
    verdict = decide((_dtmf_call(replace(SENT, received="15#", received_method="rfc4733")),))  # type: ignore[arg-type]
    assert [(f.code, f.severity, f.side, f.area) for f in verdict.findings] == [
        ("dtmf-mismatch", Severity.WARNING, Side.UNKNOWN, "media")
    ]
    assert verdict.findings[0].summary == "DTMF '159#' sent as rfc4733, '15#' came back"
    assert verdict.media is Quality.DEGRADED
    nothing = decide((_dtmf_call(replace(SENT, received="", far_end_received="159#")),))  # type: ignore[arg-type]
    assert nothing.findings[0].summary == (
        "DTMF '159#' sent as rfc4733, nothing came back (the far end received '159#')"
    )
    info = replace(SENT, method="sip-info", received="1", received_method="sip-info")
    assert decide((_dtmf_call(info),)).findings[0].summary == (  # type: ignore[arg-type]
        "DTMF '159#' sent as sip-info, the far end received '1'"
    )


def test_decide_dtmf_refused_by_the_stack_is_a_warning() -> None:
    refused = replace(SENT, sent_at_s=1.0, send_error="Invalid operation (PJ_EINVALIDOP)")
    verdict = decide((_dtmf_call(refused),))  # type: ignore[arg-type]
    assert [(f.code, f.summary) for f in verdict.findings] == [
        ("dtmf-not-sent", "DTMF '159#' (rfc4733) was not sent: Invalid operation (PJ_EINVALIDOP)")
    ]


def test_dtmf_line_says_what_came_back() -> None:
    back = replace(
        SENT,
        received="159#",
        received_method="rfc4733",
        received_digits=tuple(DtmfDigit(d, 1.0, 160.0) for d in "159#"),
    )
    assert dtmf_line(back) == (
        "DTMF sent '159#' (rfc4733, 160 ms each); received '159#' (rfc4733, 160, 160, 160, 160 "
        "ms): as sent"
    )
    assert dtmf_line(SENT) == (
        "DTMF sent '159#' (rfc4733, 160 ms each); what the far end got was not measured"
    )
    assert dtmf_line(replace(SENT, received="", far_end_received="")) == (
        "DTMF sent '159#' (rfc4733, 160 ms each); nothing came back; the far end received ''"
    )
    info = replace(SENT, method="sip-info", received="159#", received_method="sip-info")
    assert dtmf_line(info) == (
        "DTMF sent '159#' (sip-info, 160 ms each); the far end received '159#': as sent"
    )


def test_dtmf_json_round_trip() -> None:
    dtmf = replace(
        SENT,
        received="1",
        received_method="rfc4733",
        sent_digits=(DtmfDigit("1", 1796679555.925365, 160.0),),
        received_digits=(DtmfDigit("1", 1796679555.925545, 160.0, False),),
    )
    written = call_json(call(200, dtmf=dtmf))
    assert written["dtmf"]["matched"] is False
    assert written["dtmf"]["received_digits"] == [
        {"digit": "1", "start_s": 1796679555.925545, "duration_ms": 160.0, "ended": False}
    ]
    assert _call(written).dtmf == dtmf
    assert _call(call_json(call(200))).dtmf is None


SCENARIO = "target: sip:p\nsteps:\n  - call: {{{body}}}\n"


def test_scenario_call_dtmf_keys() -> None:
    steps = parse_scenario(
        SCENARIO.format(body='dtmf: "159#", dtmf_method: sip-info'), "s.yaml", {}
    ).steps
    assert (steps[0].dtmf, steps[0].dtmf_method) == ("159#", "sip-info")  # type: ignore[union-attr]
    many = parse_scenario(SCENARIO.format(body='parallel: 8, dtmf: "12"'), "s.yaml", {}).steps[0]
    assert (many.dtmf, many.parallel) == ("12", 8)  # type: ignore[union-attr]
    default = parse_scenario(SCENARIO.format(body="dtmf: 1234"), "s.yaml", {}).steps[0]
    assert (default.dtmf, default.dtmf_method) == ("1234", "rfc4733")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('dtmf: "12x"', "takes the digits 0-9 * # A-D, not 'x'"),
        ('dtmf: ""', "needs at least one digit"),
        ("dtmf: '1', dtmf_method: tones", "tones"),
    ],
)
def test_scenario_call_dtmf_errors(body: str, problem: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(problem)):
        parse_scenario(SCENARIO.format(body=body), "s.yaml", {})


def test_dtmf_problem_length() -> None:
    assert dtmf_problem("1" * 32) is None
    assert dtmf_problem("1" * 33) == "takes at most 32 digits, got 33"


def _audio(samples: object, at: float, src: int, dst: int, first_seq: int = 0) -> list[RtpPayload]:
    """PCMU packets of 160 samples every 20 ms from ``at`` (timestamps from 0)."""
    from test_dsp_dtmf import g711

    from sipprobe.dsp.g711 import ulaw_table

    coded = g711(samples, ulaw_table())  # type: ignore[arg-type]
    return [
        RtpPayload(
            at + i / 8000, src, dst, 0, first_seq + i // 160, coded[i : i + 160].tobytes(), i
        )
        for i in range(0, len(coded) - 159, 160)
    ]


def test_dtmf_report_inband_sent_and_received_as_tones() -> None:
    from test_dsp_dtmf import tones

    audio = tones("159#")
    packets = [*_audio(audio, 10.0, 4000, 5000), *_audio(audio, 10.05, 5000, 4000)]
    dtmf = dtmf_report(replace(SENT, method="inband"), packets, ENDS)
    assert (dtmf.received, dtmf.received_method, dtmf.inband_received, dtmf.matched) == (
        "159#",
        "inband",
        "159#",
        True,
    )
    # The first tone's first block starts at sample 816, in the packet of samples 800-960.
    assert [(d.digit, d.start_s) for d in dtmf.sent_digits[:1]] == [("1", 10.1)]
    assert [(d.digit, d.start_s) for d in dtmf.received_digits[:1]] == [("1", 10.15)]
    assert [d.duration_ms for d in dtmf.received_digits] == [165.875, 165.875, 165.875, 153.125]


def test_dtmf_report_events_sent_tones_back_and_both_back() -> None:
    from test_dsp_dtmf import tones

    gateway = _audio(tones("159#"), 10.0, 5000, 4000)  # events turned into tones
    dtmf = dtmf_report(SENT, gateway, ENDS)
    assert (dtmf.received, dtmf.received_method, dtmf.inband_received) == ("159#", "inband", "159#")
    both = [*gateway, *_events(1, 9100, 10.001, 5000, 4000, 101)]
    dtmf = dtmf_report(SENT, both, ENDS)  # the method sent wins, the tones are still said
    assert (dtmf.received, dtmf.received_method, dtmf.inband_received) == ("1", "rfc4733", "159#")
    assert dtmf_line(dtmf).endswith(": NOT as sent; also in-band '159#'")
    speech_only = dtmf_report(SENT, _audio(tones(""), 10.0, 5000, 4000), ENDS)
    assert (speech_only.received, speech_only.inband_received) == ("", "")
    info = dtmf_report(replace(SENT, method="sip-info"), gateway, ENDS)
    assert (info.received, info.inband_received) == (None, "159#")


def test_dtmf_report_two_leg_call_reads_the_callee_leg() -> None:
    from test_dsp_dtmf import tones

    callee = CallMediaEnds("c", "127.0.0.1:6000", "127.0.0.1:4000", events_rx=101, events_tx=101)
    a_to_b = _audio(tones("42"), 10.0, 4000, 6000)  # a's tx is b's rx (direct media)
    b_to_a = _audio(tones(""), 10.0, 6000, 4000)  # b plays its speech (silence here)
    inband = replace(SENT, sent="42", method="inband")
    dtmf = dtmf_report(inband, [*a_to_b, *b_to_a], ENDS, callee)
    assert (dtmf.received, dtmf.received_method, "".join(d.digit for d in dtmf.sent_digits)) == (
        "42",
        "inband",
        "42",  # what left a's port
    )
    assert dtmf_report(inband, [*a_to_b, *b_to_a], ENDS).received == ""  # a's own rx: nothing


def test_dtmf_inband_json_round_trip_and_schema() -> None:
    import json
    from pathlib import Path

    jsonschema = pytest.importorskip("jsonschema")
    dtmf = replace(
        SENT,
        method="inband",
        received="1",
        received_method="inband",
        received_digits=(DtmfDigit("1", 1796679555.925545, 165.875),),
        inband_received="1",
    )
    written = call_json(call(200, dtmf=dtmf))
    assert (written["dtmf"]["method"], written["dtmf"]["inband_received"]) == ("inband", "1")
    assert _call(written).dtmf == dtmf
    older = {k: v for k, v in written["dtmf"].items() if k != "inband_received"}
    assert _call({**written, "dtmf": older}).dtmf == replace(dtmf, inband_received=None)
    schema = json.loads(
        (Path(__file__).parents[2] / "sipprobe" / "schema" / "report.schema.json").read_text()
    )
    dtmf_schema = schema["$defs"]["call"]["properties"]["dtmf"]
    jsonschema.validate(written["dtmf"], {**dtmf_schema, "$defs": schema["$defs"]})
