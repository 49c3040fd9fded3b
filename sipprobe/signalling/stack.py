"""The pjsua2 endpoint and its lifecycle: the one owner of every pjsua2 object.

Rules this module keeps (see docs/architecture.md, "pjsua2"):

* no pjsua2 worker threads: this thread polls with ``libHandleEvents``;
* exceptions raised inside SWIG callbacks are caught, recorded and re-raised from the loop;
* strong references to accounts, calls and media live here, and are released in order at
  teardown (hang up, pump, let the conference bridge drop the players, shut accounts down,
  drop, ``gc.collect()``, ``libDestroy()``).
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pjsua2 as pj

from sipprobe import __version__
from sipprobe.errors import SetupError, SignallingError
from sipprobe.model.limits import MAX_CALLS, RTP_PORT_SPAN
from sipprobe.signalling.options import TlsSettings
from sipprobe.signalling.timeline import Timeline

DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# The conference bridge's clock ticks every 20 ms; connections change on a tick, not at once.
MEDIA_DETACH_S = 1.0  # bound on waiting for the bridge to drop the players' connections
MEDIA_SETTLE_S = 0.04  # two ticks more: an end-of-file event already posted is delivered
SRTP_MODES = {
    "off": pj.PJMEDIA_SRTP_DISABLED,
    "optional": pj.PJMEDIA_SRTP_OPTIONAL,
    "mandatory": pj.PJMEDIA_SRTP_MANDATORY,
}
_TRANSPORT_TYPES = {
    ("udp", False): pj.PJSIP_TRANSPORT_UDP,
    ("tcp", False): pj.PJSIP_TRANSPORT_TCP,
    ("tls", False): pj.PJSIP_TRANSPORT_TLS,
    ("udp", True): pj.PJSIP_TRANSPORT_UDP6,
    ("tcp", True): pj.PJSIP_TRANSPORT_TCP6,
    ("tls", True): pj.PJSIP_TRANSPORT_TLS6,
}


@dataclass(frozen=True, slots=True)
class StackSettings:
    transport: str = "udp"
    ipv6: bool = False
    bind_host: str = ""  # empty: the address the OS would use towards the target
    sip_port: int = 0  # 0: any free port
    rtp_port: int = 0  # first RTP port; 0: pjsua's default range
    rtp_port_span: int = RTP_PORT_SPAN  # ports from rtp_port that calls may use
    tls: TlsSettings = field(default_factory=TlsSettings)
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    user_agent: str = f"sipprobe/{__version__}"
    srtp: str = "off"  # off | optional | mandatory (SDES keys in the SDP)


def local_address_towards(host: str, port: int, ipv6: bool) -> str:
    """The source address the kernel would pick to reach ``host`` (no packet is sent)."""
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    try:
        target = socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)[0][4]
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect(target)
            return str(sock.getsockname()[0])
    except OSError as exc:
        raise SetupError(f"no route from this machine to {host}: {exc.strerror or exc}") from exc


class _LogSink(pj.LogWriter):  # type: ignore[misc]
    """Receives pjsip's log; SIP messages go to the timeline, the rest to a ring buffer."""

    def __init__(self, stack: SipStack) -> None:
        super().__init__()
        self._stack = stack

    def write(self, entry: Any) -> None:
        try:
            self._stack.on_log(str(entry.msg), int(entry.level))
        except BaseException as exc:  # noqa: BLE001 - SWIG would swallow it
            self._stack.callback_errors.append(exc)


class SipStack:
    """Owns the pjsua2 Endpoint. Use as a context manager; everything is torn down on exit."""

    def __init__(self, settings: StackSettings, timeline: Timeline) -> None:
        self.settings = settings
        self.timeline = timeline
        self.callback_errors: list[BaseException] = []
        self.log_lines: list[str] = []
        self.transport_id: int | None = None
        self.local_sip: str = ""
        self._endpoint: Any = None
        self._log_sink: _LogSink | None = None
        self._owned: list[Any] = []  # accounts, calls, players: kept alive until teardown
        self._hangups: dict[int, Callable[[], bool]] = {}

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> SipStack:
        try:
            self._start()
        except pj.Error as exc:
            self.close()
            raise SetupError(f"SIP stack could not start: {_pj_reason(exc)}") from exc
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        _clear_exception_frames(error)
        self.close()

    def _start(self) -> None:
        endpoint = pj.Endpoint()
        with _stdout_silenced():  # pjlib prints a banner before any log config applies
            endpoint.libCreate()
        self._endpoint = endpoint
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0
        config.uaConfig.mainThreadOnly = True
        config.uaConfig.userAgent = self.settings.user_agent
        config.uaConfig.maxCalls = MAX_CALLS
        self._log_sink = _LogSink(self)
        config.logConfig.writer = self._log_sink
        config.logConfig.level = 4
        config.logConfig.consoleLevel = 4  # the writer only sees what the console would
        config.logConfig.msgLogging = True
        config.logConfig.decor = 0
        config.medConfig.threadCnt = 1
        config.medConfig.noVad = True  # steady 20 ms packets: a measurable stream
        config.medConfig.ecTailLen = 0
        endpoint.libInit(config)
        endpoint.audDevManager().setNullDev()
        self._create_transport()
        endpoint.libStart()
        self._set_codecs()

    def _create_transport(self) -> None:
        self.transport_id = self._open(self.settings.transport, self.settings.sip_port)
        local = self._endpoint.transportGetInfo(self.transport_id).localName
        self.local_sip = str(local)

    def _open(self, transport: str, port: int) -> int:
        settings = self.settings
        transport_config = pj.TransportConfig()
        transport_config.port = port
        if settings.bind_host:
            transport_config.boundAddress = settings.bind_host
        if transport == "tls":
            tls = transport_config.tlsConfig
            tls.verifyServer = settings.tls.verify
            ca_file = settings.tls.ca_file or DEFAULT_CA_BUNDLE
            tls.CaListFile = ca_file
            tls.msecTimeout = 10_000
        kind = _TRANSPORT_TYPES[(transport, settings.ipv6)]
        try:
            return int(self._endpoint.transportCreate(kind, transport_config))
        except pj.Error as exc:
            where = f"{settings.bind_host or 'any address'}:{port or 'any port'}"
            raise SetupError(
                f"cannot open a SIP {transport.upper()} socket on {where}: {_pj_reason(exc)}"
            ) from exc

    def _set_codecs(self) -> None:
        available = {str(c.codecId): c for c in self._endpoint.codecEnum2()}
        chosen: list[str] = []
        for wanted in self.settings.codecs:
            match = _match_codec(wanted, available)
            if match is None:
                names = ", ".join(sorted({c.split("/")[0] for c in available}))
                raise SetupError(f"codec {wanted!r} is not available (available: {names})")
            chosen.append(match)
        for codec_id in available:
            self._endpoint.codecSetPriority(codec_id, 0)
        for rank, codec_id in enumerate(chosen):
            self._endpoint.codecSetPriority(codec_id, 254 - rank)

    def close(self) -> None:
        """Tear down in the order pjsua2 needs; safe to call twice.

        Loops live in helper methods on purpose: a loop variable left in this frame would keep
        the last call alive past ``libDestroy()``, and its destructor would then abort.
        """
        endpoint = self._endpoint
        if endpoint is None:
            return
        if self._hang_up_all():
            self.pump(0.2)  # let the BYE/CANCEL of a call cut short go out
        self.settle_media()
        self._shut_down_all()
        gc.collect()
        try:
            with _stdout_silenced():
                # Steps already hung up and un-registered explicitly; without this flag
                # pjsua_destroy spends about a second on network goodbyes nobody waits for.
                endpoint.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        finally:
            self._endpoint = None
            self._log_sink = None
            gc.collect()

    def settle_media(self) -> None:
        """Pump events until no owned player or tone generator is connected on the conference
        bridge (bounded), then two bridge ticks more; never raises.

        A call's audio leaves the bridge on the clock's next tick after the call ends, and
        teardown comes a few milliseconds after the BYE: a player dropped before that tick
        is still read by the clock thread, which crashes this pjsua2 build now and then
        (docs/architecture.md, "pjsua2").
        """
        ports = [obj for obj in self._owned if isinstance(obj, pj.AudioMedia)]
        if not ports or self._endpoint is None:
            return
        deadline = time.monotonic() + MEDIA_DETACH_S
        while any(_transmitting(port) for port in ports) and time.monotonic() < deadline:
            self._endpoint.libHandleEvents(10)
        settled = time.monotonic() + MEDIA_SETTLE_S
        while time.monotonic() < settled:
            self._endpoint.libHandleEvents(10)

    def _hang_up_all(self) -> bool:
        """Hang up calls still up; returns whether there were any."""
        hangups = list(self._hangups.values())
        self._hangups.clear()
        acted = False
        for hangup in hangups:
            with suppress(pj.Error):  # the call is already gone
                acted = hangup() or acted
        return acted

    def _shut_down_all(self) -> None:
        owned = list(reversed(self._owned))
        self._owned.clear()
        for obj in owned:
            shutdown = getattr(obj, "shutdown", None)
            if shutdown is not None:
                with suppress(pj.Error):
                    shutdown()

    # -- event loop -----------------------------------------------------------------------
    @property
    def endpoint(self) -> Any:
        if self._endpoint is None:
            raise SignallingError("SIP stack is not running")
        return self._endpoint

    def own(self, obj: Any, hangup: Callable[[], bool] | None = None) -> None:
        """Keep ``obj`` alive until teardown; ``hangup`` is called first at teardown and says
        whether it had anything to hang up."""
        self._owned.append(obj)
        if hangup is not None:
            self._hangups[id(obj)] = hangup

    def release(self, obj: Any) -> None:
        """Stop owning ``obj`` (a call that has ended), from the loop, never in a callback."""
        self._hangups.pop(id(obj), None)
        self._owned = [owned for owned in self._owned if owned is not obj]

    def pump(self, seconds: float) -> None:
        """Process SIP and media events for ``seconds`` (at least once)."""
        deadline = time.monotonic() + seconds
        while True:
            self.endpoint.libHandleEvents(10)
            self.raise_callback_errors()
            if time.monotonic() >= deadline:
                return

    def run_until(
        self, done: Callable[[], bool], timeout_s: float, tick: Callable[[], None] | None = None
    ) -> bool:
        """Pump events until ``done()`` or the time bound; returns whether it was done."""
        deadline = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() >= deadline:
                return False
            self.endpoint.libHandleEvents(10)
            self.raise_callback_errors()
            if tick is not None:
                tick()
        return True

    def raise_callback_errors(self) -> None:
        if self.callback_errors:
            error = self.callback_errors.pop(0)
            raise SignallingError(f"error inside a SIP stack callback: {error!r}") from error

    def on_log(self, message: str, level: int) -> None:
        event = self.timeline.add_pjsip_log(message, time.monotonic())
        if event is None and level <= 3:
            self.log_lines.append(message.strip())


def hang_up(call: Any) -> bool:
    """Hang up a call (probe or responder) unless it has ended; returns whether it sent one."""
    if call.disconnected:
        return False
    with suppress(pj.Error):  # already terminating
        call.hangup(pj.CallOpParam())
    return True


def _transmitting(port: Any) -> bool:
    """Whether a player or tone generator still has listeners on the conference bridge."""
    try:
        return len(port.getPortInfo().listeners) > 0
    except pj.Error:
        return False


def _clear_exception_frames(error: BaseException | None) -> None:
    """Drop the locals of every frame in an exception chain.

    The frames of a propagating exception (and of its cause, e.g. a ``pjsua2.Error`` raised in
    SWIG's wrapper) still hold calls and players; they must go before ``libDestroy()``, or
    their destructors run afterwards and abort the process.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if error.__traceback__ is not None:
            traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


@contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null, so C code cannot spoil a JSON report on stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _match_codec(wanted: str, available: dict[str, Any]) -> str | None:
    name = wanted.upper()
    for codec_id in available:
        upper = codec_id.upper()
        if upper == name or upper.startswith(name + "/"):
            return codec_id
    return None


def _pj_reason(exc: Any) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason) if reason else str(exc)
