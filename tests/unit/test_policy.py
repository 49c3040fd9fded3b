"""Demarc policy: which side each kind of result points to, and the verdict it gives."""

from __future__ import annotations

from typing import Any

import pytest
from media_samples import call_detail, options_detail, register_detail

from sipprobe.model.results import (
    CallResult,
    ExitCode,
    Quality,
    RtcpSummary,
    Severity,
    Side,
    StepResult,
)
from sipprobe.verdict.policy import decide


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
    slow = decide((call_step(call(200, pdd_ms=3500.0, invite_retransmissions=2)),))
    codes = {f.code: f.severity for f in slow.findings}
    assert codes == {"post-dial-delay": Severity.WARNING, "invite-retransmitted": Severity.WARNING}
    assert slow.messaging is Quality.DEGRADED
    assert slow.exit_code is ExitCode.WARNING
    very_slow = decide((call_step(call(200, pdd_ms=6000.0)),))
    assert very_slow.findings[0].severity is Severity.CRITICAL


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
