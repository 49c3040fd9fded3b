"""The responder: a far end the probe (or anyone) can call.

It answers OPTIONS (pjsua does that by itself) and INVITE, optionally after ringing, then
echoes the caller's audio back or plays a tone, sending RTCP as any pjmedia stream does. It can
demand digest authentication. It runs until SIGTERM/SIGINT and prints one line per event.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any, Literal

import pjsua2 as pj

from sipprobe.model.endpoint import Endpoint
from sipprobe.signalling.account import (
    Credentials,
    configure_srtp,
    mark_expedited_forwarding,
    media_bind_address,
)
from sipprobe.signalling.stack import SipStack, StackSettings, hang_up
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip import digest
from sipprobe.sip.message import parse_message

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ResponderSettings:
    host: str = "127.0.0.1"
    port: int = 5062
    transports: tuple[str, ...] = ("udp", "tcp")
    mode: Literal["echo", "tone"] = "echo"
    ring_ms: int = 0
    credentials: Credentials | None = None
    realm: str = "sipprobe"
    max_call_s: float = 3600.0
    codecs: tuple[str, ...] = ("PCMU", "PCMA", "G722")
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    srtp: str = "off"  # off | optional | mandatory


class _ResponderCall(pj.Call):  # type: ignore[misc]
    def __init__(self, responder: Responder, account: Any, call_id: int) -> None:
        super().__init__(account, call_id)
        self._responder = responder
        self.answer_at: float | None = None
        self.hangup_at: float | None = None
        self.disconnected = False
        self.label = ""
        self.tone: Any = None  # lives exactly as long as the call

    def onCallState(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
        try:
            info = self.getInfo()
            if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.disconnected = True
                self._responder.say(
                    f"call {self.label} ended: {info.lastStatusCode} "
                    f"{info.lastReason} after {info.connectDuration.sec} s"
                )
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._responder.stack.callback_errors.append(exc)

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
        try:
            info = self.getInfo()
            for index, media in enumerate(info.media):
                if (
                    media.type == pj.PJMEDIA_TYPE_AUDIO
                    and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                ):
                    self._responder.connect_media(self, self.getAudioMedia(index))
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._responder.stack.callback_errors.append(exc)


class _ResponderAccount(pj.Account):  # type: ignore[misc]
    def __init__(self, responder: Responder) -> None:
        super().__init__()
        self._responder = responder

    def onIncomingCall(self, prm: Any) -> None:  # noqa: N802 - pjsua2 callback name
        try:
            self._responder.incoming(self, int(prm.callId), str(prm.rdata.wholeMsg))
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._responder.stack.callback_errors.append(exc)


class Responder:
    """Owns the far-end logic; ``serve()`` runs the event loop until asked to stop."""

    def __init__(self, settings: ResponderSettings, say: Say) -> None:
        self.settings = settings
        self.say = say
        self.stack = SipStack(
            StackSettings(
                transport=settings.transports[0],
                ipv6=":" in settings.host,
                bind_host=settings.host,
                sip_port=settings.port,
                codecs=settings.codecs,
                user_agent="sipprobe-responder",
                tls_cert_file=settings.tls_cert_file,
                tls_key_file=settings.tls_key_file,
                also_listen=settings.transports[1:],
            ),
            Timeline(time.monotonic),
        )
        self._secret = secrets.token_bytes(16)
        self._calls: list[_ResponderCall] = []
        self._stop = False

    def stop(self, *_args: object) -> None:
        self._stop = True

    def serve(self, run_for_s: float | None = None) -> None:
        def handler(_signum: int, _frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        started = time.monotonic()
        with self.stack:
            account = _ResponderAccount(self)
            config = pj.AccountConfig()
            config.idUri = f"sip:responder@{Endpoint(self.settings.host).host_for_uri}"
            mark_expedited_forwarding(config.mediaConfig.transportConfig)
            configure_srtp(config.mediaConfig, self.settings.srtp)
            config.mediaConfig.transportConfig.boundAddress = media_bind_address(self.settings.host)
            account.create(config, True)
            self.stack.own(account)
            self.say(
                f"ready sip:responder@{self.stack.local_sip} "
                f"({','.join(self.settings.transports)}, mode {self.settings.mode}, "
                f"pid {os.getpid()})"
            )
            while not self._stop:
                self.stack.pump(0.02)
                self._due(time.monotonic())
                if run_for_s is not None and time.monotonic() - started > run_for_s:
                    break
            self.say("stopping")

    def incoming(self, account: Any, call_id: int, request: str) -> None:
        call = _ResponderCall(self, account, call_id)
        self.stack.own(call, hangup=lambda: hang_up(call))
        self._calls.append(call)
        message = parse_message(request)
        call.label = f"{message.call_id[:16]} from {message.header('from') or '?'}"
        creds = self.settings.credentials
        if creds is not None and not self._authorised(
            message.header("authorization"), message.method
        ):
            reply = pj.CallOpParam()
            reply.statusCode = 401
            header = pj.SipHeader()
            header.hName = "WWW-Authenticate"
            header.hValue = digest.challenge_header(self.settings.realm, self._secret, time.time())
            headers = pj.SipHeaderVector()  # assign a whole vector: SWIG hands out copies
            headers.append(header)
            reply.txOption.headers = headers
            call.answer(reply)  # a final answer carries headers; hangup() drops them here
            self.say(f"call {call.label}: challenged (401)")
            return
        now = time.monotonic()
        if self.settings.ring_ms > 0:
            ringing = pj.CallOpParam()
            ringing.statusCode = 180
            call.answer(ringing)
            call.answer_at = now + self.settings.ring_ms / 1000.0
        else:
            call.answer_at = now
        call.hangup_at = now + self.settings.max_call_s
        self.say(f"call {call.label}: incoming")

    def _authorised(self, header: str | None, method: str) -> bool:
        creds = self.settings.credentials
        if header is None or creds is None:
            return False
        return digest.verify(
            header,
            method,
            creds.username,
            creds.password,
            self.settings.realm,
            self._secret,
            time.time(),
        )

    def _due(self, now: float) -> None:
        for call in list(self._calls):
            if call.disconnected:
                self._calls.remove(call)
                self.stack.release(call)
            elif call.answer_at is not None and now >= call.answer_at:
                call.answer_at = None
                answer = pj.CallOpParam()
                answer.statusCode = 200
                call.answer(answer)
                self.say(f"call {call.label}: answered")
            elif call.hangup_at is not None and now >= call.hangup_at:
                call.hangup_at = None
                hang_up(call)

    def connect_media(self, call: _ResponderCall, audio: Any) -> None:
        if self.settings.mode == "echo":
            audio.startTransmit(audio)
            return
        tone = pj.ToneGenerator()
        tone.createToneGenerator(8000, 1)
        desc = pj.ToneDesc()
        desc.freq1, desc.freq2, desc.on_msec, desc.off_msec = 440, 0, 1000, 0
        tones = pj.ToneDescVector()
        tones.append(desc)
        tone.play(tones, True)
        tone.startTransmit(audio)
        call.tone = tone
