"""The responder's SIP user agent server (RFC 3261): enough transaction and dialog logic to
answer calls for a probe, and to refuse everything else cheaply.

Refusals (401, 486, 488, 503, 4xx for what it does not serve) are stateless: the responder
keeps nothing for them, and a retransmitted request is simply judged again. State exists only
for accepted calls, whose number the limits bound: the INVITE server transaction (the last
response, resent for a retransmitted INVITE; 2xx retransmitted with Timer G until the ACK,
given up after Timer H with a BYE), the dialog (ACK, BYE, re-INVITE, UPDATE, CANCEL, INFO)
and its media (a ``dialog.Call``; the BYEs the responder sends are ``bye.py``'s client
transactions); session timers (RFC 4028) are kept as ``session_timer.py`` describes.
OPTIONS gets 200 with ``X-Sipprobe-Source``; the 200 of an INVITE also carries
``X-Sipprobe-Rtp-Dscp`` and ``X-Sipprobe-Received`` (see ``wire.received_lines``). DTMF the
call received (RFC 4733 events, SIP INFO) is counted, logged and named in the 200 to the
caller's BYE: ``X-Sipprobe-Dtmf: rfc4733=159#, sip-info=42, inband=7`` (``none`` without
any; ``inband-unchecked`` when the call's audio was not searched for tones, responder/inband.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sipprobe.model.dtmf import MAX_DTMF_DIGITS
from sipprobe.responder import sdp, session_timer, wire
from sipprobe.responder.bye import Byes
from sipprobe.responder.dialog import T1_S, T2_S, TIMER_H_S, Call, call_hosts
from sipprobe.responder.limits import Counters, Limits, Refusal, SourceTable
from sipprobe.responder.loop import Loop
from sipprobe.responder.media import MediaSession, PortRange, tone_frames
from sipprobe.responder.transport import Channel
from sipprobe.sip import digest
from sipprobe.sip.mirror import response_address
from sipprobe.sip.telephone_event import DTMF_HEADER, INBAND_UNCHECKED, info_digit

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class UasSettings:
    mode: str = "echo"  # echo | tone
    ring_ms: int = 0
    user: str | None = None  # digest authentication of INVITEs when set
    password: str = ""
    realm: str = "sipprobe"
    srtp: str = "off"  # off | optional | mandatory
    limits: Limits = field(default_factory=Limits)
    ports: PortRange = field(default_factory=PortRange)


class Uas:
    def __init__(
        self,
        loop: Loop,
        settings: UasSettings,
        sources: SourceTable,
        counters: Counters,
        say: Say,
        wallclock: Callable[[], float],
    ) -> None:
        self._loop = loop
        self._settings = settings
        self._sources = sources
        self.counters = counters
        self._say = say
        self._wallclock = wallclock
        self._secret = secrets.token_bytes(16)
        self._codecs = sdp.TONE_CODECS if settings.mode == "tone" else sdp.ECHO_CODECS
        self._tones = (
            {c: tone_frames(c) for c in sdp.TONE_CODECS} if settings.mode == "tone" else {}
        )
        self.calls: dict[tuple[str, str], Call] = {}
        self._by_branch: dict[str, Call] = {}
        self.byes = Byes(loop)  # the BYEs sent, until their final response
        self.stopping = False
        self.listening = 0  # calls whose audio is searched for DTMF tones (responder/inband.py)
        self._inband: Any = None  # that module, loaded (numpy with it) only when enabled
        if settings.limits.inband_calls > 0:
            from sipprobe.responder import inband

            self._inband = inband

    # -- dispatch ---------------------------------------------------------------------------

    def handle(self, raw: bytes, source: tuple[str, int], channel: Channel) -> None:
        """Everything a SIP transport reads goes here."""
        if raw.startswith(b"SIP/2.0 "):
            self.byes.response(raw)
            return
        request = wire.read_request(raw)
        if request is None:
            self.counters.not_sip += 1
            return
        self.counters.requests += 1
        method = request.method
        if request.cseq_method != method and method not in ("ACK", "CANCEL"):
            self._reply(request, source, channel, 400, "CSeq Method Mismatch")
        elif method == "INVITE" and not request.to_tag:
            self._invite(request, raw, source, channel)
        elif method == "ACK":
            self._ack(request)
        elif method == "CANCEL":
            self._cancel(request, source, channel)
        elif method == "OPTIONS" and not request.to_tag:
            extra = [("Allow", wire.ALLOW), ("Accept", "application/sdp")]
            extra.append(wire.source_header(source))
            self._reply(request, source, channel, 200, "OK", extra=extra)
        elif request.to_tag:
            self._in_dialog(request, source, channel)
        else:
            extra = [("Allow", wire.ALLOW)]
            self._reply(request, source, channel, 405, "Method Not Allowed", extra=extra)

    def _reply(
        self,
        request: wire.Request,
        source: tuple[str, int],
        channel: Channel,
        code: int,
        reason: str,
        *,
        to_tag: str | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> bytes:
        data = wire.response(
            request, code, reason, source, to_tag=to_tag or wire.new_tag(), extra=extra or []
        )
        channel.send(data, response_address(request.message, source))
        return data

    def _refuse(
        self, request: wire.Request, source: tuple[str, int], channel: Channel, refusal: Refusal
    ) -> None:
        self.counters.refused(refusal)
        retry = [("Retry-After", str(self._settings.limits.retry_after_s))]
        self._reply(request, source, channel, refusal.code, refusal.reason, extra=retry)

    # -- INVITE ------------------------------------------------------------------------------

    def _invite(
        self, request: wire.Request, raw: bytes, source: tuple[str, int], channel: Channel
    ) -> None:
        existing = self._by_branch.get(request.branch)
        if existing is not None:  # a retransmission: the last response again
            if existing.last_response:
                channel.send(existing.last_response, existing.reply_to)
            return
        now = self._loop.now
        settings = self._settings
        if self.stopping:
            self._refuse(request, source, channel, Refusal.STOPPING)
            return
        refusal = self._sources.admit_call(source[0], now)
        if refusal is not None:
            self._refuse(request, source, channel, refusal)
            return
        if settings.user is not None and not self._authorised(request):
            self.counters.challenged += 1
            challenge = digest.challenge_header(settings.realm, self._secret, self._wallclock())
            self._reply(
                request,
                source,
                channel,
                401,
                "Unauthorized",
                extra=[("WWW-Authenticate", challenge)],
            )
            self._say(f"call {request.label()}: challenged (401)")
            return
        if len(self.calls) >= settings.limits.max_calls:
            self._refuse(request, source, channel, Refusal.BUSY)
            return
        min_se = session_timer.too_small(request.message)
        if min_se is not None:
            self._reply(request, source, channel, *session_timer.TOO_SMALL, extra=min_se)
            return
        try:
            negotiated, index = sdp.negotiate(request.body, self._codecs, settings.srtp)
        except sdp.OfferError as exc:
            self._reply(
                request,
                source,
                channel,
                488,
                "Not Acceptable Here",
                extra=[("Warning", f'304 {wire.SERVER} "{exc}"')],
            )
            return
        local_host, media_host = call_hosts(channel.local[0], source[0], negotiated)
        try:
            rtp, rtcp_sock = settings.ports.open_pair(media_host)
        except OSError:
            self._refuse(request, source, channel, Refusal.MEDIA)
            return
        call = Call(request, source, channel, local_host, wire.received_lines(raw))
        call.session.session = session_timer.negotiate(request.message)
        tone = self._tones.get(negotiated.codec) if settings.mode == "tone" else None
        inband = None
        if self._inband is not None and self._inband.listens_to(
            negotiated.codec, negotiated.crypto is not None
        ):
            if self.listening < settings.limits.inband_calls:
                inband = self._inband.InbandListener(negotiated.codec)
                self.listening += 1
            else:
                self.counters.inband_unchecked += 1
        media = MediaSession(
            rtp,
            rtcp_sock,
            negotiated.payload_type,
            negotiated.dtmf_payload_type,
            tone,
            negotiated.crypto is not None,
            self.counters,
            inband,
        )
        call.media = media
        self._loop.watch(rtp, lambda: media.rtp_readable(self._loop.now))
        self._loop.watch(rtcp_sock, lambda: media.rtcp_readable(self._loop.now))
        call.sdp_version = secrets.randbits(31)  # the session id, and the first version
        answer = sdp.answer(
            request.body, negotiated, index, media_host, media.port, call.sdp_version
        )
        call.answer_sdp = answer
        self.calls[call.key] = call
        self._by_branch[call.branch] = call
        self._sources.add_unconfirmed(source[0], now)
        channel.hold(+1)
        self.counters.calls += 1
        call.last_response = self._reply(request, source, channel, 100, "Trying")
        self._say(f"call {call.label}: incoming")
        if settings.ring_ms > 0:
            call.last_response = call.respond(request, 180, "Ringing")
            call.timer = self._loop.call_later(
                settings.ring_ms / 1000.0, lambda: self._answer(call)
            )
        else:
            self._answer(call)

    def _authorised(self, request: wire.Request) -> bool:
        header = request.header("authorization")
        settings = self._settings
        if header is None or settings.user is None:
            return False
        return digest.verify(
            header,
            request.method,
            settings.user,
            settings.password,
            settings.realm,
            self._secret,
            self._wallclock(),
        )

    def _answer(self, call: Call) -> None:
        if call.state != "early" or call.invite is None:
            return
        call.state = "answered"
        call.answered_s = self._loop.now
        call.session.start(call.answered_s)
        call.last_response = call.respond(call.invite, 200, "OK", call.answer_sdp)
        self._say(f"call {call.label}: answered")
        call.interval_s = T1_S
        call.timer = self._loop.call_later(T1_S, lambda: self._retransmit_ok(call))

    def _retransmit_ok(self, call: Call) -> None:
        """Timer G until the ACK; Timer H ends the call with a BYE (RFC 3261 13.3.1.4)."""
        if call.state != "answered":
            return
        if self._loop.now - call.answered_s >= TIMER_H_S:
            self.counters.unacked += 1
            self.end(call, "no ACK", bye=True)
            return
        if call.channel.transport == "udp":
            call.channel.send(call.last_response, call.reply_to)
        call.interval_s = min(2 * call.interval_s, T2_S)
        call.timer = self._loop.call_later(call.interval_s, lambda: self._retransmit_ok(call))

    # -- within a dialog ---------------------------------------------------------------------

    def _ack(self, request: wire.Request) -> None:
        call = self.calls.get((request.call_id, request.to_tag))
        if call is None or call.state != "answered":
            return  # the ACK of a refusal, a retransmitted ACK, or a stranger's
        call.confirm(self._loop.now)
        self._sources.remove_unconfirmed(call.source[0])

    def _cancel(self, request: wire.Request, source: tuple[str, int], channel: Channel) -> None:
        call = self._by_branch.get(request.branch)
        if call is None:
            self._reply(request, source, channel, 481, "Call/Transaction Does Not Exist")
            return
        self._reply(request, source, channel, 200, "OK", to_tag=call.local_tag)
        if call.state == "early" and call.invite is not None:
            call.respond(call.invite, 487, "Request Terminated")
            self.end(call, "cancelled", bye=False)

    def _in_dialog(self, request: wire.Request, source: tuple[str, int], channel: Channel) -> None:
        call = self.calls.get((request.call_id, request.to_tag))
        if call is None:
            self._reply(request, source, channel, 481, "Call/Transaction Does Not Exist")
        elif request.method == "BYE":
            extra = [(DTMF_HEADER, self._digits(call) or "none")]
            self._reply(request, source, channel, 200, "OK", extra=extra)
            self.end(call, "BYE from the caller", bye=False)
        elif request.method in ("INVITE", "UPDATE"):  # a refresh, or hold and resume
            min_se = session_timer.too_small(request.message)
            if min_se is not None:
                self._reply(request, source, channel, *session_timer.TOO_SMALL, extra=min_se)
                return
            direction = call.answer_reoffer(request)
            if direction is not None:
                self._say(f"call {call.label}: re-INVITE answered {direction}")
            call.session.refresh(request.message, self._loop.now)
            extra = [("Contact", call.contact()), ("Allow", wire.ALLOW), *call.session.headers()]
            sdp_answer = request.method == "INVITE" or bool(request.body)
            body = call.answer_sdp if sdp_answer else ""
            data = wire.response(request, 200, "OK", source, extra=extra, body=body)
            channel.send(data, response_address(request.message, source))
        elif request.method in ("INFO", "OPTIONS"):
            digit = info_digit(request.header("content-type") or "", request.body)
            if request.method == "INFO" and digit and len(call.info_digits) < 2 * MAX_DTMF_DIGITS:
                call.info_digits += digit
                self.counters.dtmf_digits += 1
            self._reply(request, source, channel, 200, "OK")
        else:
            extra = [("Allow", wire.ALLOW)]
            self._reply(request, source, channel, 405, "Method Not Allowed", extra=extra)

    def _digits(self, call: Call) -> str:
        """The DTMF digits the call received, per method: ``rfc4733=159#, sip-info=42``."""
        listening = call.media is not None and call.media.inband is not None
        parts, tones = call.dtmf_received()
        self.counters.dtmf_digits += tones
        if parts:
            self._say(f"call {call.label}: DTMF received {', '.join(parts)}")
        if not listening:
            parts.append(INBAND_UNCHECKED)
        return ", ".join(parts)

    # -- ending calls ------------------------------------------------------------------------

    def end(self, call: Call, reason: str, *, bye: bool) -> None:
        """Release the call and its media; with ``bye``, tell the caller."""
        if call.state == "ended":
            return
        if call.state in ("early", "answered"):
            self._sources.remove_unconfirmed(call.source[0])
        if call.timer is not None:
            call.timer.cancel()
        held_s = self._loop.now - call.confirmed_s if call.state == "confirmed" else 0.0
        call.state = "ended"
        call.invite = None
        if call.media is not None:
            if call.media.inband is not None:
                call.media.inband = None
                self.listening -= 1
            self._loop.forget(call.media.rtp)
            self._loop.forget(call.media.rtcp)
            call.media.close(self._loop.now, self._wallclock())
        self.calls.pop(call.key, None)
        self._by_branch.pop(call.branch, None)
        call.channel.hold(-1)
        if bye and call.channel.open:
            self.byes.send(call)
        self._say(f"call {call.label} ended: {reason} after {held_s:.0f} s")

    def housekeeping(self) -> None:
        """Call length limit and RTCP; run by the server about twice a second."""
        now, wallclock = self._loop.now, self._wallclock()
        limit = self._settings.limits.max_call_s
        for call in list(self.calls.values()):
            if call.state != "confirmed":
                continue
            if now - call.confirmed_s >= limit:
                self.end(call, "call length limit", bye=True)
            elif call.session.expired(now):
                self.counters.session_expired += 1
                self.end(call, "session timer expired (no refresh)", bye=True)
            elif call.media is not None:
                call.media.rtcp_due(now, wallclock)

    def tone_tick(self) -> None:
        now = self._loop.now
        for call in self.calls.values():
            if call.media is not None and call.state == "confirmed":
                call.media.tone_due(now)

    def shutdown(self) -> None:
        """Refuse new calls; end each call: BYE when answered, 480 while it rings."""
        self.stopping = True
        for call in list(self.calls.values()):
            if call.state == "early" and call.invite is not None:
                call.respond(call.invite, 480, "Temporarily Unavailable")
                self.end(call, "responder stopping", bye=False)
            else:
                self.end(call, "responder stopping", bye=True)
