"""The probe's SIP identity (a pjsua2 Account) and the REGISTER step."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pjsua2 as pj

from sipprobe.model.endpoint import Endpoint
from sipprobe.signalling.dialog import transaction_final
from sipprobe.signalling.stack import SRTP_MODES, SipStack
from sipprobe.sip.message import parse_message
from sipprobe.sip.uri import SipUri


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    realm: str = "*"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the probe is: ``user@domain``, optional credentials, where requests go first."""

    user: str
    domain: str
    credentials: Credentials | None = None
    outbound_proxy: SipUri | None = None  # the platform edge when it is not the domain

    @property
    def aor(self) -> str:
        try:
            host = str(Endpoint.parse(self.domain))  # a bare IPv6 address gets its brackets
        except ValueError:
            host = self.domain
        return f"sip:{self.user}@{host}"


@dataclass(frozen=True, slots=True)
class RegisterOutcome:
    status_code: int | None
    reason: str
    origin: str  # "network" when the final status was received, "local" when pjsip made it up
    expires_s: int | None
    contacts: tuple[str, ...]
    contact_sent: str | None  # the Contact of the REGISTER that got the final response
    challenge: int | None
    elapsed_ms: float
    request_ms: float | None  # first REGISTER sent -> final response received
    timed_out: bool
    events: tuple[int, ...]


class ProbeAccount(pj.Account):  # type: ignore[misc]
    """Records registration results; turns away calls nobody asked the probe to take."""

    def __init__(self, stack: SipStack) -> None:
        super().__init__()
        self._stack = stack
        self.reg_results: list[tuple[int, str, int]] = []
        # Set while the probe expects a call on this account (signalling/answer.py): takes
        # the incoming call's id and says whether it took the call.
        self.take_incoming: Callable[[int], bool] | None = None
        self.config: Any = None  # the AccountConfig it was created with (use_session_timer)

    def onRegState(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
        try:
            self.reg_results.append((int(prm.code), str(prm.reason), int(prm.expiration)))
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._stack.callback_errors.append(exc)

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
        try:
            if self.take_incoming is not None and self.take_incoming(int(prm.callId)):
                return
            call = pj.Call(self, prm.callId)
            answer = pj.CallOpParam()
            answer.statusCode = 480
            call.hangup(answer)
            self._stack.own(call)
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._stack.callback_errors.append(exc)


RTP_DSCP = 46  # EF, RFC 4594: what a voice path is expected to keep


def mark_expedited_forwarding(transport_config: Any) -> None:
    """Mark outgoing RTP/RTCP with DSCP EF, so the far end can see whether the path kept it."""
    transport_config.qosParams.flags = pj.PJ_QOS_PARAM_HAS_DSCP
    transport_config.qosParams.dscp_val = RTP_DSCP


def configure_srtp(media_config: Any, mode: str) -> None:
    """SRTP with SDES keys: offered (optional) or required (mandatory), also over plain UDP
    signalling, since a probe must be able to test what customers' PBXs actually do."""
    media_config.srtpUse = SRTP_MODES[mode]
    media_config.srtpSecureSignaling = 0


def media_bind_address(sip_bind_host: str) -> str:
    """Where RTP binds. The pjsua2-python wheel has no IPv6 media (pjsua_acc_add asserts that
    ipv6_media_use is disabled), so with SIP over IPv6, media stays on IPv4: loopback when the
    SIP side is loopback, else the default interface ("" lets pjsua choose)."""
    if ":" not in sip_bind_host:
        return sip_bind_host
    return "127.0.0.1" if sip_bind_host == "::1" else ""


def create_account(
    stack: SipStack, identity: Identity, registrar: SipUri | None = None, expires_s: int = 300
) -> ProbeAccount:
    """A pjsua2 account for ``identity``; it registers only when asked to."""
    config = pj.AccountConfig()
    config.idUri = identity.aor
    if registrar is not None:
        config.regConfig.registrarUri = str(registrar)
        config.regConfig.timeoutSec = expires_s
        config.regConfig.retryIntervalSec = 0
        config.regConfig.registerOnAdd = False
        config.regConfig.dropCallsOnFail = False
        config.regConfig.unregWaitMsec = 2000
    if identity.credentials is not None:
        creds = identity.credentials
        config.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", creds.realm, creds.username, 0, creds.password)
        )
    if identity.outbound_proxy is not None:
        config.sipConfig.proxies.append(f"{identity.outbound_proxy};lr")
    config.sipConfig.transportId = stack.transport_id
    # Report what the path does, do not repair it: no Contact/Via/SDP rewriting, no STUN,
    # no RFC 5626 outbound, no keep-alives the platform did not ask for.
    nat = config.natConfig
    nat.contactRewriteUse = 0
    nat.viaRewriteUse = 0
    nat.sdpNatRewriteUse = 0
    nat.sipOutboundUse = 0
    nat.sipStunUse = pj.PJSUA_STUN_USE_DISABLED
    nat.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
    nat.udpKaIntervalSec = 0
    media = config.mediaConfig
    mark_expedited_forwarding(media.transportConfig)
    media.transportConfig.port = stack.settings.rtp_port
    media.transportConfig.portRange = stack.settings.rtp_port_span if stack.settings.rtp_port else 0
    configure_srtp(media, stack.settings.srtp)
    media_host = media_bind_address(stack.settings.bind_host)
    if media_host:
        media.transportConfig.boundAddress = media_host
    account = ProbeAccount(stack)
    account.create(config, False)
    account.config = config
    stack.own(account)
    return account


_TIMER_USE = {
    "optional": pj.PJSUA_SIP_TIMER_OPTIONAL,
    "required": pj.PJSUA_SIP_TIMER_REQUIRED,
    "always": pj.PJSUA_SIP_TIMER_ALWAYS,
}
DEFAULT_SESSION_EXPIRES_S = 1800  # pjsip's, offered when a call step asks for no interval


def use_session_timer(account: ProbeAccount, use: str, expires_s: int) -> None:
    """Session timers (RFC 4028) for the calls the account places next: ``use`` optional,
    required or always, ``expires_s`` the interval offered (0: pjsip's 1800 s). pjsua reads
    these when a call is made, so changing the account in between is enough."""
    config = account.config
    if config is None:
        return
    wanted = (_TIMER_USE[use], expires_s or DEFAULT_SESSION_EXPIRES_S)
    calls = config.callConfig
    if (calls.timerUse, calls.timerSessExpiresSec) == wanted:
        return
    calls.timerUse, calls.timerSessExpiresSec = wanted
    account.modify(config)


def _outcome(
    stack: SipStack, account: ProbeAccount, first_event: int, started: float, finished: bool
) -> RegisterOutcome:
    events = stack.timeline.since(first_event)
    registers = [e for e in events if e.method == "REGISTER"]
    final = transaction_final(registers, "REGISTER")
    first_tx = next((e for e in registers if e.direction == "tx" and e.is_request), None)
    challenge = next(
        (e.status_code for e in registers if e.direction == "rx" and e.status_code in (401, 407)),
        None,
    )
    code, reason, expires = account.reg_results[-1] if finished else (None, "", None)
    origin = "none"
    contacts: tuple[str, ...] = ()
    answered = next((e for e in reversed(registers) if e.direction == "tx" and e.is_request), None)
    contact_sent = parse_message(answered.text).header("contact") if answered else None
    if final is not None and code == final.status_code:
        origin = "network"
        contacts = parse_message(final.text).header_values("contact")
    elif code is not None:
        origin = "local"
    return RegisterOutcome(
        status_code=code,
        reason=reason,
        origin=origin,
        expires_s=expires if code == 200 else None,
        contacts=contacts,
        contact_sent=contact_sent,
        challenge=challenge,
        elapsed_ms=round((time.monotonic() - started) * 1000, 3),
        request_ms=round((final.t_s - first_tx.t_s) * 1000, 3) if final and first_tx else None,
        timed_out=not finished,
        events=tuple(e.index for e in registers),
    )


def register(
    stack: SipStack, account: ProbeAccount, timeout_s: float, renew: bool = True
) -> RegisterOutcome:
    """Send REGISTER (``renew``) or un-REGISTER and wait for the final result."""
    first_event = len(stack.timeline)
    seen = len(account.reg_results)
    started = time.monotonic()
    try:
        account.setRegistration(renew)
    except pj.Error as exc:
        account.reg_results.append((0, str(getattr(exc, "reason", exc)), 0))
        return _outcome(stack, account, first_event, started, finished=True)
    finished = stack.run_until(lambda: len(account.reg_results) > seen, timeout_s)
    return _outcome(stack, account, first_event, started, finished)
