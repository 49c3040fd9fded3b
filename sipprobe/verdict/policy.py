"""The demarc policy: turning measured steps into findings and a verdict.

Attribution follows docs/demarc.md, "How a side is chosen". A failure is pinned on the platform only
when the platform demonstrably answered something in this run (so the path to it works); a
target that never answered could be down or blocked on the way, and the finding says so
instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sipprobe.model.results import (
    CallResult,
    CaptureSummary,
    Finding,
    Quality,
    Severity,
    Side,
    SipLimits,
    StepResult,
    Verdict,
)
from sipprobe.model.steps import (
    AnswerDetail,
    CallDetail,
    NatCheckDetail,
    OptionsDetail,
    RegisterDetail,
)
from sipprobe.model.thresholds import Thresholds
from sipprobe.nat.findings import call_alg_findings, nat_findings
from sipprobe.signalling.ack import ACK_LOST_AFTER
from sipprobe.verdict.inbound import answer_findings, as_call_detail
from sipprobe.verdict.legs import call_media_findings
from sipprobe.verdict.media import merge_dscp_notes, severity_of
from sipprobe.verdict.session_timer import session_expired, session_timer_findings

_BUSY = {480, 486, 600, 603}
_CREDENTIALS = {401, 403, 407}
_CUSTOMER_CONFIG = {404, 410, 484, 488, 415, 420}


def _status_side(code: int) -> Side:
    if code >= 500 or code == 408:
        return Side.PLATFORM
    if code in _CREDENTIALS or code in _CUSTOMER_CONFIG:
        return Side.CUSTOMER_EQUIPMENT
    return Side.UNKNOWN


def _no_answer(error: str, reachable: bool) -> tuple[Side, str]:
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


class _Collector:
    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.findings: list[Finding] = []

    def add(
        self, severity: Severity, side: Side, area: str, code: str, summary: str, step: StepResult
    ) -> None:
        self.findings.append(
            Finding(
                severity,
                side,
                "media" if area == "media" else "messaging",
                code,
                summary,
                step.index,
                step.events,
            )
        )

    def options(self, step: StepResult, detail: OptionsDetail, reachable: bool) -> None:
        if step.status_code is None:
            error = detail.error or "no response"
            side, hint = _no_answer(error, reachable)
            self.add(
                Severity.CRITICAL,
                side,
                "messaging",
                "options-no-answer",
                f"OPTIONS failed: {error}; {hint}",
                step,
            )
        elif not 200 <= step.status_code < 300:
            # 5xx and 408 (a proxy of the platform timed out further in) are the platform's,
            # as for REGISTER and INVITE; anything else only says the target is odd.
            failed = step.status_code >= 500 or step.status_code == 408
            self.add(
                Severity.CRITICAL if failed else Severity.WARNING,
                _status_side(step.status_code) if failed else Side.UNKNOWN,
                "messaging",
                "options-rejected",
                f"OPTIONS answered {step.status_code} {step.reason}",
                step,
            )

    def nat_check(
        self, step: StepResult, detail: NatCheckDetail, reachable: bool, expires: tuple[int, ...]
    ) -> None:
        if step.status_code is None:
            error = step.reason or "no response"
            side, hint = _no_answer(error, reachable)
            summary = f"NAT check got no answer: {error}; {hint}"
            self.add(Severity.CRITICAL, side, "messaging", "nat-check-no-answer", summary, step)
            return
        for found in nat_findings(detail.result, expires):
            self.add(found.severity, found.side, "messaging", found.code, found.summary, step)

    def _contact_binding(self, step: StepResult, detail: RegisterDetail) -> None:
        """The registrar's binding against the Contact the probe sent (NAT/ALG evidence)."""
        sent, held = detail.contact_sent, detail.contacts
        if detail.action != "register" or sent is None or not sent.text or not held:
            return
        if sent.address is None or any(c.address == sent.address for c in held):
            return
        self.add(
            Severity.INFO,
            Side.UNKNOWN,
            "messaging",
            "contact-rewritten",
            f"the registrar holds {', '.join(c.text for c in held)} for the probe, which sent "
            f"Contact {sent.text}: "
            "NAT or a SIP ALG on the path, or the registrar's own NAT handling, changed it",
            step,
        )

    def register(self, step: StepResult, detail: RegisterDetail, reachable: bool) -> None:
        action = detail.action
        if step.ok:
            self._contact_binding(step, detail)
            granted, asked = detail.expires_s, detail.requested_expires_s
            if action == "register" and granted is not None and asked and granted < asked:
                self.add(
                    Severity.INFO,
                    Side.PLATFORM,
                    "messaging",
                    "register-expires-shortened",
                    f"registrar granted {granted} s of the {asked} s asked for",
                    step,
                )
            return
        code = step.status_code
        if step.origin != "network" or code is None:
            side, hint = _no_answer(step.reason, reachable)
            self.add(
                Severity.CRITICAL if action == "register" else Severity.WARNING,
                side,
                "messaging",
                f"{action}-no-answer",
                f"{action.upper()} got no response: {step.reason}; {hint}",
                step,
            )
        elif code in _CREDENTIALS:
            has_password = detail.credentials is not None
            why = (
                "the credentials configured for the account were rejected"
                if has_password
                else "the registrar wants credentials and none were configured"
            )
            self.add(
                Severity.CRITICAL,
                Side.CUSTOMER_EQUIPMENT,
                "messaging",
                "register-rejected",
                f"{action.upper()} failed with {code} {step.reason}: {why}",
                step,
            )
        else:
            self.add(
                Severity.CRITICAL,
                _status_side(code),
                "messaging",
                f"{action}-failed",
                f"{action.upper()} failed with {code} {step.reason}",
                step,
            )

    def call(self, step: StepResult, detail: CallDetail, reachable: bool) -> None:
        call = step.call
        if call is None:
            return
        answered = call.answered and step.status_code == step.expected_status
        if step.status_code is None or step.origin == "local":
            side, hint = _no_answer(step.reason, reachable)
            self.add(
                Severity.CRITICAL,
                side,
                "messaging",
                "call-no-answer",
                f"call to {call.target}: {step.reason}; {hint}",
                step,
            )
        elif not step.ok and not answered:  # an answer torn down is judged in _hangup
            self._unexpected_status(step, detail, call)
        self._timings(step, call)
        self.findings.extend(call_alg_findings(step))  # a sipprobe responder's view of the INVITE
        if answered:
            self._hangup(step, detail, call)
            self._media(step, detail, call)
            self._dtmf(step, call)
            self._hold(step, call)
            self.findings.extend(session_timer_findings(step, call))

    def _hold(self, step: StepResult, call: CallResult) -> None:
        """A hold that could not be done or undone, or media that did not come back. Whose
        side that is the probe cannot tell from one vantage."""
        hold = call.hold
        if hold is None:
            return
        failed = [r for r in hold.reinvites if not 200 <= (r.status_code or 0) < 300]
        if hold.error is not None or failed or len(hold.reinvites) < 2:
            why = hold.error or "; ".join(
                f"the {r.purpose} re-INVITE got {r.status_code or 'no final response'}"
                for r in failed
            )
            self.add(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "hold-failed",
                f"hold of {hold.hold_s:g} s did not complete: {why or 'no re-INVITE sent'}",
                step,
            )
        held = any(
            r.purpose == "hold" and 200 <= (r.status_code or 0) < 300 for r in hold.reinvites
        )
        for media in hold.media:
            if hold.mode == "inactive" and held and not media.stopped:
                # the far end kept sending after answering inactive: its answer is the evidence
                far = media.direction == "rx" and any(
                    r.purpose == "hold" and r.answered == "inactive" for r in hold.reinvites
                )
                self.add(
                    Severity.WARNING,
                    Side.PLATFORM if far else Side.UNKNOWN,
                    "media",
                    "hold-media-not-stopped",
                    f"RTP {'from the far end' if media.direction == 'rx' else 'from the probe'} "
                    f"({media.direction}) kept flowing through an inactive hold of "
                    f"{hold.hold_s:g} s (longest silence {media.longest_gap_s:g} s)",
                    step,
                )
            if media.stopped and media.resumed is False:
                towards = "from the far end" if media.direction == "rx" else "from the probe"
                self.add(
                    Severity.CRITICAL,
                    Side.UNKNOWN,
                    "media",
                    "hold-media-not-resumed",
                    f"RTP {towards} ({media.direction}) stopped at {media.gap_start_s:g} s of "
                    "the call's media and did not come back after the resume",
                    step,
                )

    def _dtmf(self, step: StepResult, call: CallResult) -> None:
        """Digits that did not come back as sent. Which side lost them the probe cannot
        tell: the far end may not relay them, or they went missing on the way."""
        dtmf = call.dtmf
        if dtmf is None or dtmf.matched is not False:
            return
        if dtmf.send_error is not None:
            self.add(
                Severity.WARNING,
                Side.UNKNOWN,
                "media",
                "dtmf-not-sent",
                f"DTMF {dtmf.sent!r} ({dtmf.method}) was not sent: {dtmf.send_error}",
                step,
            )
            return
        came = f"{dtmf.received!r} came back" if dtmf.received else "nothing came back"
        if dtmf.method == "sip-info":
            came = (
                f"the far end received {dtmf.received!r}"
                if dtmf.received
                else ("the far end received none")
            )
        elif dtmf.far_end_received is not None:
            came += f" (the far end received {dtmf.far_end_received!r})"
        self.add(
            Severity.WARNING,
            Side.UNKNOWN,
            "media",
            "dtmf-mismatch",
            f"DTMF {dtmf.sent!r} sent as {dtmf.method}, {came}",
            step,
        )

    def _unexpected_status(self, step: StepResult, detail: CallDetail, call: CallResult) -> None:
        code = step.status_code or 0
        expected = step.expected_status
        if code in _BUSY:
            why = "the called party is busy or declined"
        elif code in _CREDENTIALS:
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
        self.add(
            Severity.CRITICAL,
            _status_side(code),
            "messaging",
            "call-failed",
            f"call to {call.target} got {code} {call.reason}, expected {expected}: {why}",
            step,
        )

    def _timings(self, step: StepResult, call: CallResult) -> None:
        limits = self.thresholds
        severity = severity_of(limits.grade("pdd", call.pdd_ms))
        if call.pdd_ms is not None and severity is not None:
            # The platform's delay only when the INVITE got through at once: a retransmitted
            # INVITE means the path lost packets (or the platform was slow): can't tell which.
            resent = call.invite_retransmissions
            self.add(
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
        if call.invite_retransmissions and call.status_code is not None:
            self.add(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "invite-retransmitted",
                f"INVITE was retransmitted {call.invite_retransmissions} time(s) before the "
                "platform answered: the path lost packets or the platform was slow",
                step,
            )

    def _hangup(self, step: StepResult, detail: CallDetail, call: CallResult) -> None:
        planned = detail.duration_s
        if call.unusable_answer is not None:
            ended = (
                f"; the probe ended the call itself ({call.local_disconnect})"
                if call.local_disconnect
                else ""
            )
            self.add(
                Severity.CRITICAL,
                Side.PLATFORM,  # the far end's own answer is the evidence
                "messaging",
                "call-answer-unusable",
                f"call to {call.target} was answered 200 OK but the answer cannot carry "
                f"audio: {call.unusable_answer}{ended}",
                step,
            )
        elif session_expired(call):
            pass  # session-expired names why it ended (verdict/session_timer.py)
        elif call.local_disconnect is not None:
            self.add(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "messaging",
                "call-ended-locally",
                "the probe's SIP stack ended the answered call by itself "
                f"({call.local_disconnect}): the answer could not be used, e.g. its SDP "
                "had no usable codec or address",
                step,
            )
        elif call.hangup_by == "remote" and call.ok_resent_after_ack >= ACK_LOST_AFTER:
            held = f"{call.hold_s:.1f} s" if call.hold_s is not None else "an unknown time"
            self.add(
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
        elif call.hangup_by == "remote":
            held = f"{call.hold_s:.1f} s" if call.hold_s is not None else "an unknown time"
            self.add(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "messaging",
                "call-dropped",
                f"the far end hung up after {held} of the planned {planned} s",
                step,
            )
        elif call.hangup_by == "probe" and (
            call.bye_status is None or not 200 <= call.bye_status < 300
        ):
            got = f"{call.bye_status}" if call.bye_status else "no response"
            self.add(
                Severity.WARNING, Side.PLATFORM, "messaging", "bye-failed", f"BYE got {got}", step
            )
        if call.hangup_by != "remote" and call.ok_resent_after_ack >= ACK_LOST_AFTER:
            self.add(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "ack-not-received",
                f"the far end resent its 200 OK {call.ok_resent_after_ack} times after the "
                "probe's ACK: the ACK does not reach it, and a call longer than about 32 s "
                "would be dropped (Timer H)",
                step,
            )

    def _media(self, step: StepResult, detail: CallDetail, call: CallResult) -> None:
        if call.streams:  # measured from the capture: the better evidence
            self.findings.extend(call_media_findings(step, detail, call, self.thresholds))
            return
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
            self.add(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "media",
                "no-rtp",
                f"no RTP in either direction during {held} of answered call{why}",
                step,
            )
            return
        limits = self.thresholds
        if rtcp.rx_packets == 0:
            self.add(
                Severity.CRITICAL,
                Side.UNKNOWN,
                "media",
                "no-rtp-received",
                f"no RTP reached the probe during {call.hold_s or 0:.1f} s of call",
                step,
            )
            return
        loss = rtcp.rx_loss_pct
        severity = severity_of(limits.grade("loss", loss))
        if loss is not None and severity is not None:
            self.add(
                severity,
                Side.UNKNOWN,
                "media",
                "rx-loss",
                f"{loss:.2f}% of RTP packets from the far end were lost "
                f"({rtcp.rx_lost} of {rtcp.rx_packets + rtcp.rx_lost})",
                step,
            )
        jitter = rtcp.rx_jitter_mean_ms
        severity = severity_of(limits.grade("jitter", jitter))
        if jitter is not None and severity is not None:
            self.add(
                severity,
                Side.UNKNOWN,
                "media",
                "rx-jitter",
                f"mean interarrival jitter {jitter:.1f} ms on RTP from the far end",
                step,
            )


@dataclass(frozen=True, slots=True)
class _Cause:
    """An earlier failure that may explain later ones: what failed and how."""

    step: StepResult
    what: str  # "REGISTER failed", "OPTIONS got no answer"
    kind: str  # "silence", "tls" or "status"


_CONSEQUENCE_CODES = frozenset(
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


def _cause_of(step: StepResult, target: str | None) -> _Cause | None:
    """The failure of ``step`` that later failures may be consequences of, if any: a
    REGISTER rejected or unanswered, or an OPTIONS to the run's target that got no answer
    at all (an OPTIONS answered with an error says nothing of the next request)."""
    detail = step.detail
    if isinstance(detail, RegisterDetail) and detail.action == "register" and not step.ok:
        return _Cause(step, "REGISTER failed", _failure_kind(step))
    if (
        isinstance(detail, OptionsDetail)
        and step.status_code is None
        and target is not None
        and step.name == f"OPTIONS {target}"
    ):
        return _Cause(step, "OPTIONS got no answer", _failure_kind(step))
    return None


def _explains(cause: _Cause, step: StepResult) -> bool:
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
        or (before in _CREDENTIALS and now in _CREDENTIALS)
        or (before >= 500 and now >= 500)
    )


def _as_consequence(finding: Finding, cause: _Cause) -> Finding:
    """``finding`` reported as a consequence of ``cause``: INFO, code unchanged, the summary
    says after what, and the evidence leads with the cause's messages."""
    return replace(
        finding,
        severity=Severity.INFO,
        summary=f"{finding.summary} (after {cause.what} (step {cause.step.index + 1}))",
        evidence=cause.step.events
        + tuple(e for e in finding.evidence if e not in cause.step.events),
    )


def _host(peer: str) -> str:
    """The address of an ``addr:port`` or ``[v6addr]:port`` peer."""
    return peer.rsplit(":", 1)[0].strip("[]") if peer.count(":") == 1 or "]" in peer else peer


def run_findings(
    sip: SipLimits | None,
    capture: CaptureSummary | None,
    target_address: str | None = None,
    steps: tuple[StepResult, ...] = (),
) -> tuple[Finding, ...]:
    """Findings about the run's own bounds: a SIP flood the timeline had to thin out, and a
    capture that stopped at its cap. Merged into the verdict with ``with_findings``.

    A flood is reported with where it came from; the side stays ``unknown``: a source
    address is no proof of who sent it (UDP), and a flood from the target's address may
    still be made on the path.
    """
    found: list[Finding] = []
    if sip is not None and sip.dropped_provisional:
        sources = ", ".join(f"{peer} ({count})" for peer, count in sip.dropped_from[:4])
        hosts = {_host(peer) for peer, _ in sip.dropped_from}
        if target_address is not None and hosts == {target_address}:
            whose = "all from the target's address"
        elif target_address is not None and target_address in hosts:
            whose = "partly from the target's address"
        else:
            whose = "not from the target's address"
        calls = dict(sip.dropped_calls)
        flooded = max(
            (s for s in steps if s.call is not None and s.call.call_id in calls),
            key=lambda s: calls[s.call.call_id] if s.call is not None else 0,
            default=None,
        )
        found.append(
            Finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "sip-flood",
                f"flood of provisional responses, {whose} ({sources}): "
                f"{sip.dropped_provisional} were not kept (the run keeps {sip.max_repeats} of "
                f"each kind per call and {sip.max_messages} messages in all)",
                flooded.index if flooded is not None else None,
                flooded.events if flooded is not None else (),
            )
        )
    if sip is not None and sip.dropped_other:
        found.append(
            Finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "sip-flood",
                f"{sip.dropped_other} SIP requests and final responses were not kept (the run "
                f"keeps {2 * sip.max_messages} in all)",
            )
        )
    if capture is not None and capture.limit is not None:
        rtp = capture.rtp_packets or 0
        packets = capture.packets or 0
        if packets and 2 * rtp >= packets:
            found.append(
                Finding(
                    Severity.WARNING,
                    Side.UNKNOWN,
                    "media",
                    "rtp-flood",
                    f"{capture.limit}: {rtp} of its {packets} packets were RTP, far more than "
                    "the run's calls carry (a flood, or a far end sending to the probe's "
                    "ports); later packets are neither in capture.pcap nor measured",
                )
            )
    return tuple(found)


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
    collector = _Collector(thresholds or Thresholds())
    reachable = False
    cause: _Cause | None = None
    for step in steps:
        reachable = reachable or bool(step.reachable)
        if cause is not None and cause.kind == "silence" and step.reachable:
            cause = None  # the target answered since: that silence explains nothing later
        first = len(collector.findings)
        _collect(collector, step, steps, reachable)
        if cause is not None and _explains(cause, step):
            collector.findings[first:] = [
                _as_consequence(f, cause) if f.code in _CONSEQUENCE_CODES else f
                for f in collector.findings[first:]
            ]
        elif cause is None:
            cause = _cause_of(step, target)
    findings = tuple(merge_dscp_notes(collector.findings))
    signalled = any(step.kind != "wait" for step in steps)
    media_measured = any(
        s.call is not None and (s.call.rtcp is not None or bool(s.call.streams) or s.call.answered)
        for s in steps
    )
    messaging = _quality(findings, "messaging", signalled)
    media = _quality(findings, "media", media_measured)
    return Verdict(messaging, media, findings, _summary(messaging, media, findings))


def _collect(
    collector: _Collector, step: StepResult, steps: tuple[StepResult, ...], reachable: bool
) -> None:
    detail = step.detail
    if isinstance(detail, OptionsDetail):
        collector.options(step, detail, reachable)
    elif isinstance(detail, RegisterDetail):
        collector.register(step, detail, reachable)
    elif isinstance(detail, CallDetail):
        collector.call(step, detail, reachable)
    elif isinstance(detail, NatCheckDetail):
        collector.nat_check(step, detail, reachable, _register_refreshes(steps))
    elif isinstance(detail, AnswerDetail):  # a call that came in (verdict/inbound.py)
        collector.findings.extend(answer_findings(step, detail))
        if step.call is not None and step.call.answered and detail.error is None:
            collector._media(step, as_call_detail(detail), step.call)


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
