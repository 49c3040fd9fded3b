"""The demarc policy: turning measured steps into findings and a verdict.

Attribution follows docs/demarc.md, "How a side is chosen". A failure is pinned on the platform only
when the platform demonstrably answered something in this run (so the path to it works); a
target that never answered could be down or blocked on the way, and the finding says so
instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sipprobe.model.results import (
    CallResult,
    Finding,
    Quality,
    Severity,
    Side,
    StepResult,
    Verdict,
)
from sipprobe.model.steps import (
    CallDetail,
    NatCheckDetail,
    OptionsDetail,
    RegisterDetail,
)
from sipprobe.model.thresholds import Thresholds
from sipprobe.nat.findings import call_alg_findings, nat_findings
from sipprobe.verdict.media import severity_of, stream_findings

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
            self.add(
                Severity.CRITICAL if step.status_code >= 500 else Severity.WARNING,
                _status_side(step.status_code) if step.status_code >= 500 else Side.UNKNOWN,
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
        elif not step.ok:
            self._unexpected_status(step, detail, call)
        self._timings(step, call)
        self.findings.extend(call_alg_findings(step))  # a sipprobe responder's view of the INVITE
        if call.answered and step.ok:
            self._hangup(step, detail, call)
            self._media(step, detail, call)

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
            self.add(
                severity,
                Side.PLATFORM,
                "messaging",
                "post-dial-delay",
                f"post-dial delay {call.pdd_ms / 1000:.2f} s "
                f"(good below {limits.pdd_degraded_ms / 1000:g} s)",
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
        if call.local_disconnect is not None:
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

    def _media(self, step: StepResult, detail: CallDetail, call: CallResult) -> None:
        if call.streams:  # measured from the capture: the better evidence
            self.findings.extend(stream_findings(step, detail, call, self.thresholds))
            return
        rtcp = call.rtcp
        if rtcp is None:
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


def decide(steps: tuple[StepResult, ...], thresholds: Thresholds | None = None) -> Verdict:
    """Findings and the messaging/media verdict for a run's steps."""
    collector = _Collector(thresholds or Thresholds())
    reachable = False
    for step in steps:
        reachable = reachable or bool(step.reachable)
        detail = step.detail
        if isinstance(detail, OptionsDetail):
            collector.options(step, detail, reachable)
        elif isinstance(detail, RegisterDetail):
            collector.register(step, detail, reachable)
        elif isinstance(detail, CallDetail):
            collector.call(step, detail, reachable)
        elif isinstance(detail, NatCheckDetail):
            collector.nat_check(step, detail, reachable, _register_refreshes(steps))
    findings = tuple(collector.findings)
    signalled = any(step.kind != "wait" for step in steps)
    media_measured = any(
        s.call is not None and (s.call.rtcp is not None or bool(s.call.streams)) for s in steps
    )
    messaging = _quality(findings, "messaging", signalled)
    media = _quality(findings, "media", media_measured)
    return Verdict(messaging, media, findings, _summary(messaging, media, findings))


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
