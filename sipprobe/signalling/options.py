"""SIP OPTIONS ping over UDP, TCP or TLS, done with the standard library.

pjsua2 has no API for an out-of-dialog OPTIONS request, and a ping is the one transaction
where the probe wants full control: a connected UDP socket so an ICMP port-unreachable is
seen at once, RFC 3261 Timer E retransmissions, and the exact round-trip time of the first
response. Every message goes into the run's timeline like pjsua2's do.
"""

from __future__ import annotations

import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

from sipprobe import __version__
from sipprobe.errors import SetupError
from sipprobe.signalling.message import SipMessage, parse_message
from sipprobe.signalling.timeline import Timeline
from sipprobe.signalling.uri import SipUri

Address = tuple[Any, ...]  # what getaddrinfo gives for AF_INET / AF_INET6
T1_S = 0.5
T2_S = 4.0
_MAX_MESSAGE = 65535


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS policy: verify the server certificate unless told otherwise."""

    verify: bool = True
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class OptionsOutcome:
    status_code: int | None
    reason: str
    rtt_ms: float | None
    retransmissions: int
    reachable: bool  # the target answered at the transport or SIP level
    error: str | None  # what went wrong locally, in one sentence
    server: str | None
    user_agent: str | None
    allow: tuple[str, ...]
    supported: tuple[str, ...]
    events: tuple[int, ...]


def send_options(
    target: SipUri,
    transport: str,
    timeout_s: float,
    timeline: Timeline,
    tls: TlsSettings,
    from_user: str = "sipprobe",
) -> OptionsOutcome:
    """Send one OPTIONS and wait at most ``timeout_s`` for its final response."""
    port = target.effective_port(transport)
    family = socket.AF_INET6 if target.is_ipv6 else socket.AF_UNSPEC
    try:
        infos = socket.getaddrinfo(
            target.host,
            port,
            family,
            socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM,
        )
    except socket.gaierror as exc:
        return _failed(f"cannot resolve {target.host}: {exc.strerror}", reachable=False)
    address_family, _, _, _, address = infos[0]
    first_event = len(timeline)
    started = time.monotonic()
    deadline = started + timeout_s
    try:
        if transport == "udp":
            return _over_udp(
                target, address_family, address, deadline, timeline, from_user, first_event
            )
        return _over_stream(
            target,
            transport,
            address_family,
            address,
            deadline,
            timeline,
            tls,
            from_user,
            first_event,
        )
    except OSError as exc:
        return _failed(
            f"socket error talking to {target.hostport()}: {exc.strerror or exc}",
            reachable=False,
            events=_events_since(timeline, first_event),
        )


def _failed(error: str, reachable: bool, events: tuple[int, ...] = ()) -> OptionsOutcome:
    return OptionsOutcome(None, "", None, 0, reachable, error, None, None, (), (), events)


def _events_since(timeline: Timeline, first: int) -> tuple[int, ...]:
    return tuple(range(first, len(timeline)))


def _build(
    target: SipUri, transport: str, local: tuple[str, int], from_user: str
) -> tuple[str, str]:
    host = f"[{local[0]}]" if ":" in local[0] else local[0]
    branch = "z9hG4bK" + secrets.token_hex(8)
    tag = secrets.token_hex(4)
    call_id = secrets.token_hex(10) + "@sipprobe"
    request_uri = SipUri(target.scheme, target.user, target.host, target.port, target.params)
    text = (
        f"OPTIONS {request_uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport.upper()} {host}:{local[1]};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{from_user}@{host}>;tag={tag}\r\n"
        f"To: <{request_uri}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"Contact: <sip:{from_user}@{host}:{local[1]};transport={transport}>\r\n"
        "Accept: application/sdp\r\n"
        f"User-Agent: sipprobe/{__version__}\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    return text, branch


def _peer_text(address: Address) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _answer(
    message: SipMessage, rtt_ms: float, retransmissions: int, events: tuple[int, ...]
) -> OptionsOutcome:
    return OptionsOutcome(
        status_code=message.status_code,
        reason=message.reason,
        rtt_ms=round(rtt_ms, 3),
        retransmissions=retransmissions,
        reachable=True,
        error=None,
        server=message.header("server"),
        user_agent=message.header("user-agent"),
        allow=message.header_values("allow"),
        supported=message.header_values("supported"),
        events=events,
    )


def _matches(message: SipMessage, branch: str) -> bool:
    via = message.header("via") or ""
    return message.status_code is not None and branch in via and message.method == "OPTIONS"


def _over_udp(
    target: SipUri,
    family: int,
    address: Address,
    deadline: float,
    timeline: Timeline,
    from_user: str,
    first_event: int,
) -> OptionsOutcome:
    peer = _peer_text(address)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(address)  # connected: an ICMP port unreachable surfaces as ECONNREFUSED
        text, branch = _build(target, "udp", sock.getsockname()[:2], from_user)
        payload = text.encode()
        sent_at = time.monotonic()
        interval = T1_S
        next_send = sent_at
        sends = 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                events = _events_since(timeline, first_event)
                return _failed(
                    f"no response to OPTIONS within {deadline - sent_at:.1f} s "
                    f"({sends} transmissions)",
                    reachable=False,
                    events=events,
                )
            if now >= next_send:
                sock.send(payload)
                timeline.add("tx", "UDP", peer, text, now)
                sends += 1
                next_send = now + interval
                interval = min(interval * 2, T2_S)
            sock.settimeout(max(0.001, min(next_send, deadline) - time.monotonic()))
            try:
                data = sock.recv(_MAX_MESSAGE)
            except TimeoutError:
                continue
            except ConnectionRefusedError:
                events = _events_since(timeline, first_event)
                return _failed(
                    f"port closed: ICMP port unreachable from {peer}",
                    reachable=False,
                    events=events,
                )
            arrived = time.monotonic()
            reply = data.decode("utf-8", "replace")
            timeline.add("rx", "UDP", peer, reply, arrived)
            try:
                message = parse_message(reply)
            except ValueError:
                continue
            if _matches(message, branch) and (message.status_code or 0) >= 200:
                return _answer(
                    message,
                    (arrived - sent_at) * 1000,
                    sends - 1,
                    _events_since(timeline, first_event),
                )


def _tls_context(tls: TlsSettings) -> ssl.SSLContext:
    if not tls.verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=tls.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise SetupError(f"cannot load TLS CA file {tls.ca_file}: {exc}") from exc


def _over_stream(
    target: SipUri,
    transport: str,
    family: int,
    address: Address,
    deadline: float,
    timeline: Timeline,
    tls: TlsSettings,
    from_user: str,
    first_event: int,
) -> OptionsOutcome:
    peer = _peer_text(address)
    raw = socket.socket(family, socket.SOCK_STREAM)
    raw.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        try:
            raw.connect(address)
        except ConnectionRefusedError:
            return _failed(f"connection refused by {peer} ({transport.upper()})", reachable=False)
        except TimeoutError:
            return _failed(
                f"no {transport.upper()} connection to {peer} within the time bound",
                reachable=False,
            )
        sock: socket.socket = raw
        if transport == "tls":
            try:
                sock = _tls_context(tls).wrap_socket(raw, server_hostname=target.host)
            except ssl.SSLCertVerificationError as exc:
                return _failed(
                    f"TLS certificate of {peer} not trusted: {exc.verify_message}", reachable=True
                )
            except (ssl.SSLError, TimeoutError) as exc:
                return _failed(f"TLS handshake with {peer} failed: {exc}", reachable=True)
        text, branch = _build(target, transport, sock.getsockname()[:2], from_user)
        sent_at = time.monotonic()
        sock.sendall(text.encode())
        timeline.add("tx", transport.upper(), peer, text, sent_at)
        buffer = b""
        while True:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                chunk = sock.recv(_MAX_MESSAGE)
            except TimeoutError:
                return _failed(
                    f"no response to OPTIONS within {deadline - sent_at:.1f} s",
                    reachable=True,
                    events=_events_since(timeline, first_event),
                )
            if not chunk:
                return _failed(
                    f"{peer} closed the connection without answering",
                    reachable=True,
                    events=_events_since(timeline, first_event),
                )
            buffer += chunk
            arrived = time.monotonic()
            replies, consumed = split_stream(buffer)
            buffer = buffer[consumed:]
            for reply in replies:
                decoded = reply.decode("utf-8", "replace")
                timeline.add("rx", transport.upper(), peer, decoded, arrived)
                try:
                    message = parse_message(decoded)
                except ValueError:
                    continue
                if _matches(message, branch) and (message.status_code or 0) >= 200:
                    return _answer(
                        message, (arrived - sent_at) * 1000, 0, _events_since(timeline, first_event)
                    )
    finally:
        raw.close()


def split_stream(buffer: bytes) -> tuple[list[bytes], int]:
    """Whole messages at the head of a stream buffer (framed by Content-Length).

    Returns the messages and how many bytes of the buffer they used.
    """
    messages: list[bytes] = []
    offset = 0
    while True:
        # Keep-alive CRLFs between messages (RFC 5626) are not messages.
        while buffer[offset : offset + 2] == b"\r\n":
            offset += 2
        end = buffer.find(b"\r\n\r\n", offset)
        if end < 0:
            return messages, offset
        length = 0
        for line in buffer[offset:end].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() in (b"content-length", b"l"):
                digits = value.strip()
                length = int(digits) if digits.isdigit() else 0
        total = end + 4 + length
        if total > len(buffer):
            return messages, offset
        messages.append(buffer[offset:total])
        offset = total
