"""The demarc policy: turning measured steps into findings and a verdict.

``decide`` walks the run's steps and asks each rule family for its findings: OPTIONS,
REGISTER and the NAT check (verdict/messaging.py), calls (verdict/calls.py, with
hold_dtmf.py, session_timer.py and legs.py), answered inbound calls (verdict/inbound.py);
verdict/consequence.py turns a failure an earlier one explains into information. The run's
floods (verdict/bounds.py, ``run_findings``) join the verdict through ``with_findings``.
Attribution follows docs/demarc.md, "How a side is chosen".
"""

from __future__ import annotations

from collections.abc import Iterable

from sipprobe.model.results import Finding, Quality, Severity, StepResult, Verdict
from sipprobe.model.steps import (
    AnswerDetail,
    CallDetail,
    NatCheckDetail,
    OptionsDetail,
    RegisterDetail,
)
from sipprobe.model.thresholds import Thresholds
from sipprobe.verdict.bounds import run_findings
from sipprobe.verdict.calls import call_findings, media_findings
from sipprobe.verdict.consequence import (
    CONSEQUENCE_CODES,
    Cause,
    as_consequence,
    cause_of,
    explains,
)
from sipprobe.verdict.inbound import answer_findings, as_call_detail
from sipprobe.verdict.media import merge_dscp_notes
from sipprobe.verdict.messaging import nat_check_findings, options_findings, register_findings

# The verdict's entry points; run_findings lives in verdict/bounds.py and is part of this
# module's interface too.
__all__ = ["decide", "run_findings", "with_findings"]


def _register_refreshes(steps: tuple[StepResult, ...]) -> tuple[int, ...]:
    """The refresh intervals of the run's registrations (granted, else asked for)."""
    refreshes = []
    for step in steps:
        detail = step.detail
        if isinstance(detail, RegisterDetail) and detail.action == "register":
            expires = detail.expires_s or detail.requested_expires_s
            if expires:
                refreshes.append(int(expires))
    return tuple(refreshes)


def _quality(findings: Iterable[Finding], area: str, measured: bool) -> Quality:
    if not measured:
        return Quality.UNKNOWN
    severities = {f.severity for f in findings if f.area == area}
    if Severity.CRITICAL in severities:
        return Quality.BAD
    if Severity.WARNING in severities:
        return Quality.DEGRADED
    return Quality.GOOD


def decide(
    steps: tuple[StepResult, ...],
    thresholds: Thresholds | None = None,
    target: str | None = None,
) -> Verdict:
    """Findings and the messaging/media verdict for a run's steps.

    ``target`` is the run's target URI: an OPTIONS to it that got no answer explains later
    silence (an OPTIONS to another URI does not).
    """
    limits = thresholds or Thresholds()
    found: list[Finding] = []
    reachable = False
    cause: Cause | None = None
    for step in steps:
        reachable = reachable or bool(step.reachable)
        if cause is not None and cause.kind == "silence" and step.reachable:
            cause = None  # the target answered since: that silence explains nothing later
        these = _collect(step, steps, reachable, limits)
        if cause is not None and explains(cause, step):
            these = [as_consequence(f, cause) if f.code in CONSEQUENCE_CODES else f for f in these]
        elif cause is None:
            cause = cause_of(step, target)
        found.extend(these)
    findings = tuple(merge_dscp_notes(found))
    signalled = any(step.kind != "wait" for step in steps)
    media_measured = any(
        s.call is not None and (s.call.rtcp is not None or bool(s.call.streams) or s.call.answered)
        for s in steps
    )
    messaging = _quality(findings, "messaging", signalled)
    media = _quality(findings, "media", media_measured)
    return Verdict(messaging, media, findings, _summary(messaging, media, findings))


def _collect(
    step: StepResult, steps: tuple[StepResult, ...], reachable: bool, limits: Thresholds
) -> list[Finding]:
    """The findings of one step, by the family of its kind."""
    detail = step.detail
    if isinstance(detail, OptionsDetail):
        return options_findings(step, detail, reachable)
    if isinstance(detail, RegisterDetail):
        return register_findings(step, detail, reachable)
    if isinstance(detail, CallDetail):
        return call_findings(step, detail, reachable, limits)
    if isinstance(detail, NatCheckDetail):
        return nat_check_findings(step, detail, reachable, _register_refreshes(steps))
    if isinstance(detail, AnswerDetail):  # a call that came in (verdict/inbound.py)
        found = answer_findings(step, detail)
        if step.call is not None and step.call.answered and detail.error is None:
            found.extend(media_findings(step, as_call_detail(detail), step.call, limits))
        return found
    return []


def with_findings(verdict: Verdict, extra: tuple[Finding, ...]) -> Verdict:
    """``verdict`` with findings from outside the run's steps merged in (e.g. regressions
    against the run's history). An area the run did not measure stays unknown."""
    if not extra:
        return verdict
    findings = verdict.findings + extra
    messaging = _quality(findings, "messaging", verdict.messaging is not Quality.UNKNOWN)
    media = _quality(findings, "media", verdict.media is not Quality.UNKNOWN)
    return Verdict(messaging, media, findings, _summary(messaging, media, findings))


def _summary(messaging: Quality, media: Quality, findings: tuple[Finding, ...]) -> str:
    if messaging is Quality.GOOD and media is Quality.GOOD:
        return "signalling and media were good at the demarc"
    if messaging is Quality.GOOD and media is Quality.UNKNOWN:
        return "signalling was good at the demarc; media was not measured in this run"
    worst = [f for f in findings if f.severity is Severity.CRITICAL] or [
        f for f in findings if f.severity is Severity.WARNING
    ]
    lead = worst[0].summary if worst else "see the steps"
    return f"messaging {messaging.value}, media {media.value}: {lead}"
