"""SIP transports of the responder: UDP, and TCP and TLS with limits per source.

Each listener hands every whole message it reads to one handler, with the source address and
a ``Channel`` that answers over the same transport (the UDP socket, or the very connection).
Connections are refused at accept beyond the per-source and total limits, closed when idle
(unless a call uses them), when a message or the buffer outgrows ``max_message_bytes``, and
when a peer does not read what it is sent.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass

from sipprobe.responder.limits import Counters, Limits, SourceTable
from sipprobe.responder.loop import Loop
from sipprobe.responder.wire import split_stream

_DATAGRAM = 65535
_READS_PER_WAKE = 64  # datagrams read per readiness event, so one socket cannot starve others
_OUTPUT_CAP = 256 * 1024
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: a refused connection gets RST


class Channel:
    """Where a response goes: the transport a request came over."""

    transport: str
    local: tuple[str, int]

    def send(self, data: bytes, destination: tuple[str, int]) -> None:
        raise NotImplementedError

    @property
    def open(self) -> bool:
        return True

    def hold(self, delta: int) -> None:
        """A call starts (+1) or ends (-1) on this channel (connections stay open for it)."""


Handler = Callable[[bytes, tuple[str, int], Channel], None]


@dataclass(frozen=True, slots=True)
class Context:
    loop: Loop
    limits: Limits
    sources: SourceTable
    counters: Counters


class UdpListener(Channel):
    transport = "udp"

    def __init__(self, context: Context, host: str, port: int, handler: Handler) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self._sock.setblocking(False)
        self.local = (host, int(self._sock.getsockname()[1]))
        self._context = context
        self._handler = handler
        self._buffer = bytearray(_DATAGRAM)
        context.loop.watch(self._sock, self._readable)

    def _readable(self) -> None:
        counters, limit = self._context.counters, self._context.limits.max_message_bytes
        for _ in range(_READS_PER_WAKE):
            try:
                size, source = self._sock.recvfrom_into(self._buffer)
            except BlockingIOError:
                return
            except OSError:  # an ICMP error queued for an earlier datagram
                continue
            if size > limit:
                counters.oversize += 1
                continue
            self._handler(bytes(self._buffer[:size]), (source[0], source[1]), self)

    def send(self, data: bytes, destination: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):
            self._sock.sendto(data, destination)

    def close(self) -> None:
        self._context.loop.forget(self._sock)
        self._sock.close()


class StreamListener:
    """A TCP listener, TLS when given a server context."""

    def __init__(
        self,
        context: Context,
        host: str,
        port: int,
        handler: Handler,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
            self._sock.listen(128)
        except OSError:
            self._sock.close()
            raise
        self._sock.setblocking(False)
        self.local = (host, int(self._sock.getsockname()[1]))
        self.transport = "tls" if tls else "tcp"
        self._context = context
        self._handler = handler
        self._tls = tls
        self.connections: set[StreamConnection] = set()
        context.loop.watch(self._sock, self._accept)

    def _accept(self) -> None:
        context = self._context
        for _ in range(_READS_PER_WAKE):
            try:
                sock, peer = self._sock.accept()
            except BlockingIOError:
                return
            except OSError:  # e.g. out of descriptors: try again on the next wake
                return
            source = (peer[0], peer[1])
            if len(self.connections) >= context.limits.tcp_total or not context.sources.open_tcp(
                source[0], context.loop.now
            ):
                context.counters.tcp_refused += 1
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
                sock.close()
                continue
            sock.setblocking(False)
            stream: socket.socket = sock
            if self._tls is not None:
                stream = self._tls.wrap_socket(
                    sock, server_side=True, do_handshake_on_connect=False
                )
            self.connections.add(StreamConnection(self, stream, source))

    def closed(self, connection: StreamConnection) -> None:
        self.connections.discard(connection)
        self._context.sources.close_tcp(connection.source[0])

    def sweep(self, now: float) -> None:
        """Close connections idle for longer than the limit that no call holds."""
        idle_s = self._context.limits.tcp_idle_s
        for connection in list(self.connections):
            if connection.calls == 0 and now - connection.last_activity > idle_s:
                self._context.counters.tcp_idle_closed += 1
                connection.close()

    def close(self) -> None:
        for connection in list(self.connections):
            connection.close()
        self._context.loop.forget(self._sock)
        self._sock.close()


class StreamConnection(Channel):
    def __init__(
        self, listener: StreamListener, sock: socket.socket, source: tuple[str, int]
    ) -> None:
        self._listener = listener
        self._loop = listener._context.loop
        self._limit = listener._context.limits.max_message_bytes
        self._counters = listener._context.counters
        self._sock = sock
        self.source = source
        self.transport = listener.transport
        self.local = listener.local
        self.calls = 0
        self.last_activity = self._loop.now
        self._input = b""
        self._output = b""
        self._handshaking = isinstance(sock, ssl.SSLSocket)
        self._closed = False
        self._loop.watch(sock, self._readable)

    @property
    def open(self) -> bool:
        return not self._closed

    def hold(self, delta: int) -> None:
        self.calls = max(0, self.calls + delta)

    def _readable(self) -> None:
        if self._closed:
            return
        self.last_activity = self._loop.now
        if self._handshaking and not self._handshake():
            return
        chunks = []
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    self.close()
                    break
                chunks.append(chunk)
                if not isinstance(self._sock, ssl.SSLSocket) or not self._sock.pending():
                    break
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except OSError:
            self.close()
        if not chunks:
            return
        self._input += b"".join(chunks)
        messages, used = split_stream(self._input)
        self._input = self._input[used:]
        if len(self._input) > self._limit or any(len(m) > self._limit for m in messages):
            self._counters.oversize += 1
            self.close()
            return
        for raw in messages:
            if self._closed:
                return
            self._listener._handler(raw, self.source, self)

    def _handshake(self) -> bool:
        assert isinstance(self._sock, ssl.SSLSocket)
        try:
            self._sock.do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (OSError, ssl.SSLError):
            self.close()
            return False
        self._handshaking = False
        return True

    def send(self, data: bytes, destination: tuple[str, int]) -> None:
        if self._closed or self._handshaking:
            return
        self._output += data
        self._flush()

    def _flush(self) -> None:
        try:
            while self._output:
                sent = self._sock.send(self._output)
                self._output = self._output[sent:]
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except OSError:
            self.close()
            return
        if len(self._output) > _OUTPUT_CAP:
            self.close()
        elif self._output:
            self._loop.watch(self._sock, self._readable, self._flush)
        else:
            self._loop.watch(self._sock, self._readable)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.forget(self._sock)
        with contextlib.suppress(OSError):
            self._sock.close()
        self._listener.closed(self)
