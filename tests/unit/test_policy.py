"""Demarc policy: which side each kind of result points to, and the verdict it gives."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from media_samples import call_detail, options_detail, register_detail

from sipprobe.model.results import (
    CallResult,
    CaptureSummary,
    ExitCode,
    Quality,
    RtcpSummary,
    Severity,
    Side,
    SipLimits,
    StepResult,
)
from sipprobe.verdict.policy import decide, run_findings


def step(
    kind: str,
    ok: bool,
    code: int | None,
    origin: str = "network",
    index: int = 0,
    reachable: bool | None = None,
    **fields: Any,
) -> StepResult:
    """A step of ``kind`` whose typed detail gets ``fields`` (but ``reason``)."""
    reason = fields.pop("reason", "")
    details = {"options": options_detail, "register": register_detail, "call": call_detail}
    return StepResult(
        index=index,
        kind=kind,  # type: ignore[arg-type]
        name=kind,
        ok=ok,
        status_code=code,
        reason=reason,
        origin=origin,  # type: ignore[arg-type]
        timings_ms={},
        detail=details[kind](**fields),
        reachable=code is not None if reachable is None else reachable,
        expected_status=200 if kind == "call" else None,
    )


def call(code: int | None, **changes: Any) -> CallResult:
    fields: dict[str, Any] = {
        "target": "sip:echo@p",
        "call_id": "c",
        "status_code": code,
        "reason": "",
        "answered": code == 200,
        "trying_ms": 5.0,
        "pdd_ms": 100.0,
        "answer_ms": 200.0,
        "challenge": None,
        "invite_retransmissions": 0,
        "early_media": False,
        "ringing": True,
        "hold_s": 5.0 if code == 200 else None,
        "bye_ms": 1.0 if code == 200 else None,
        "bye_status": 200 if code == 200 else None,
        "hangup_by": "probe" if code == 200 else None,
        "offered_codecs": ("PCMU/8000",),
        "codec": "PCMU/8000",
        "rtcp": None,
    }
    fields.update(changes)
    return CallResult(**fields)


def rtcp(received: int, lost: int, jitter: float) -> RtcpSummary:
    expected = received + lost
    return RtcpSummary(
        "pjmedia",
        received,
        lost,
        100 * lost / expected if expected else None,
        jitter,
        jitter,
        received,
        0,
        1.0,
        1.0,
        "1.2.3.4:4000",
    )


CLEAN = RtcpSummary("pjmedia", 250, 0, 0.0, 0.3, 0.3, 250, 0, 1.0, 1.0, "1.2.3.4:4000")


def call_step(result: CallResult, ok: bool | None = None, origin: str = "network") -> StepResult:
    return StepResult(
        index=1,
        kind="call",
        name="call",
        ok=result.status_code == 200 if ok is None else ok,
        status_code=result.status_code,
        reason=result.reason,
        origin=origin,  # type: ignore[arg-type]
        timings_ms={},
        detail=call_detail(duration_s=5.0),
        expected_status=200,
        reachable=True,
        call=result,
    )


def test_decide_all_clean_says_so_plainly() -> None:
    verdict = decide((step("options", True, 200), call_step(call(200, rtcp=rtcp(250, 0, 0.3)))))
    assert (verdict.messaging, verdict.media) == (Quality.GOOD, Quality.GOOD)
    assert verdict.summary == "signalling and media were good at the demarc"
    assert verdict.findings == ()
    assert verdict.exit_code is ExitCode.OK


def test_decide_options_only_media_unknown_exit_ok() -> None:
    verdict = decide((step("options", True, 200),))
    assert verdict.media is Quality.UNKNOWN
    assert verdict.exit_code is ExitCode.OK
    assert "media was not measured" in verdict.summary


@pytest.mark.parametrize(
    ("code", "side"),
    [
        (503, Side.PLATFORM),
        (408, Side.PLATFORM),
        (486, Side.UNKNOWN),
        (403, Side.CUSTOMER_EQUIPMENT),
        (404, Side.CUSTOMER_EQUIPMENT),
        (488, Side.CUSTOMER_EQUIPMENT),
    ],
)
def test_decide_call_failure_sides(code: int, side: Side) -> None:
    verdict = decide((call_step(call(code)),))
    (finding,) = verdict.findings
    assert finding.side is side
    assert finding.severity is Severity.CRITICAL
    assert f"got {code}" in finding.summary
    assert verdict.messaging is Quality.BAD
    assert verdict.exit_code is ExitCode.CRITICAL


def test_decide_expected_busy_is_ok() -> None:
    result = call(486)
    verdict = decide((call_step(result, ok=True),))
    assert verdict.findings == ()
    assert verdict.messaging is Quality.GOOD


def test_decide_register_wrong_password_points_at_customer_equipment() -> None:
    verdict = decide(
        (
            step(
                "register",
                False,
                401,
                reason="Unauthorized",
                action="register",
                credentials="environment variable X",
            ),
        )
    )
    (finding,) = verdict.findings
    assert finding.side is Side.CUSTOMER_EQUIPMENT
    assert "credentials configured for the account were rejected" in finding.summary


def test_decide_silence_blames_platform_only_when_it_answered_before() -> None:
    silent_first = decide(
        (
            step(
                "options",
                False,
                None,
                origin="none",
                reachable=False,
                error="no response to OPTIONS within 2.0 s",
            ),
        )
    )
    assert silent_first.findings[0].side is Side.UNKNOWN
    assert "probe from another network" in silent_first.findings[0].summary
    silent_later = decide(
        (
            step("options", True, 200, index=0),
            call_step(call(None, reason="no final response within 3 s"), ok=False, origin="none"),
        )
    )
    assert silent_later.findings[0].side is Side.PLATFORM
    assert silent_later.findings[0].code == "call-no-answer"


def test_decide_pdd_thresholds_and_retransmissions() -> None:
    slow = decide((call_step(call(200, pdd_ms=3500.0, invite_retransmissions=2, rtcp=CLEAN)),))
    codes = {f.code: f.severity for f in slow.findings}
    assert codes == {"post-dial-delay": Severity.WARNING, "invite-retransmitted": Severity.WARNING}
    assert slow.messaging is Quality.DEGRADED
    assert slow.exit_code is ExitCode.WARNING
    very_slow = decide((call_step(call(200, pdd_ms=6000.0, rtcp=CLEAN)),))
    assert very_slow.findings[0].severity is Severity.CRITICAL


def test_decide_pdd_is_the_platforms_only_when_the_invite_got_through_at_once() -> None:
    (direct,) = decide((call_step(call(200, pdd_ms=3500.0, rtcp=CLEAN)),)).findings
    assert (direct.code, direct.side) == ("post-dial-delay", Side.PLATFORM)
    assert direct.summary == "post-dial delay 3.50 s (good below 3 s)"
    resent = decide((call_step(call(200, pdd_ms=3500.0, invite_retransmissions=1, rtcp=CLEAN)),))
    pdd = next(f for f in resent.findings if f.code == "post-dial-delay")
    assert pdd.side is Side.UNKNOWN
    assert pdd.summary == (
        "post-dial delay 3.50 s (good below 3 s); the INVITE was retransmitted 1 time(s) "
        "first, so lost packets on the path may account for it"
    )


@pytest.mark.parametrize(
    ("code", "severity", "side"),
    [
        (408, Severity.CRITICAL, Side.PLATFORM),
        (503, Severity.CRITICAL, Side.PLATFORM),
        (404, Severity.WARNING, Side.UNKNOWN),
        (486, Severity.WARNING, Side.UNKNOWN),
    ],
)
def test_decide_options_answered_with_an_error(code: int, severity: Severity, side: Side) -> None:
    (finding,) = decide((step("options", False, code, reason="Request Timeout"),)).findings
    assert (finding.code, finding.severity, finding.side) == ("options-rejected", severity, side)
    assert finding.summary == f"OPTIONS answered {code} Request Timeout"


def test_decide_dropped_call_and_media_loss() -> None:
    dropped = decide((call_step(call(200, hangup_by="remote", hold_s=1.5)),))
    assert dropped.findings[0].code == "call-dropped"
    assert "1.5 s of the planned 5.0 s" in dropped.findings[0].summary
    lossy = decide((call_step(call(200, rtcp=rtcp(240, 10, 2.0))),))
    assert lossy.media is Quality.BAD  # 4 % lost
    assert lossy.messaging is Quality.GOOD
    silent = decide((call_step(call(200, rtcp=rtcp(0, 0, 0.0))),))
    assert silent.findings[0].code == "no-rtp-received"
    jittery = decide((call_step(call(200, rtcp=rtcp(250, 0, 35.0))),))
    assert jittery.media is Quality.DEGRADED


def test_decide_local_tls_failure_is_not_platform_silence() -> None:
    verdict = decide(
        (
            step("options", False, None, origin="none", reachable=True, error="TLS certificate"),
            step(
                "register",
                False,
                503,
                origin="local",
                index=1,
                reason="SSL certificate verification error (PJSIP_TLS_ECERTVERIF)",
                action="register",
            ),
        )
    )
    assert [(f.code, f.side) for f in verdict.findings] == [
        ("options-no-answer", Side.UNKNOWN),
        ("register-no-answer", Side.UNKNOWN),
    ]
    assert "tls.ca_file" in verdict.findings[1].summary


def test_decide_contact_binding_rewritten_on_the_way_is_reported() -> None:
    rewritten = decide(
        (
            step(
                "register",
                True,
                200,
                action="register",
                expires_s=300,
                requested_expires_s=300,
                contact_sent="<sip:alice@10.0.0.2:5060>",
                contacts=("<sip:alice@203.0.113.7:40000>;expires=300",),
            ),
        )
    )
    (finding,) = rewritten.findings
    assert finding.code == "contact-rewritten"
    assert finding.severity is Severity.INFO
    assert "203.0.113.7:40000" in finding.summary and "10.0.0.2:5060" in finding.summary
    kept = decide(
        (
            step(
                "register",
                True,
                200,
                action="register",
                expires_s=300,
                requested_expires_s=300,
                contact_sent="<sip:alice@10.0.0.2>",
                contacts=('"A" <sip:alice@10.0.0.2:5060>;expires=300',),
            ),
        )
    )
    assert kept.findings == ()


# -- consequences of an earlier failure -----------------------------------------------------


def _with_events(result: StepResult, *events: int) -> StepResult:
    return replace(result, events=events)


def _register(code: int | None, **fields: Any) -> StepResult:
    origin = "network" if code is not None else "none"
    reason = fields.pop("reason", "Forbidden" if code else "no final response within 5 s")
    return _with_events(
        step("register", False, code, origin=origin, reason=reason, action="register", **fields),
        0,
        1,
    )


def _failed_call(code: int | None, index: int = 1) -> StepResult:
    origin = "network" if code is not None else "none"
    result = call_step(
        call(code, reason="no final response within 30 s" if code is None else "Forbidden"),
        ok=False,
        origin=origin,
    )
    return replace(result, index=index, events=(2, 3), reachable=code is not None)


def test_decide_call_after_a_rejected_register_is_a_consequence_not_a_second_cause() -> None:
    verdict = decide((_register(403), _failed_call(403)))
    cause, consequence = verdict.findings
    assert (cause.code, cause.severity, cause.side) == (
        "register-rejected",
        Severity.CRITICAL,
        Side.CUSTOMER_EQUIPMENT,
    )
    assert consequence.code == "call-failed"  # code unchanged
    assert consequence.severity is Severity.INFO
    assert consequence.summary == (
        "call to sip:echo@p got 403 Forbidden, expected 200: the platform wants credentials "
        "and none were configured (after REGISTER failed (step 1))"
    )
    assert consequence.evidence == (0, 1, 2, 3)  # the REGISTER's messages first
    assert verdict.messaging is Quality.BAD  # from the cause
    assert verdict.exit_code is ExitCode.CRITICAL
    assert verdict.summary == (
        "messaging bad, media unknown: REGISTER failed with 403 Forbidden: the registrar "
        "wants credentials and none were configured"
    )


def test_decide_call_silent_after_an_unanswered_register_is_a_consequence() -> None:
    verdict = decide((_register(None), _failed_call(None)))
    assert [(f.code, f.severity) for f in verdict.findings] == [
        ("register-no-answer", Severity.CRITICAL),
        ("call-no-answer", Severity.INFO),
    ]
    assert verdict.findings[1].summary.endswith("(after REGISTER failed (step 1))")


@pytest.mark.parametrize(
    ("register_code", "call_code", "explained"),
    [
        (401, 403, True),  # credentials, then credentials
        (503, 500, True),  # the platform failing, then failing again
        (404, 404, True),  # the same answer
        (403, 404, False),  # a rejected account does not explain an unknown number
        (403, None, False),  # nor silence: the registrar answered
        (None, 403, False),  # silence does not explain an answer
    ],
)
def test_decide_consequence_only_when_the_earlier_failure_explains_it(
    register_code: int | None, call_code: int | None, explained: bool
) -> None:
    verdict = decide((_register(register_code), _failed_call(call_code)))
    assert len(verdict.findings) == 2
    later = verdict.findings[1]
    assert later.severity is (Severity.INFO if explained else Severity.CRITICAL)
    assert ("after REGISTER failed (step 1)" in later.summary) is explained


def test_decide_silence_after_an_answer_in_between_is_a_cause_again() -> None:
    answered = replace(step("options", True, 200), index=1)
    silent_call = replace(_failed_call(None), index=2)
    verdict = decide((_register(None), answered, silent_call))
    assert [(f.code, f.severity, f.side) for f in verdict.findings] == [
        ("register-no-answer", Severity.CRITICAL, Side.UNKNOWN),
        ("call-no-answer", Severity.CRITICAL, Side.PLATFORM),
    ]


def test_decide_unregister_after_a_failed_register_is_a_consequence() -> None:
    refresh = _register(None)
    unregister = replace(
        step(
            "register",
            False,
            None,
            origin="none",
            reason="no final response within 5 s",
            action="unregister",
        ),
        index=1,
    )
    verdict = decide((refresh, unregister))
    assert [(f.code, f.severity) for f in verdict.findings] == [
        ("register-no-answer", Severity.CRITICAL),
        ("unregister-no-answer", Severity.INFO),
    ]


def _silent_options(name: str) -> StepResult:
    options = step(
        "options", False, None, origin="none", reachable=False, error="no response within 5 s"
    )
    return replace(options, name=name, events=(0,))


def test_decide_silence_after_an_unanswered_options_to_the_target_is_a_consequence() -> None:
    target = "sip:pbx.example.com:5060"
    steps = (_silent_options(f"OPTIONS {target}"), replace(_register(None), index=1))
    verdict = decide(steps, target=target)
    assert [(f.code, f.severity) for f in verdict.findings] == [
        ("options-no-answer", Severity.CRITICAL),
        ("register-no-answer", Severity.INFO),
    ]
    assert verdict.findings[1].summary.endswith("(after OPTIONS got no answer (step 1))")
    assert verdict.findings[1].evidence == (0, 1)
    # An OPTIONS to another URI says nothing of the target; nor does one without a target.
    other = (_silent_options("OPTIONS sip:other.example.com"), steps[1])
    assert decide(other, target=target).findings[1].severity is Severity.CRITICAL
    assert decide(steps).findings[1].severity is Severity.CRITICAL


def test_decide_answered_options_error_explains_nothing() -> None:
    target = "sip:pbx.example.com:5060"
    rejected = replace(step("options", False, 503), name=f"OPTIONS {target}")
    verdict = decide((rejected, replace(_register(503), index=1)), target=target)
    assert [f.severity for f in verdict.findings] == [Severity.CRITICAL, Severity.CRITICAL]


# -- no OK without a working call ------------------------------------------------------------

GARBAGE = (
    "the SDP answer cannot be read: SDP line 'this is not a session description' is not "
    "<type>=<value>"
)


def test_decide_answer_the_probe_had_to_tear_down_is_a_failed_call() -> None:
    torn = call(
        200,
        reason="OK",
        hold_s=0.0,
        codec=None,
        unusable_answer=GARBAGE,
        local_disconnect="415 SDP negotiation failed",
    )
    verdict = decide((call_step(torn, ok=False),))
    assert [(f.code, f.severity, f.side, f.area) for f in verdict.findings] == [
        ("call-answer-unusable", Severity.CRITICAL, Side.PLATFORM, "messaging"),
        ("no-rtp", Severity.CRITICAL, Side.UNKNOWN, "media"),
    ]
    assert verdict.findings[0].summary == (
        "call to sip:echo@p was answered 200 OK but the answer cannot carry audio: "
        f"{GARBAGE}; the probe ended the call itself (415 SDP negotiation failed)"
    )
    assert verdict.findings[1].summary == (
        "no RTP in either direction during 0.0 s of answered call; the answer's SDP gave the "
        "probe nowhere to send it"
    )
    assert (verdict.messaging, verdict.media) == (Quality.BAD, Quality.BAD)
    assert verdict.exit_code is ExitCode.CRITICAL


def test_decide_answer_with_no_media_address_is_a_failed_call_and_media_bad() -> None:
    why = "the SDP answer names no address to send audio to: 'c=IN IP4 0.0.0.0'"
    verdict = decide((call_step(call(200, codec=None, unusable_answer=why), ok=False),))
    assert [f.code for f in verdict.findings] == ["call-answer-unusable", "no-rtp"]
    assert "'c=IN IP4 0.0.0.0'" in verdict.findings[0].summary
    assert "ended the call itself" not in verdict.findings[0].summary
    assert verdict.media is Quality.BAD


def test_decide_probe_ended_call_without_a_known_reason_stays_unknown() -> None:
    ended = call(200, local_disconnect="500 Internal Error", rtcp=CLEAN)
    verdict = decide((call_step(ended, ok=False),))
    assert [(f.code, f.side) for f in verdict.findings] == [("call-ended-locally", Side.UNKNOWN)]


def test_decide_answered_call_in_which_no_media_ever_ran_is_media_bad_not_unknown() -> None:
    verdict = decide((call_step(call(200)),))  # neither a capture stream nor pjmedia figures
    (finding,) = verdict.findings
    assert (finding.code, finding.severity, finding.area) == ("no-rtp", Severity.CRITICAL, "media")
    assert finding.summary == "no RTP in either direction during 5.0 s of answered call"
    assert (verdict.messaging, verdict.media) == (Quality.GOOD, Quality.BAD)
    assert verdict.exit_code is ExitCode.CRITICAL
    # A call that was not answered measured no media: unknown, as before.
    assert decide((call_step(call(486), ok=True),)).media is Quality.UNKNOWN


# -- the run's own bounds --------------------------------------------------------------------


def _limits(**changes: Any) -> SipLimits:
    fields: dict[str, Any] = {
        "max_messages": 5000,
        "max_repeats": 3,
        "max_text_chars": 16384,
        "dropped": (("repeated-provisional", 7480),),
        "dropped_from": (("127.0.0.1:5062", 7480),),
        "dropped_calls": (("c", 7480),),
    }
    fields.update(changes)
    return SipLimits(**fields)


def test_run_findings_provisional_flood_from_the_target() -> None:
    flooded = _failed_call(None)
    (finding,) = run_findings(_limits(), None, "127.0.0.1", (flooded,))
    assert (finding.code, finding.severity, finding.side, finding.area) == (
        "sip-flood",
        Severity.WARNING,
        Side.UNKNOWN,
        "messaging",
    )
    assert finding.summary == (
        "flood of provisional responses, all from the target's address (127.0.0.1:5062 "
        "(7480)): 7480 were not kept (the run keeps 3 of each kind per call and 5000 "
        "messages in all)"
    )
    assert (finding.step, finding.evidence) == (1, (2, 3))
    elsewhere = run_findings(_limits(), None, "10.9.9.9", (flooded,))
    assert "not from the target's address" in elsewhere[0].summary


def test_run_findings_nothing_dropped_nothing_said() -> None:
    assert run_findings(_limits(dropped=(), dropped_from=(), dropped_calls=()), None) == ()
    assert run_findings(None, None) == ()


def test_run_findings_requests_over_the_limit() -> None:
    (finding,) = run_findings(_limits(dropped=(("over-limit", 12),)), None)
    assert finding.code == "sip-flood"
    assert finding.summary == (
        "12 SIP requests and final responses were not kept (the run keeps 10000 in all)"
    )


def _capture(packets: int, rtp: int, limit: str | None) -> CaptureSummary:
    return CaptureSummary(None, "lo", "port 5060", packets, 0, None, limit, rtp, 12000, 7_200_000)


def test_run_findings_capture_stopped_at_its_cap_by_rtp_is_an_rtp_flood() -> None:
    cap = "the capture stopped at its limit of 12000 packets"
    (finding,) = run_findings(None, _capture(12000, 11900, cap))
    assert (finding.code, finding.severity, finding.area) == (
        "rtp-flood",
        Severity.WARNING,
        "media",
    )
    assert finding.summary.startswith(f"{cap}: 11900 of its 12000 packets were RTP")
    assert run_findings(None, _capture(12000, 300, cap)) == ()  # SIP filled it: sip-flood's
    assert run_findings(None, _capture(800, 700, None)) == ()
