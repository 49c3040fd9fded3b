"""The responder's mirror: it answers each request with the request itself, as it arrived.

pjsua answers OPTIONS inside pjsip and offers no hook to put the request into the response,
so the mirror is a small standard-library listener (UDP and TCP on one port) beside pjsua in
the responder process, or alone when pjsua is not on that port. It never touches pjsua2, so
it may run in a thread of its own.

The response carries the request's bytes base64-encoded as a ``message/sip`` body
(``Content-Transfer-Encoding: base64``): a SIP ALG rewrites addresses in SIP header lines and
SDP wherever it finds them, the kernel's even inside a body, and would otherwise rewrite the
evidence back on the way home. ``X-Sipprobe-Source`` says where the request came from.
OPTIONS gets ``200 OK``; INVITE gets a final ``488`` (the mirror never sets up a call), which
the probe ACKs; ACK gets nothing.
"""

from __future__ import annotations

import base64
import secrets
import selectors
import socket
import threading
from collections.abc import Callable

from sipprobe.sip.message import SipMessage, parse_message, split_stream

SOURCE_HEADER = "X-Sipprobe-Source"
_MAX_DATAGRAM = 65535
_MAX_STREAM_BUFFER = 256 * 1024

Say = Callable[[str], None]


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def top_via_with_source(via: str, host: str, port: int) -> str:
    """The top Via with ``received`` and a filled ``rport`` (RFC 3261 18.2.1, RFC 3581)."""
    parts = via.split(";")
    kept = [p for p in parts[1:] if p.strip().lower().split("=")[0] not in ("received", "rport")]
    asked_rport = any(p.strip().lower().split("=")[0] == "rport" for p in parts[1:])
    params = [*kept, f"received={host}"]
    if asked_rport:
        params.append(f"rport={port}")
    return ";".join([parts[0], *params])


def mirror_response(raw: bytes, request: SipMessage, source: tuple[str, int]) -> bytes | None:
    """The mirror's answer to ``request`` (``raw`` as received from ``source``), or None."""
    if request.status_code is not None or request.method == "ACK":
        return None
    code, reason = (488, "Mirrored, no call") if request.method == "INVITE" else (200, "OK")
    vias = [value for name, value in request.headers if name == "via"]
    if not vias:
        return None
    lines = [f"SIP/2.0 {code} {reason}"]
    lines.append(f"Via: {top_via_with_source(vias[0], *source)}")
    lines += [f"Via: {via}" for via in vias[1:]]
    to = request.header("to") or ""
    if ";tag=" not in to:
        to += f";tag={secrets.token_hex(4)}"
    lines += [f"From: {request.header('from') or ''}", f"To: {to}"]
    lines += [f"Call-ID: {request.call_id}", f"CSeq: {request.header('cseq') or ''}"]
    lines.append(f"{SOURCE_HEADER}: {_hostport(*source)}")
    lines.append("Server: sipprobe-responder (mirror)")
    body = base64.b64encode(raw)
    lines += ["Content-Type: message/sip", "Content-Transfer-Encoding: base64"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response_address(request: SipMessage, source: tuple[str, int]) -> tuple[str, int]:
    """Where a UDP response goes: the source with ``rport``, else the source address and the
    Via's sent-by port (RFC 3261 18.2.2, RFC 3581 section 4)."""
    via = request.header("via") or ""
    params = [p.strip().lower() for p in via.split(";")[1:]]
    if any(p.split("=")[0] == "rport" for p in params):
        return source
    sent_by = via.split(";")[0].split()[-1] if via.split() else ""
    _, sep, port = sent_by.rpartition(":")
    if sep and port.isdigit() and "]" not in port:
        return source[0], int(port)
    return source[0], 5060


class MirrorServer:
    """UDP and TCP listeners on one address and port, served by ``serve_forever``."""

    def __init__(self, host: str, port: int, say: Say) -> None:
        self._say = say
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._udp = socket.socket(family, socket.SOCK_DGRAM)
        self._tcp = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._udp.bind((host, port))
            self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._tcp.bind((host, port))
            self._tcp.listen(16)
        except OSError:
            self.close()
            raise
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._udp, selectors.EVENT_READ, "udp")
        self._selector.register(self._tcp, selectors.EVENT_READ, "listen")
        self._buffers: dict[socket.socket, bytes] = {}
        self._stop = threading.Event()
        self.address = _hostport(host, port)

    def stop(self) -> None:
        self._stop.set()

    def serve_forever(self, poll_s: float = 0.1) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(poll_s):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if key.data == "udp":
                    self._datagram()
                elif key.data == "listen":
                    connection, _peer = self._tcp.accept()
                    connection.setblocking(False)
                    self._buffers[connection] = b""
                    self._selector.register(connection, selectors.EVENT_READ, "tcp")
                else:
                    self._stream(sock)

    def close(self) -> None:
        for sock in [*getattr(self, "_buffers", {}), self._udp, self._tcp]:
            sock.close()
        if hasattr(self, "_selector"):
            self._selector.close()

    def _datagram(self) -> None:
        try:
            raw, source = self._udp.recvfrom(_MAX_DATAGRAM)
        except OSError:  # e.g. an ICMP error queued for an earlier response
            return
        request = self._parse(raw, source[:2])
        if request is None:
            return
        response = mirror_response(raw, request, source[:2])
        if response is not None:
            destination = response_address(request, source[:2])
            try:
                self._udp.sendto(response, destination)
            except OSError as exc:
                self._say(f"mirror: cannot answer {_hostport(*destination)}: {exc}")

    def _stream(self, connection: socket.socket) -> None:
        try:
            chunk = connection.recv(_MAX_DATAGRAM)
        except OSError:
            chunk = b""
        buffer = self._buffers[connection] + chunk
        if not chunk or len(buffer) > _MAX_STREAM_BUFFER:
            self._selector.unregister(connection)
            del self._buffers[connection]
            connection.close()
            return
        messages, used = split_stream(buffer)
        self._buffers[connection] = buffer[used:]
        source = connection.getpeername()[:2]
        for raw in messages:
            request = self._parse(raw, source)
            response = None if request is None else mirror_response(raw, request, source)
            if response is not None:
                try:
                    connection.sendall(response)
                except OSError as exc:
                    self._say(f"mirror: cannot answer {_hostport(*source)}: {exc}")

    def _parse(self, raw: bytes, source: tuple[str, int]) -> SipMessage | None:
        try:
            message = parse_message(raw.decode("utf-8", "replace"))
        except ValueError as exc:
            self._say(f"mirror: not SIP from {_hostport(*source)}: {exc}")
            return None
        if message.status_code is None:
            self._say(f"mirror: {message.method} from {_hostport(*source)}")
        return message
