"""Send raw SIP requests over UDP, TCP or TLS and collect the responses.

No retransmissions: the peers are on loopback. A transaction ends at its first final response,
or when the timeout passes (then the caller sees only what arrived).
"""

import socket
import ssl
import time
from types import TracebackType
from typing import Self

from lab.sipmsg import SipRequest, SipResponse

_MAX_MESSAGE = 65535


SO_RCVBUFFORCE = 33  # Linux's <asm-generic/socket.h>; Python's socket module does not name it


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class SipClient:
    """One local SIP endpoint: a UDP socket, or a TCP/TLS connection to one peer."""

    def __init__(
        self,
        transport: str,
        peer: tuple[str, int],
        *,
        local_host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        connect_timeout: float = 5.0,
        receive_buffer: int | None = None,
    ) -> None:
        self.transport = transport.lower()
        self.peer = peer
        self._buffer = b""
        if self.transport == "udp":
            self._sock = socket.socket(_family(local_host), socket.SOCK_DGRAM)
            if receive_buffer is not None:  # root may pass net.core.rmem_max
                self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, receive_buffer)
            self._sock.bind((local_host, 0))
            return
        raw = socket.socket(_family(local_host), socket.SOCK_STREAM)
        raw.settimeout(connect_timeout)
        try:
            raw.bind((local_host, 0))
            raw.connect(peer)
            if self.transport == "tls":
                context = ssl_context or ssl.create_default_context()
                raw = context.wrap_socket(raw, server_hostname=server_hostname or peer[0])
            elif self.transport != "tcp":
                raise ValueError(f"unknown SIP transport {transport!r}")
        except BaseException:
            raw.close()
            raise
        self._sock = raw

    @property
    def local(self) -> tuple[str, int]:
        host, port = self._sock.getsockname()[:2]
        return host, port

    def send(self, request: SipRequest) -> None:
        data = bytes(request)
        if self.transport == "udp":
            self._sock.sendto(data, self.peer)
        else:
            self._sock.sendall(data)

    def receive(self, timeout: float) -> SipResponse | None:
        """The next response within `timeout` seconds, or None. Requests are not expected."""
        if self.transport == "udp":
            self._sock.settimeout(timeout)
            try:
                data = self._sock.recv(_MAX_MESSAGE)
            except TimeoutError:
                return None
            return SipResponse.parse(data)
        return self._receive_stream(time.monotonic() + timeout)

    def _receive_stream(self, deadline: float) -> SipResponse | None:
        while True:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                head = SipResponse.parse(self._buffer[: head_end + 4])
                length = int(head.header("Content-Length") or "0")
                end = head_end + 4 + length
                if len(self._buffer) >= end:
                    message, self._buffer = self._buffer[:end], self._buffer[end:]
                    return SipResponse.parse(message)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(_MAX_MESSAGE)
            except TimeoutError:
                return None
            if not chunk:
                raise ConnectionError(f"{self.transport} peer {self.peer} closed the connection")
            self._buffer += chunk

    def transaction(self, request: SipRequest, timeout: float = 3.0) -> list[SipResponse]:
        """Send `request`; return the responses up to and including the first final one."""
        self.send(request)
        deadline = time.monotonic() + timeout
        responses: list[SipResponse] = []
        while (remaining := deadline - time.monotonic()) > 0:
            response = self.receive(remaining)
            if response is None:
                break
            responses.append(response)
            if response.status >= 200:
                break
        return responses

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
