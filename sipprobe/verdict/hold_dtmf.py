"""Rules of a call's mid-call features: a hold (re-INVITEs, and whether media stopped and
came back) and DTMF digits that did not come back as sent (docs/demarc.md, "Findings")."""

from __future__ import annotations

from sipprobe.model.results import CallResult, Finding, Severity, Side, StepResult
from sipprobe.verdict.messaging import step_finding


def hold_findings(step: StepResult, call: CallResult) -> list[Finding]:
    """A hold that could not be done or undone, or media that did not come back. Whose
    side that is the probe cannot tell from one vantage."""
    hold = call.hold
    if hold is None:
        return []
    found: list[Finding] = []
    failed = [r for r in hold.reinvites if not 200 <= (r.status_code or 0) < 300]
    if hold.error is not None or failed or len(hold.reinvites) < 2:
        why = hold.error or "; ".join(
            f"the {r.purpose} re-INVITE got {r.status_code or 'no final response'}" for r in failed
        )
        found.append(
            step_finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "hold-failed",
                f"hold of {hold.hold_s:g} s did not complete: {why or 'no re-INVITE sent'}",
                step,
            )
        )
    held = any(r.purpose == "hold" and 200 <= (r.status_code or 0) < 300 for r in hold.reinvites)
    for media in hold.media:
        if hold.mode == "inactive" and held and not media.stopped:
            # the far end kept sending after answering inactive: its answer is the evidence
            far = media.direction == "rx" and any(
                r.purpose == "hold" and r.answered == "inactive" for r in hold.reinvites
            )
            found.append(
                step_finding(
                    Severity.WARNING,
                    Side.PLATFORM if far else Side.UNKNOWN,
                    "media",
                    "hold-media-not-stopped",
                    f"RTP {'from the far end' if media.direction == 'rx' else 'from the probe'} "
                    f"({media.direction}) kept flowing through an inactive hold of "
                    f"{hold.hold_s:g} s (longest silence {media.longest_gap_s:g} s)",
                    step,
                )
            )
        if media.stopped and media.resumed is False:
            towards = "from the far end" if media.direction == "rx" else "from the probe"
            found.append(
                step_finding(
                    Severity.CRITICAL,
                    Side.UNKNOWN,
                    "media",
                    "hold-media-not-resumed",
                    f"RTP {towards} ({media.direction}) stopped at {media.gap_start_s:g} s of "
                    "the call's media and did not come back after the resume",
                    step,
                )
            )
    return found


def dtmf_findings(step: StepResult, call: CallResult) -> list[Finding]:
    """Digits that did not come back as sent. Which side lost them the probe cannot
    tell: the far end may not relay them, or they went missing on the way."""
    dtmf = call.dtmf
    if dtmf is None or dtmf.matched is not False:
        return []
    if dtmf.send_error is not None:
        return [
            step_finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "media",
                "dtmf-not-sent",
                f"DTMF {dtmf.sent!r} ({dtmf.method}) was not sent: {dtmf.send_error}",
                step,
            )
        ]
    came = f"{dtmf.received!r} came back" if dtmf.received else "nothing came back"
    if dtmf.method == "sip-info":
        came = (
            f"the far end received {dtmf.received!r}"
            if dtmf.received
            else ("the far end received none")
        )
    elif dtmf.far_end_received is not None:
        came += f" (the far end received {dtmf.far_end_received!r})"
    return [
        step_finding(
            Severity.WARNING,
            Side.UNKNOWN,
            "media",
            "dtmf-mismatch",
            f"DTMF {dtmf.sent!r} sent as {dtmf.method}, {came}",
            step,
        )
    ]
