"""Failures that are consequences of an earlier one: a REGISTER that failed, or an OPTIONS
to the target that got no answer, explains the same failure of the steps after it, which are
then reported as information (docs/demarc.md, "How a side is chosen")."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sipprobe.model.results import Finding, Severity, StepResult
from sipprobe.model.steps import OptionsDetail, RegisterDetail
from sipprobe.verdict.messaging import CREDENTIALS


@dataclass(frozen=True, slots=True)
class Cause:
    """An earlier failure that may explain later ones: what failed and how."""

    step: StepResult
    what: str  # "REGISTER failed", "OPTIONS got no answer"
    kind: str  # "silence", "tls" or "status"


CONSEQUENCE_CODES = frozenset(
    {
        "register-no-answer",
        "register-rejected",
        "register-failed",
        "unregister-no-answer",
        "unregister-failed",
        "call-no-answer",
        "call-failed",
    }
)


def _failure_kind(step: StepResult) -> str:
    """How a step without a good answer failed: silence, a TLS failure, or a status."""
    if step.origin == "network" and step.status_code is not None:
        return "status"
    return "tls" if "TLS" in step.reason else "silence"


def cause_of(step: StepResult, target: str | None) -> Cause | None:
    """The failure of ``step`` that later failures may be consequences of, if any: a
    REGISTER rejected or unanswered, or an OPTIONS to the run's target that got no answer
    at all (an OPTIONS answered with an error says nothing of the next request)."""
    detail = step.detail
    if isinstance(detail, RegisterDetail) and detail.action == "register" and not step.ok:
        return Cause(step, "REGISTER failed", _failure_kind(step))
    if (
        isinstance(detail, OptionsDetail)
        and step.status_code is None
        and target is not None
        and step.name == f"OPTIONS {target}"
    ):
        return Cause(step, "OPTIONS got no answer", _failure_kind(step))
    return None


def explains(cause: Cause, step: StepResult) -> bool:
    """Whether ``cause`` explains the failure of ``step``: the same silence (nothing from the
    target in between), the same TLS failure, or the same answer: a credentials status
    (401/403/407) after one, the same status code, or a 5xx after a 5xx."""
    if step.ok:
        return False
    kind = _failure_kind(step)
    if kind != cause.kind:
        return False
    if kind != "status":
        return True
    before, now = cause.step.status_code or 0, step.status_code or 0
    return (
        before == now
        or (before in CREDENTIALS and now in CREDENTIALS)
        or (before >= 500 and now >= 500)
    )


def as_consequence(finding: Finding, cause: Cause) -> Finding:
    """``finding`` reported as a consequence of ``cause``: INFO, code unchanged, the summary
    says after what, and the evidence leads with the cause's messages."""
    return replace(
        finding,
        severity=Severity.INFO,
        summary=f"{finding.summary} (after {cause.what} (step {cause.step.index + 1}))",
        evidence=cause.step.events
        + tuple(e for e in finding.evidence if e not in cause.step.events),
    )
