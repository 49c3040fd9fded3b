"""Two-leg calls: named accounts in the scenario, each leg's messages, the callee in JSON
and text (the live path is tests/lab/test_two_leg_calls.py)."""

from dataclasses import replace
from pathlib import Path

import pytest
from report_samples import captured_report, stream, verdict_of

from sipprobe.errors import ScenarioError
from sipprobe.model.legs import CalleeLeg
from sipprobe.model.outcome import Quality
from sipprobe.model.results import SipEvent
from sipprobe.model.thresholds import Thresholds
from sipprobe.report.json_read import read_report
from sipprobe.report.json_report import report_to_json
from sipprobe.report.text import render_run_text
from sipprobe.run.callmedia import call_media_ends
from sipprobe.scenario.loader import parse_scenario
from sipprobe.scenario.model import CallStep, RegisterStep
from sipprobe.signalling.legs import callee_timings, header_tag, side_events

CALL_ID = "leg@probe"
A_TAG, B_TAG = "aaa", "bbb"
A_SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\n"
)
B_SDP = A_SDP.replace("4000", "4002")


def _event(
    index: int, t_s: float, direction: str, first_line: str, cseq: str, to_tag: bool, sdp: str = ""
) -> SipEvent:
    status = int(first_line.split()[1]) if first_line.startswith("SIP/2.0") else None
    number, method = cseq.split()
    to = "<sip:bob@pbx>" + (f";tag={B_TAG}" if to_tag else "")
    body = (
        f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}" if sdp else ""
    )
    text = (
        f"{first_line}\r\nFrom: <sip:alice@pbx>;tag={A_TAG}\r\nTo: {to}\r\n"
        f"Call-ID: {CALL_ID}\r\nCSeq: {cseq}\r\n{body or chr(13) + chr(10)}"
    )
    return SipEvent(
        index, t_s, direction, "UDP", "127.0.0.1:5060", first_line, method, status,  # type: ignore[arg-type]
        CALL_ID, int(number), text,
    )  # fmt: skip


def proxied_call() -> list[SipEvent]:
    """a calls b through a proxy that keeps the Call-ID; a hangs up. Every message is in the
    timeline twice: sent on one leg, received on the other."""
    invite, bye = "INVITE sip:bob@pbx SIP/2.0", "BYE sip:bob@pbx SIP/2.0"
    return [
        _event(0, 0.000, "tx", invite, "1 INVITE", False, A_SDP),
        _event(1, 0.001, "rx", "SIP/2.0 100 Trying", "1 INVITE", False),
        _event(2, 0.002, "rx", invite, "1 INVITE", False, A_SDP),
        _event(3, 0.003, "tx", "SIP/2.0 180 Ringing", "1 INVITE", True),
        _event(4, 0.004, "tx", "SIP/2.0 200 OK", "1 INVITE", True, B_SDP),
        _event(5, 0.005, "rx", "SIP/2.0 180 Ringing", "1 INVITE", True),
        _event(6, 0.006, "rx", "SIP/2.0 200 OK", "1 INVITE", True, B_SDP),
        _event(7, 0.007, "tx", "ACK sip:bob@pbx SIP/2.0", "1 ACK", True),
        _event(8, 0.008, "rx", "ACK sip:bob@pbx SIP/2.0", "1 ACK", True),
        _event(9, 3.000, "tx", bye, "2 BYE", True),
        _event(10, 3.001, "rx", bye, "2 BYE", True),
        _event(11, 3.002, "tx", "SIP/2.0 200 OK", "2 BYE", True),
        _event(12, 3.003, "rx", "SIP/2.0 200 OK", "2 BYE", True),
    ]


def test_header_tag_name_addr_bare_uri_and_none() -> None:
    assert header_tag('"A" <sip:a@x;tag=uri-param>;tag=abc ;x=1') == "abc"
    assert header_tag("sip:a@x;tag=def") == "def"
    assert header_tag("<sip:a@x>") is None
    assert header_tag(None) is None


def test_side_events_split_a_proxied_call_into_its_two_legs() -> None:
    events = proxied_call()
    caller = [e.index for e in side_events(events, CALL_ID, "caller")]
    callee = [e.index for e in side_events(events, CALL_ID, "callee")]
    assert caller == [0, 1, 5, 6, 7, 9, 12]
    assert callee == [2, 3, 4, 8, 10, 11]


def test_side_events_of_a_call_with_one_leg_keep_everything() -> None:
    one_leg = [e for e in proxied_call() if e.index in (0, 1, 5, 6, 7, 9, 12)]
    assert side_events(one_leg, CALL_ID, "caller") == one_leg


def test_callee_timings_answer_delay_and_who_hung_up() -> None:
    timings = callee_timings(side_events(proxied_call(), CALL_ID, "callee"))
    assert timings.invite is not None and timings.invite.index == 2
    assert timings.final is not None and timings.final.index == 4
    assert timings.answered_after_ms == 2.0
    assert timings.hangup_by == "caller"
    assert callee_timings([]).invite is None


def test_call_media_ends_of_each_leg() -> None:
    events = proxied_call()
    caller = call_media_ends(events, CALL_ID)
    callee = call_media_ends(events, CALL_ID, callee=True)
    assert (caller.local, caller.remote) == ("127.0.0.1:4000", "127.0.0.1:4002")
    assert (callee.local, callee.remote) == ("127.0.0.1:4002", "127.0.0.1:4000")


SCENARIO = """\
target: sip:pbx.example.net
accounts:
  a: {user: 1001, password_env: PA}
  b: {user: 1002, domain: other.example.net}
steps:
  - register: {account: a}
  - register: {account: b}
  - call: {from: a, to: b}
  - call: {to: b}
  - call: {from: b, to: echo}
"""


def test_scenario_named_accounts_and_two_leg_calls() -> None:
    scenario = parse_scenario(SCENARIO, "s.yaml", {})
    assert [name for name, _ in scenario.accounts] == ["a", "b"]
    assert scenario.account == scenario.named_account("a")
    assert scenario.named_account("b").domain == "other.example.net"
    _, register_b, a_to_b, default_to_b, b_to_echo = scenario.steps
    assert isinstance(register_b, RegisterStep) and register_b.account == "b"
    assert isinstance(a_to_b, CallStep) and (a_to_b.caller, a_to_b.callee) == ("a", "b")
    assert isinstance(default_to_b, CallStep) and (default_to_b.caller, default_to_b.callee) == (
        "a",
        "b",
    )
    assert isinstance(b_to_echo, CallStep) and (b_to_echo.caller, b_to_echo.callee) == ("b", None)


def test_scenario_single_account_unchanged() -> None:
    scenario = parse_scenario(
        "target: sip:pbx\naccount: {user: 1001}\nsteps:\n  - register\n  - call: {to: b}\n",
        "s.yaml",
        {},
    )
    assert scenario.accounts == ()
    assert scenario.steps[1] == CallStep(to="b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("account: {user: x}\naccounts: {a: {user: y}}\nsteps: [options]", "not both"),
        ("accounts: {a: {user: y}}\nsteps: [{register: {account: c}}]", "no account 'c'"),
        ("steps: [{call: {from: a}}]", "no account 'a' (none: add accounts:)"),
        ("accounts: {a: {user: y}}\nsteps: [{call: {from: a, to: a}}]", "another account"),
        (
            "accounts: {a: {user: y}, b: {user: z}}\nsteps: [{call: {to: b, parallel: 2}}]",
            "one call",
        ),
        ("accounts: {'a b': {user: y}}\nsteps: [options]", "a name is"),
        ("accounts: {a: {domain: y}}\nsteps: [options]", "accounts.a.user"),
    ],
)
def test_scenario_account_mistakes_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml") as error:
        parse_scenario(f"target: sip:pbx\n{text}\n", "s.yaml", {})
    assert message in str(error.value)


def two_leg_report() -> object:
    report = captured_report()
    call = report.steps[2].call
    assert call is not None
    leg = CalleeLeg(
        account="b",
        call_id=call.call_id,
        status_code=200,
        answered_after_ms=1.5,
        invite_after_ms=2.25,
        from_header="<sip:1001@pbx>;tag=x",
        to_header="<sip:1002@pbx>",
        asserted_identity="<sip:+15550001001@pbx>",
        codec="PCMU/8000",
        hangup_by="caller",
        streams=(stream("rx", 0.0, 0.5, 4.4), stream("tx", 1.6, 2.5, 4.1)),
    )
    steps = list(report.steps)
    steps[2] = replace(steps[2], call=replace(call, callee=leg))
    return replace(report, steps=tuple(steps))


def test_callee_json_round_trip_and_schema_keys() -> None:
    report = two_leg_report()
    document = report_to_json(report)  # type: ignore[arg-type]
    callee = document["calls"][0]["callee"]
    assert callee["account"] == "b" and callee["p_asserted_identity"] == "<sip:+15550001001@pbx>"
    assert [s["direction"] for s in callee["streams"]] == ["rx", "tx"]
    assert report_to_json(read_report(document)) == document
    assert read_report(document).calls[0].callee == report.calls[0].callee  # type: ignore[attr-defined]
    assert "callee" not in report_to_json(captured_report())["calls"][0]


def test_callee_json_matches_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import json

    schema = json.loads(
        (Path(__file__).parents[2] / "sipprobe" / "schema" / "report.schema.json").read_text()
    )
    jsonschema.validate(report_to_json(two_leg_report()), schema)  # type: ignore[arg-type]


def test_text_report_shows_both_legs_in_the_order_media_flows() -> None:
    text = render_run_text(two_leg_report())  # type: ignore[arg-type]
    lines = [line.strip() for line in text.splitlines()]
    # Both legs' streams in this sample name 192.0.2.10:4000 as where they send, and each
    # leg's own address is 192.0.2.1:40000: the platform relays the media.
    order = [n for n, line in enumerate(lines) if line.startswith(("caller ", "platform ", "b -"))]
    assert [lines[n].split("  ")[0] for n in order] == [
        "caller -> platform",
        "platform -> b",
        "b -> platform",
        "platform -> caller",
    ]
    assert (
        "media relayed by the platform (media address 192.0.2.10:4000 towards the caller, "
        "192.0.2.10:4000 towards b)"
    ) in lines
    assert any("P-Asserted-Identity <sip:+15550001001@pbx>" in line for line in lines)
    assert any(
        "INVITE arrived 2.2 ms after it was sent, sent 200 after 1.5 ms" in line for line in lines
    )


def test_verdict_judges_the_callees_streams_naming_the_leg() -> None:
    report = two_leg_report()
    call = report.steps[2].call  # type: ignore[attr-defined]
    lossy = replace(call.callee, streams=(stream("rx", 3.0, 0.5, 3.9), stream("tx", 0.0, 0.5, 4.4)))
    steps = list(report.steps)  # type: ignore[attr-defined]
    steps[2] = replace(steps[2], call=replace(call, callee=lossy))
    verdict = verdict_of(tuple(steps), Thresholds())
    (loss,) = [f for f in verdict.findings if f.summary.startswith("callee leg b: ")
               and f.code == "rx-loss"]  # fmt: skip
    assert "3.00%" in loss.summary and loss.area == "media"
    assert verdict.media is not Quality.GOOD


def test_verdict_callee_not_reached_when_something_else_answered() -> None:
    report = two_leg_report()
    call = report.steps[2].call  # type: ignore[attr-defined]
    missing = replace(call.callee, status_code=None, streams=(), error="no call arrived")
    steps = list(report.steps)  # type: ignore[attr-defined]
    steps[2] = replace(steps[2], call=replace(call, callee=missing))
    verdict = verdict_of(tuple(steps), Thresholds())
    (finding,) = [f for f in verdict.findings if f.code == "callee-not-reached"]
    assert "no call arrived" in finding.summary and finding.area == "messaging"
