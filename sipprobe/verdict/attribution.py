"""The pass after the rules: what the probe's location allows a finding to say, and who
must fix it.

``decide`` (verdict/policy.py) names each finding's side from the run's evidence alone. This
pass then applies what the probe's location tells (spec: "Location changes what a single run
may say"), and fills ``responsible`` and ``policy`` from the support policy
(verdict/support_policy.py), in that order, so the responsible party follows the side the
finding ends with:

- from ``internet`` or ``platform`` no customer network is on the path, so no finding names
  ``customer-network``: it becomes ``unknown``;
- from ``platform`` (beside the platform) nothing else is on the path: an unanswered request,
  media loss or one-way audio is the platform's (a TLS failure stays the probe's question);
- from ``customer-lan`` / ``customer-wan`` the same symptoms can be the customer's access or
  the platform: ``unknown``, with the hint to probe from outside and localize.
"""

from __future__ import annotations

from dataclasses import replace

from sipprobe.model.demarc import Equipment, Location
from sipprobe.model.results import Finding, Side, StepResult, Verdict
from sipprobe.verdict.policy import with_findings
from sipprobe.verdict.support_policy import Subject, responsible_for

# The symptoms the location rules speak of, by finding code.
SILENCE = frozenset(
    {
        "options-no-answer",
        "register-no-answer",
        "unregister-no-answer",
        "call-no-answer",
        "nat-check-no-answer",
    }
)
LOSS = frozenset({"rx-loss", "tx-loss", "rx-late", "rx-reordered"})
ONE_WAY = frozenset({"one-way-audio", "no-rtp", "no-rtp-received"})
_NAT = frozenset(
    {
        "sip-alg",
        "sip-alg-rewrite",
        "nat-detected",
        "binding-lifetime",
        "binding-lifetime-short",
        "binding-shorter-than-refresh",
        "contact-rewritten",
        "rtp-source-mismatch",
    }
)
_CREDENTIAL_STATUS = frozenset({401, 403, 407})
_CODEC_STATUS = frozenset({488, 415})

OUTSIDE_HINT = (
    "run the same check from outside the customer's network and compare with sipprobe localize"
)


def subject_of(finding: Finding, step: StepResult | None) -> Subject | None:
    """What a finding is about, for the policy: the device or setting it points at."""
    code = finding.code
    if code.startswith("dscp-"):
        return "qos"
    if code in _NAT:
        return "nat"
    if code in ("register-rejected", "register-failed", "unregister-failed"):
        return "credentials"
    if code == "call-failed" and step is not None:
        if step.status_code in _CREDENTIAL_STATUS:
            return "credentials"
        if step.status_code in _CODEC_STATUS:
            return "codec"
    return None


def _tls_failure(step: StepResult | None) -> bool:
    """A TLS failure is not silence (verdict/messaging.py says so too): the request never left."""
    return step is not None and "TLS" in step.reason  # a step without an answer: its error


def located(finding: Finding, step: StepResult | None, location: Location) -> Finding:
    """``finding`` with the side its probe's location allows, and why when that changed it."""
    code, side = finding.code, finding.side
    symptom = code in SILENCE or code in LOSS or code in ONE_WAY
    if location is Location.PLATFORM and symptom and not _tls_failure(step):
        new_side, why = (
            Side.PLATFORM,
            "probed from beside the platform, nothing else is on the path",
        )
    elif not location.customer_network_on_path and side is Side.CUSTOMER_NETWORK:
        new_side, why = (
            Side.UNKNOWN,
            f"probed from {location.words}, no customer network is on the path",
        )
    elif location.customer_network_on_path and symptom and side is not Side.UNKNOWN:
        new_side, why = (
            Side.UNKNOWN,
            f"seen from {location.words} this can be the customer's access or the platform: "
            f"{OUTSIDE_HINT}",
        )
    else:
        return finding
    if new_side is side:
        return finding
    return replace(finding, side=new_side, summary=f"{finding.summary} ({why})")


def attribute(
    verdict: Verdict,
    steps: tuple[StepResult, ...],
    service: str,
    equipment: Equipment,
    location: Location,
) -> Verdict:
    """``verdict`` with the location rules applied and every finding's ``responsible`` and
    ``policy`` filled. Severities are untouched, so the qualities stay as ``decide`` gave."""
    by_index = {step.index: step for step in steps}
    findings = []
    for finding in verdict.findings:
        step = by_index.get(finding.step) if finding.step is not None else None
        placed = located(finding, step, location)
        responsible, clause = responsible_for(
            placed.side, service, equipment, subject_of(placed, step)
        )
        findings.append(replace(placed, responsible=responsible, policy=clause))
    if all(
        (f.side, f.summary) == (old.side, old.summary)
        for f, old in zip(findings, verdict.findings, strict=True)
    ):
        return replace(verdict, findings=tuple(findings))
    # A finding's words changed: the verdict's summary, which quotes the worst one, follows.
    return with_findings(replace(verdict, findings=()), tuple(findings))
