"""Rules of a call step: its final status, post-dial delay, how it ended (the lost-ACK
case among them), and its media when the run has no capture of it (docs/demarc.md,
"Findings"). Hold and DTMF are in verdict/hold_dtmf.py, session timers in
verdict/session_timer.py, media measured from the capture in verdict/legs.py and media.py.
"""

from __future__ import annotations

from sipprobe.model.results import CallResult, Finding, Severity, Side, StepResult
from sipprobe.model.steps import CallDetail
from sipprobe.model.thresholds import Thresholds
from sipprobe.nat.findings import call_alg_findings
from sipprobe.signalling.ack import ACK_LOST_AFTER
from sipprobe.verdict.hold_dtmf import dtmf_findings, hold_findings
from sipprobe.verdict.legs import call_media_findings
from sipprobe.verdict.media import severity_of
from sipprobe.verdict.messaging import BUSY, CREDENTIALS, no_answer, status_side, step_finding
from sipprobe.verdict.session_timer import session_expired, session_timer_findings


def call_findings(
    step: StepResult, detail: CallDetail, reachable: bool, thresholds: Thresholds
) -> list[Finding]:
    call = step.call
    if call is None:
        return []
    found: list[Finding] = []
    answered = call.answered and step.status_code == step.expected_status
    if step.status_code is None or step.origin == "local":
        side, hint = no_answer(step.reason, reachable)
        found.append(
            step_finding(
                Severity.CRITICAL,
                side,
                "messaging",
                "call-no-answer",
                f"call to {call.target}: {step.reason}; {hint}",
                step,
            )
        )
    elif not step.ok and not answered:  # an answer torn down is judged in _hangup
        found.append(_unexpected_status(step, detail, call))
    found.extend(_timings(step, call, thresholds))
    found.extend(call_alg_findings(step))  # a sipprobe responder's view of the INVITE
    if answered:
        found.extend(_hangup(step, detail, call))
        found.extend(media_findings(step, detail, call, thresholds))
        found.extend(dtmf_findings(step, call))
        found.extend(hold_findings(step, call))
        found.extend(session_timer_findings(step, call))
    return found


def _unexpected_status(step: StepResult, detail: CallDetail, call: CallResult) -> Finding:
    code = step.status_code or 0
    expected = step.expected_status
    if code in BUSY:
        why = "the called party is busy or declined"
    elif code in CREDENTIALS:
        why = (
            "the platform wants credentials and none were configured"
            if call.challenge is None or detail.credentials is None
            else "the configured credentials were rejected"
        )
    elif code in (488, 415):
        profile = "SRTP" if detail.srtp != "off" else "plain RTP, no SRTP"
        why = (
            f"the far end accepted none of the offered media: codecs "
            f"{list(call.offered_codecs)} over {profile}"
        )
    elif code in (404, 484, 410):
        why = "the dialled number is not known: check the number and the account's routing"
    elif code >= 500 or code == 408:
        why = "the platform failed the call"
    else:
        why = "unexpected final response"
    return step_finding(
        Severity.CRITICAL,
        status_side(code),
        "messaging",
        "call-failed",
        f"call to {call.target} got {code} {call.reason}, expected {expected}: {why}",
        step,
    )


def _timings(step: StepResult, call: CallResult, limits: Thresholds) -> list[Finding]:
    found: list[Finding] = []
    severity = severity_of(limits.grade("pdd", call.pdd_ms))
    if call.pdd_ms is not None and severity is not None:
        # The platform's delay only when the INVITE got through at once: a retransmitted
        # INVITE means the path lost packets (or the platform was slow): can't tell which.
        resent = call.invite_retransmissions
        found.append(
            step_finding(
                severity,
                Side.UNKNOWN if resent else Side.PLATFORM,
                "messaging",
                "post-dial-delay",
                f"post-dial delay {call.pdd_ms / 1000:.2f} s "
                f"(good below {limits.pdd_degraded_ms / 1000:g} s)"
                + (
                    f"; the INVITE was retransmitted {resent} time(s) first, so lost packets "
                    "on the path may account for it"
                    if resent
                    else ""
                ),
                step,
            )
        )
    if call.invite_retransmissions and call.status_code is not None:
        found.append(
            step_finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "invite-retransmitted",
                f"INVITE was retransmitted {call.invite_retransmissions} time(s) before the "
                "platform answered: the path lost packets or the platform was slow",
                step,
            )
        )
    return found


def _hangup(step: StepResult, detail: CallDetail, call: CallResult) -> list[Finding]:
    found: list[Finding] = []
    planned = detail.duration_s
    if call.unusable_answer is not None:
        ended = (
            f"; the probe ended the call itself ({call.local_disconnect})"
            if call.local_disconnect
            else ""
        )
        found.append(
            step_finding(
                Severity.CRITICAL,
                Side.PLATFORM,  # the far end's own answer is the evidence
                "messaging",
                "call-answer-unusable",
                f"call to {call.target} was answered 200 OK but the answer cannot carry "
                f"audio: {call.unusable_answer}{ended}",
                step,
            )
        )
    elif session_expired(call):
        pass  # session-expired names why it ended (verdict/session_timer.py)
    elif call.local_disconnect is not None:
        found.append(
            step_finding(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "messaging",
                "call-ended-locally",
                "the probe's SIP stack ended the answered call by itself "
                f"({call.local_disconnect}): the answer could not be used, e.g. its SDP "
                "had no usable codec or address",
                step,
            )
        )
    elif call.hangup_by == "remote" and call.ok_resent_after_ack >= ACK_LOST_AFTER:
        held = f"{call.hold_s:.1f} s" if call.hold_s is not None else "an unknown time"
        found.append(
            step_finding(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "messaging",
                "call-dropped-ack-lost",
                f"the far end hung up after {held}, having resent its 200 OK "
                f"{call.ok_resent_after_ack} times after the probe's ACK: the ACK did not reach "
                "it (the 'call drops after about 32 seconds' case: the ACK lost, or sent where "
                "the far end does not listen, e.g. a Contact or Record-Route a NAT or SIP ALG "
                "rewrote)",
                step,
            )
        )
    elif call.hangup_by == "remote":
        held = f"{call.hold_s:.1f} s" if call.hold_s is not None else "an unknown time"
        found.append(
            step_finding(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "messaging",
                "call-dropped",
                f"the far end hung up after {held} of the planned {planned} s",
                step,
            )
        )
    elif call.hangup_by == "probe" and (
        call.bye_status is None or not 200 <= call.bye_status < 300
    ):
        got = f"{call.bye_status}" if call.bye_status else "no response"
        found.append(
            step_finding(
                Severity.WARNING, Side.PLATFORM, "messaging", "bye-failed", f"BYE got {got}", step
            )
        )
    if call.hangup_by != "remote" and call.ok_resent_after_ack >= ACK_LOST_AFTER:
        found.append(
            step_finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "ack-not-received",
                f"the far end resent its 200 OK {call.ok_resent_after_ack} times after the "
                "probe's ACK: the ACK does not reach it, and a call longer than about 32 s "
                "would be dropped (Timer H)",
                step,
            )
        )
    return found


def media_findings(
    step: StepResult, detail: CallDetail, call: CallResult, limits: Thresholds
) -> list[Finding]:
    """An answered call's media: from the capture's streams when there are any (the better
    evidence), else from the probe's SIP stack's RTCP figures."""
    if call.streams:
        return call_media_findings(step, detail, call, limits)
    rtcp = call.rtcp
    if rtcp is None:
        # An answered call in which no media stream ever ran (neither the capture nor the
        # probe's own stack saw RTP): media that never flowed is never good.
        held = f"{call.hold_s:.1f} s" if call.hold_s is not None else "the call"
        why = (
            "; the answer's SDP gave the probe nowhere to send it"
            if call.unusable_answer is not None
            else ""
        )
        return [
            step_finding(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "media",
                "no-rtp",
                f"no RTP in either direction during {held} of answered call{why}",
                step,
            )
        ]
    if rtcp.rx_packets == 0:
        return [
            step_finding(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "media",
                "no-rtp-received",
                f"no RTP reached the probe during {call.hold_s or 0:.1f} s of call",
                step,
            )
        ]
    found: list[Finding] = []
    loss = rtcp.rx_loss_pct
    severity = severity_of(limits.grade("loss", loss))
    if loss is not None and severity is not None:
        found.append(
            step_finding(
                severity,
                Side.UNKNOWN,
                "media",
                "rx-loss",
                f"{loss:.2f}% of RTP packets from the far end were lost "
                f"({rtcp.rx_lost} of {rtcp.rx_packets + rtcp.rx_lost})",
                step,
            )
        )
    jitter = rtcp.rx_jitter_mean_ms
    severity = severity_of(limits.grade("jitter", jitter))
    if jitter is not None and severity is not None:
        found.append(
            step_finding(
                severity,
                Side.UNKNOWN,
                "media",
                "rx-jitter",
                f"mean interarrival jitter {jitter:.1f} ms on RTP from the far end",
                step,
            )
        )
    return found
