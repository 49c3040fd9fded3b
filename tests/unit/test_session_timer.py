"""Session timers (RFC 4028) read from SIP messages: a recorded run's INVITE and 200 OK, and a
timeline with a 422, a refresh by the far end and a session that ran out; the findings, the
JSON round trip and the text line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from test_policy import call, call_step, rtcp

from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import SipEvent
from sipprobe.model.session_timer import SessionRefresh, SessionTimer, expiry_margin_s
from sipprobe.report.json_read import _call, load_report
from sipprobe.report.json_report import _call as call_json
from sipprobe.report.timers_text import session_timer_line
from sipprobe.signalling.session_timer import session_timer
from sipprobe.sip.session_expires import SessionExpires, parse_min_se, parse_session_expires
from sipprobe.verdict.policy import decide

RECORDED = Path(__file__).parent.parent / "data" / "recorded" / "demo" / "report.json"


def test_session_expires_and_min_se_values() -> None:
    assert parse_session_expires("1800;refresher=uac") == SessionExpires(1800, "uac")
    assert parse_session_expires("90 ; Refresher = UAS") == SessionExpires(90, "uas")
    assert parse_session_expires("120") == SessionExpires(120, None)
    assert parse_session_expires("soon") is None and parse_session_expires(None) is None
    assert parse_min_se("90") == 90 and parse_min_se("x") is None
    assert (expiry_margin_s(90), expiry_margin_s(1800)) == (30.0, 32.0)


def test_session_timer_of_a_recorded_call() -> None:
    report = load_report(RECORDED)
    (recorded,) = report.calls
    events = [e for e in report.timeline if e.call_id == recorded.call_id]
    assert session_timer(events, None, 90) == SessionTimer(
        requested_s=None,
        min_se_s=90,
        offered_s=1800,  # pjsip's default offer
        offered_min_se_s=90,
        offered_supported=True,
        rejected_min_se_s=None,
        retried_s=None,
        answered_s=1800,
        refresher="uac",
        required=True,
        refreshes=(),
        expired_after_s=None,
    )
    # The far end ignoring the timer (no Session-Expires in its 200 OK) and none asked: None.
    ignoring = [
        replace(e, text=e.text.replace("Session-Expires: 1800;refresher=uac\n", "")) for e in events
    ]
    assert session_timer(ignoring, None, 90) is None
    asked = session_timer(ignoring, 90, 90)
    assert asked is not None and (asked.requested_s, asked.answered_s) == (90, None)
    assert session_timer_line(asked) == (
        "session timer: asked 90 s (Min-SE 90), offered 1800 s; the far end did not use "
        "session timers (no Session-Expires in its answer; RFC 4028 allows that)"
    )


def _event(
    index: int, t_s: float, direction: str, first: str, cseq: int, method: str, *headers: str
) -> SipEvent:
    status = int(first.split()[1]) if first.startswith("SIP/2.0") else None
    text = "\n".join((first, "Call-ID: c", f"CSeq: {cseq} {method}", *headers, "Content-Length: 0"))
    return SipEvent(index, t_s, direction, "UDP", "p", first, method, status, "c", cseq, text)  # type: ignore[arg-type]


URI = "sip:echo@p SIP/2.0"
TIMELINE = [
    _event(0, 0.0, "tx", f"INVITE {URI}", 1, "INVITE", "Supported: timer", "x: 90", "Min-SE: 90"),
    _event(1, 0.2, "rx", "SIP/2.0 422 Session Interval Too Small", 1, "INVITE", "Min-SE: 120"),
    _event(2, 0.21, "tx", f"ACK {URI}", 1, "ACK"),
    _event(3, 0.3, "tx", f"INVITE {URI}", 2, "INVITE", "k: timer", "x: 120", "Min-SE: 120"),
    _event(4, 1.0, "rx", "SIP/2.0 200 OK", 2, "INVITE", "Session-Expires: 120;refresher=uas"),
    _event(5, 1.01, "tx", f"ACK {URI}", 2, "ACK"),
    _event(6, 61.0, "rx", f"UPDATE {URI}", 7, "UPDATE", "Session-Expires: 120;refresher=uas"),
    _event(7, 61.01, "tx", "SIP/2.0 200 OK", 7, "UPDATE", "Session-Expires: 120;refresher=uas"),
    _event(8, 149.0, "tx", f"BYE {URI}", 3, "BYE"),
    _event(9, 149.02, "rx", "SIP/2.0 200 OK", 3, "BYE"),
]
EXPIRED = SessionTimer(
    requested_s=90,
    min_se_s=90,
    offered_s=90,
    offered_min_se_s=90,
    offered_supported=True,
    rejected_min_se_s=120,
    retried_s=120,
    answered_s=120,
    refresher="uas",
    required=False,
    refreshes=(SessionRefresh(60.0, "UPDATE", "far-end", 200, 120),),
    expired_after_s=88.0,  # 149 - 1 - 60: past 120 less min(32, 40)
)


def test_session_timer_422_retry_refresh_and_expiry() -> None:
    assert session_timer(TIMELINE, 90, 90) == EXPIRED
    # Ended 2 s before the far end's deadline (120 - 32 - 1 s of slack): not expired.
    early = [*TIMELINE[:8], replace(TIMELINE[8], t_s=146.0)]
    assert session_timer(early, 90, 90) == replace(EXPIRED, expired_after_s=None)
    assert session_timer_line(EXPIRED) == (
        "session timer: asked 90 s (Min-SE 90), offered 90 s; 422 wanted Min-SE 120, retried "
        "with 120 s; answered 120 s, refresher uas (the far end); refreshes: UPDATE by the "
        "far end at 60 s -> 200; the session ran out 88 s after the last refresh"
    )


def _timed(timer: SessionTimer, hangup_by: str) -> list[tuple[str, Severity, Side, str]]:
    result = call(200, rtcp=rtcp(250, 0, 0.3), session_timer=timer, hangup_by=hangup_by)
    return [(f.code, f.severity, f.side, f.summary) for f in decide((call_step(result),)).findings]


def test_session_expired_findings_name_the_refresher() -> None:
    # The far end was to refresh, refreshed once and then stopped: the probe's stack ended it.
    assert _timed(EXPIRED, "probe") == [
        (
            "session-expired",
            Severity.CRITICAL,
            Side.PLATFORM,
            "the session timer of 120 s ran out: the far end (refresher=uas) did not refresh "
            "it, and the probe ended the call with a BYE 88 s after the last refresh or the "
            "answer",
        )
    ]
    # The probe was to refresh and its refresh got no answer: the far end's BYE is named, not
    # a plain call-dropped, and whose fault it is stays unknown.
    lost = replace(
        EXPIRED,
        refresher="uac",
        refreshes=(SessionRefresh(60.0, "UPDATE", "probe", None, None),),
        expired_after_s=60.5,
    )
    assert [(c, s, side) for c, s, side, _ in _timed(lost, "remote")] == [
        ("session-refresh-failed", Severity.WARNING, Side.UNKNOWN),
        ("session-expired", Severity.CRITICAL, Side.UNKNOWN),
    ]
    rejected = replace(lost, refreshes=(SessionRefresh(60.0, "UPDATE", "probe", 500, None),))
    assert _timed(replace(rejected, expired_after_s=None), "probe") == [
        (
            "session-refresh-failed",
            Severity.WARNING,
            Side.PLATFORM,
            "the probe's session refresh (UPDATE at 60 s after the answer) got 500",
        )
    ]
    assert _timed(replace(EXPIRED, expired_after_s=None), "probe") == []


def test_session_timer_json_round_trip() -> None:
    written = call_json(call(200, session_timer=EXPIRED))
    assert written["session_timer"]["refreshes"] == [
        {
            "at_s": 60.0,
            "method": "UPDATE",
            "by": "far-end",
            "status_code": 200,
            "session_expires_s": 120,
        }
    ]
    assert written["session_timer"]["rejected_min_se_s"] == 120
    assert _call(json.loads(json.dumps(written))).session_timer == EXPIRED
    assert call_json(call(200))["session_timer"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("session_expires_s: 60", r"session_expires_s: 60 is out of range \(90 to 86400\)"),
        ("session_timer: never", "'never' is not one of: optional, required, always"),
    ],
)
def test_scenario_session_timer_keys(body: str, message: str) -> None:
    from sipprobe.errors import ScenarioError
    from sipprobe.scenario.loader import parse_scenario

    text = "target: sip:p\nsteps:\n  - call: {{{body}}}\n"
    step = parse_scenario(
        text.format(body="session_expires_s: 90, session_timer: required"), "s.yaml", {}
    ).steps[0]
    assert (step.session_expires_s, step.session_timer) == (90, "required")  # type: ignore[union-attr]
    many = parse_scenario(text.format(body="session_expires_s: 90, parallel: 8"), "s.yaml", {})
    assert many.steps[0].session_expires_s == 90  # type: ignore[union-attr]  # the workers' too
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text.format(body=body), "s.yaml", {})


def test_session_timer_and_hold_mode_match_the_schema() -> None:
    import jsonschema
    from report_samples import captured_report

    from sipprobe.model.hold import CallHold, Reinvite
    from sipprobe.report.json_read import read_report
    from sipprobe.report.json_report import report_to_json

    report = captured_report()
    answered = report.steps[2].call
    assert answered is not None
    hold = CallHold(
        3.0, None, (Reinvite("hold", 2.0, "inactive", 200, 1.0, "inactive"),), (), "inactive"
    )
    steps = list(report.steps)
    steps[2] = replace(steps[2], call=replace(answered, session_timer=EXPIRED, hold=hold))
    report = replace(report, steps=tuple(steps))
    document = report_to_json(report)
    schema = json.loads(
        (Path(__file__).parents[2] / "sipprobe" / "schema" / "report.schema.json").read_text()
    )
    jsonschema.validate(document, schema)
    again = read_report(json.loads(json.dumps(document))).steps[2].call
    assert again is not None and (again.session_timer, again.hold) == (EXPIRED, hold)
