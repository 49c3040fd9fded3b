"""``sipprobe responder``: the listeners, the loop, the signals, and the way out.

One process, one thread: SIP over UDP, TCP and TLS (on the next port up), every call's media,
and the mirror all run on one loop. SIGTERM and SIGINT end every call with a BYE (480 to a
call still ringing), wait for the BYEs to be answered for at most ``STOP_GRACE_S``, and
return, so the process exits 0.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from sipprobe.responder import wire
from sipprobe.responder.limits import Counters, SourceTable
from sipprobe.responder.loop import Loop
from sipprobe.responder.transport import Channel, Context, StreamListener, UdpListener
from sipprobe.responder.uas import Uas, UasSettings
from sipprobe.sip.mirror import mirror_response, response_address

STOP_GRACE_S = 2.0
HOUSEKEEPING_S = 0.5
TONE_TICK_S = 0.01
REPORT_EVERY_S = 10.0
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 5062
    transports: tuple[str, ...] = ("udp", "tcp")
    uas: UasSettings = field(default_factory=UasSettings)
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    mirror_port: int | None = None  # a mirror on this port; the --listen port: only a mirror


def mirror_handler(
    say: Say, counters: Counters
) -> Callable[[bytes, tuple[str, int], Channel], None]:
    """The mirror: each request answered with itself, as it arrived (see sip/mirror.py)."""

    def handle(raw: bytes, source: tuple[str, int], channel: Channel) -> None:
        request = wire.read_request(raw)
        if request is None:
            counters.not_sip += 1
            return
        counters.requests += 1
        answer = mirror_response(raw, request.message, source)
        if answer is not None:
            say(f"mirror: {request.method} from {wire.hostport(*source)}")
            channel.send(answer, response_address(request.message, source))

    return handle


class Server:
    def __init__(self, settings: ServerSettings, say: Say) -> None:
        self.settings = settings
        self._say = say
        limits = settings.uas.limits
        self.loop = Loop(time.monotonic)
        self.counters = Counters()
        self._sources = SourceTable(limits)
        self._context = Context(self.loop, limits, self._sources, self.counters)
        self.uas = Uas(self.loop, settings.uas, self._sources, self.counters, say, time.time)
        self._listeners: list[UdpListener | StreamListener] = []
        self._stop = False
        _raise_descriptor_limit()
        mirror_only = settings.mirror_port == settings.port
        try:
            if mirror_only:
                self._listen(settings.port, ("udp", "tcp"), mirror_handler(say, self.counters))
            else:
                self._listen(settings.port, settings.transports, self.uas.handle)
                if settings.mirror_port is not None:
                    handler = mirror_handler(say, self.counters)
                    self._listen(settings.mirror_port, ("udp", "tcp"), handler)
        except BaseException:
            self.close()
            raise
        self.mirror_only = mirror_only

    def _listen(
        self,
        port: int,
        transports: tuple[str, ...],
        handler: Callable[[bytes, tuple[str, int], Channel], None],
    ) -> None:
        host = self.settings.host
        for transport in transports:
            if transport == "udp":
                self._listeners.append(UdpListener(self._context, host, port, handler))
            elif transport == "tcp":
                self._listeners.append(StreamListener(self._context, host, port, handler))
            else:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                assert self.settings.tls_cert_file and self.settings.tls_key_file
                context.load_cert_chain(self.settings.tls_cert_file, self.settings.tls_key_file)
                self._listeners.append(
                    StreamListener(self._context, host, port + 1, handler, tls=context)
                )

    def stop(self) -> None:
        self._stop = True

    def serve(self, run_for_s: float | None = None) -> None:
        def handler(_signum: int, _frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        settings = self.settings
        address = wire.hostport(settings.host, settings.port)
        if self.mirror_only:
            self._say(f"ready mirror sip:mirror@{address} (udp,tcp)")
        else:
            mode = settings.uas.mode
            self._say(
                f"ready sip:responder@{address} ({','.join(settings.transports)}, mode {mode}, "
                f"pid {os.getpid()})"
            )
        loop = self.loop
        started = loop.now
        self._periodic(HOUSEKEEPING_S, self._housekeeping)
        if settings.uas.mode == "tone":
            self._periodic(TONE_TICK_S, self.uas.tone_tick)
        while not self._stop and (run_for_s is None or loop.now - started < run_for_s):
            loop.run_once()
        self._say("stopping")
        self.uas.shutdown()
        deadline = loop.now + STOP_GRACE_S
        while self.uas.byes.pending and loop.now < deadline:
            loop.run_once()
        self._say(f"counters: {self.counters.line()}")
        self.close()

    def _periodic(self, every_s: float, work: Callable[[], None]) -> None:
        def tick() -> None:
            work()
            self.loop.call_later(every_s, tick)

        self.loop.call_later(every_s, tick)

    def _housekeeping(self) -> None:
        self.uas.housekeeping()
        now = self.loop.now
        for listener in self._listeners:
            if isinstance(listener, StreamListener):
                listener.sweep(now)
        if int(now / HOUSEKEEPING_S) % int(REPORT_EVERY_S / HOUSEKEEPING_S) == 0:
            self._sources.prune(now)

    def close(self) -> None:
        for listener in self._listeners:
            listener.close()
        self._listeners.clear()
        self.loop.close()


def _raise_descriptor_limit() -> None:
    """Two descriptors per call and one per connection: use the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
