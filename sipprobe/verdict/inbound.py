"""A call the probe waited for (the ``answer`` step) in the verdict.

No call within the bound is a finding whose side is unknown: from where the probe stands it
cannot tell whether nobody dialled or the platform did not deliver the call, and an earlier
successful REGISTER only proves the platform knew where to send it (docs/demarc.md,
"Inbound calls"). An answered call's media is judged by the same rules as any call
(verdict/media.py); its far end is the caller. A caller that holds the call is said in an
information finding: the media rules judge RTP by its sequence numbers and timestamps, so
the silence of a hold is neither loss nor jitter (docs/measurement.md, "Inbound calls").
"""

from __future__ import annotations

import re

from sipprobe.model.inbound import AnswerDetail, InboundCall
from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import Finding, StepResult
from sipprobe.model.steps import CallDetail


def as_call_detail(detail: AnswerDetail, srtp: str = "off") -> CallDetail:
    """What the media rules read of a call step, for the answered call."""
    return CallDetail(
        duration_s=detail.duration_s,
        expect_dscp=None,
        srtp=srtp,
        timed_out=None,
        credentials=None,
    )


def _finding(severity: Severity, code: str, summary: str, step: StepResult) -> Finding:
    return Finding(severity, Side.UNKNOWN, "messaging", code, summary, step.index, step.events)


def _not_received(step: StepResult, detail: AnswerDetail) -> Finding:
    waited = detail.waited_ms / 1000.0
    where = detail.listening_on
    if detail.interrupted:
        return _finding(
            Severity.WARNING,
            "inbound-call-not-received",
            f"no call had arrived on {where} when the wait was interrupted after {waited:.1f} s",
            step,
        )
    if detail.registered_at_step is not None:
        why = (
            f"the account registered (step {detail.registered_at_step + 1}), so the platform "
            "knew where to deliver it; the probe cannot tell whether the caller dialled or the "
            "platform did not route the call to this registration: place the call again while "
            "the probe waits, and look the call up in the platform's call log"
        )
    elif detail.account is not None:
        why = (
            "the account did not register in this run, so the platform may not know where to "
            "deliver it (add a register step before the answer step); the probe cannot tell "
            "whether the caller dialled"
        )
    else:
        why = (
            "the probe cannot tell whether the caller dialled or the platform sends the "
            "trunk's calls to another address: check that the trunk's destination is this "
            "address and port"
        )
    return _finding(
        Severity.CRITICAL,
        "inbound-call-not-received",
        f"no call arrived on {where} within {detail.timeout_s:g} s: {why}",
        step,
    )


def matches(pattern: str, *values: str | None) -> bool:
    """Whether ``pattern`` (a regular expression, case-insensitive) is found in any value."""
    return any(re.search(pattern, v, re.IGNORECASE) for v in values if v is not None)


def _identity_findings(
    step: StepResult, detail: AnswerDetail, caller: InboundCall
) -> list[Finding]:
    """The call against the step's expect_from and expect_to: a call that arrived as
    something else than the engineer dialled (a number translated, a caller ID replaced)."""
    found = []
    if detail.expect_from is not None and not matches(
        detail.expect_from, caller.from_header, caller.asserted_identity
    ):
        found.append(
            _finding(
                Severity.WARNING,
                "inbound-caller-unexpected",
                f"the call arrived from {caller.from_header or 'no From'} (P-Asserted-Identity "
                f"{caller.asserted_identity or 'none'}), which does not match expect_from "
                f"{detail.expect_from!r}",
                step,
            )
        )
    if detail.expect_to is not None and not matches(
        detail.expect_to, caller.to_header, caller.request_uri
    ):
        found.append(
            _finding(
                Severity.WARNING,
                "inbound-called-unexpected",
                f"the call arrived for {caller.to_header or 'no To'} (Request-URI "
                f"{caller.request_uri or 'none'}), which does not match expect_to "
                f"{detail.expect_to!r}",
                step,
            )
        )
    return found


def answer_findings(step: StepResult, detail: AnswerDetail) -> list[Finding]:
    """Messaging findings of an answer step (media: verdict/calls.py, as for any call)."""
    call = step.call
    caller = detail.caller
    if caller is None or call is None:
        return [_not_received(step, detail)]
    found = _identity_findings(step, detail, caller)
    who = caller.from_header or caller.source
    if detail.error is not None or not call.answered:
        found.append(
            _finding(
                Severity.CRITICAL,
                "inbound-answer-failed",
                f"a call from {who} arrived but the probe could not answer it "
                f"({detail.error or call.disconnect_reason or 'no 200 OK sent'})",
                step,
            )
        )
        return found
    if caller.ack_after_ms is None:
        found.append(
            _finding(
                Severity.WARNING,
                "inbound-ack-not-received",
                f"the probe answered the call from {who} but no ACK reached it: the caller's "
                "side may not have received the 200 OK (the probe resends it for 32 s, then "
                "the call ends)",
                step,
            )
        )
    hold = caller.caller_hold()
    if hold is not None:
        offered, at_s, held_s = hold
        until = (
            f"for {held_s:.1f} s, then resumed it" if held_s is not None else "and never resumed it"
        )
        found.append(
            _finding(
                Severity.INFO,
                "inbound-caller-held",
                f"the caller held the call (its re-INVITE offered {offered}) {at_s:.1f} s after "
                f"the answer {until}: the caller's RTP may stop meanwhile, which is not loss",
                step,
            )
        )
    if detail.hangup_by == "caller" and not detail.interrupted:
        held = f"{call.hold_s:.1f} s" if call.hold_s is not None else "an unknown time"
        found.append(
            _finding(
                Severity.INFO,
                "inbound-caller-hung-up",
                f"the caller hung up after {held} of the planned {detail.duration_s:g} s",
                step,
            )
        )
    return found
