"""Messaging rules of the OPTIONS, REGISTER and NAT check steps, and how any SIP answer
(or its absence) is read: whose side a status code is, what silence means.

Attribution follows docs/demarc.md, "How a side is chosen". A failure is pinned on the
platform only when the platform demonstrably answered something in this run (so the path to
it works); a target that never answered could be down or blocked on the way, and the finding
says so instead of guessing.
"""

from __future__ import annotations

from typing import Literal

from sipprobe.model.results import Finding, Severity, Side, StepResult
from sipprobe.model.steps import NatCheckDetail, OptionsDetail, RegisterDetail
from sipprobe.nat.findings import nat_findings

BUSY = {480, 486, 600, 603}
CREDENTIALS = {401, 403, 407}
_CUSTOMER_CONFIG = {404, 410, 484, 488, 415, 420}


def step_finding(
    severity: Severity,
    side: Side,
    area: Literal["messaging", "media"],
    code: str,
    summary: str,
    step: StepResult,
) -> Finding:
    """A finding of ``step``, its SIP messages as the evidence."""
    return Finding(severity, side, area, code, summary, step.index, step.events)


def status_side(code: int) -> Side:
    if code >= 500 or code == 408:
        return Side.PLATFORM
    if code in CREDENTIALS or code in _CUSTOMER_CONFIG:
        return Side.CUSTOMER_EQUIPMENT
    return Side.UNKNOWN


def no_answer(error: str, reachable: bool) -> tuple[Side, str]:
    """Side and hint for a step that got no SIP answer.

    A TLS failure (the probe does not trust the certificate, or the handshake broke) is not
    silence: the platform answered at the TLS level and the request never went out, so it
    says nothing about the platform's SIP service.
    """
    if "TLS" in error:
        return Side.UNKNOWN, "trust the platform's CA with tls.ca_file if it uses a private CA"
    if reachable:
        return Side.PLATFORM, "the platform answered earlier in this run, so the path works"
    return Side.UNKNOWN, (
        "nothing from the target reached the probe in this run: the platform may be down or "
        "the path may block SIP; probe from another network to tell them apart"
    )


def options_findings(step: StepResult, detail: OptionsDetail, reachable: bool) -> list[Finding]:
    if step.status_code is None:
        error = detail.error or "no response"
        side, hint = no_answer(error, reachable)
        summary = f"OPTIONS failed: {error}; {hint}"
        return [
            step_finding(Severity.CRITICAL, side, "messaging", "options-no-answer", summary, step)
        ]
    if not 200 <= step.status_code < 300:
        # 5xx and 408 (a proxy of the platform timed out further in) are the platform's,
        # as for REGISTER and INVITE; anything else only says the target is odd.
        failed = step.status_code >= 500 or step.status_code == 408
        return [
            step_finding(
                Severity.CRITICAL if failed else Severity.WARNING,
                status_side(step.status_code) if failed else Side.UNKNOWN,
                "messaging",
                "options-rejected",
                f"OPTIONS answered {step.status_code} {step.reason}",
                step,
            )
        ]
    return []


def nat_check_findings(
    step: StepResult, detail: NatCheckDetail, reachable: bool, expires: tuple[int, ...]
) -> list[Finding]:
    if step.status_code is None:
        error = step.reason or "no response"
        side, hint = no_answer(error, reachable)
        summary = f"NAT check got no answer: {error}; {hint}"
        return [
            step_finding(Severity.CRITICAL, side, "messaging", "nat-check-no-answer", summary, step)
        ]
    return [
        step_finding(found.severity, found.side, "messaging", found.code, found.summary, step)
        for found in nat_findings(detail.result, expires)
    ]


def _contact_binding(step: StepResult, detail: RegisterDetail) -> list[Finding]:
    """The registrar's binding against the Contact the probe sent (NAT/ALG evidence)."""
    sent, held = detail.contact_sent, detail.contacts
    if detail.action != "register" or sent is None or not sent.text or not held:
        return []
    if sent.address is None or any(c.address == sent.address for c in held):
        return []
    return [
        step_finding(
            Severity.INFO,
            Side.UNKNOWN,
            "messaging",
            "contact-rewritten",
            f"the registrar holds {', '.join(c.text for c in held)} for the probe, which sent "
            f"Contact {sent.text}: "
            "NAT or a SIP ALG on the path, or the registrar's own NAT handling, changed it",
            step,
        )
    ]


def register_findings(step: StepResult, detail: RegisterDetail, reachable: bool) -> list[Finding]:
    action = detail.action
    if step.ok:
        found = _contact_binding(step, detail)
        granted, asked = detail.expires_s, detail.requested_expires_s
        if action == "register" and granted is not None and asked and granted < asked:
            found.append(
                step_finding(
                    Severity.INFO,
                    Side.PLATFORM,
                    "messaging",
                    "register-expires-shortened",
                    f"registrar granted {granted} s of the {asked} s asked for",
                    step,
                )
            )
        return found
    code = step.status_code
    if step.origin != "network" or code is None:
        side, hint = no_answer(step.reason, reachable)
        return [
            step_finding(
                Severity.CRITICAL if action == "register" else Severity.WARNING,
                side,
                "messaging",
                f"{action}-no-answer",
                f"{action.upper()} got no response: {step.reason}; {hint}",
                step,
            )
        ]
    if code in CREDENTIALS:
        has_password = detail.credentials is not None
        why = (
            "the credentials configured for the account were rejected"
            if has_password
            else "the registrar wants credentials and none were configured"
        )
        return [
            step_finding(
                Severity.CRITICAL,
                Side.CUSTOMER_EQUIPMENT,
                "messaging",
                "register-rejected",
                f"{action.upper()} failed with {code} {step.reason}: {why}",
                step,
            )
        ]
    return [
        step_finding(
            Severity.CRITICAL,
            status_side(code),
            "messaging",
            f"{action}-failed",
            f"{action.upper()} failed with {code} {step.reason}",
            step,
        )
    ]
