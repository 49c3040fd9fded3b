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
from dataclasses import dataclass, field, replace
from typing import Any

from sipprobe import __version__
from sipprobe.errors import SetupError
from sipprobe.model.endpoint import Endpoint
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.message import SipMessage, parse_message, split_stream
from sipprobe.sip.uri import SipUri

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
    sent: str = ""  # the request exactly as it went out ("" when none did)
    received: str = ""  # the final response exactly as it came in
    local: str = ""  # the probe's address and port for this request ("host:port")


@dataclass(frozen=True, slots=True)
class Request:
    """What to send: OPTIONS by default; an INVITE is ACKed when its final answer comes."""

    method: str = "OPTIONS"
    body: str = ""
    content_type: str = "application/sdp"
    from_user: str = "sipprobe"
    extra_headers: tuple[str, ...] = field(default=())


def send_options(
    target: SipUri,
    transport: str,
    timeout_s: float,
    timeline: Timeline,
    tls: TlsSettings,
    from_user: str = "sipprobe",
) -> OptionsOutcome:
    """Send one OPTIONS and wait at most ``timeout_s`` for its final response."""
    return send_request(target, transport, timeout_s, timeline, tls, Request(from_user=from_user))


def send_request(
    target: SipUri,
    transport: str,
    timeout_s: float,
    timeline: Timeline,
    tls: TlsSettings,
    request: Request,
) -> OptionsOutcome:
    """Send one out-of-dialog request and wait at most ``timeout_s`` for its final response."""
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
                target, address_family, address, deadline, timeline, request, first_event
            )
        return _over_stream(
            target,
            transport,
            address_family,
            address,
            deadline,
            timeline,
            tls,
            request,
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


def build_request(
    target: SipUri,
    transport: str,
    local: tuple[str, int],
    request: Request,
    via: tuple[str, int] | None = None,
    rport: bool = True,
) -> tuple[str, str]:
    """The request's text and its Via branch; ``via`` puts another sent-by in the Via."""
    own = Endpoint(local[0], local[1])
    host = own.host_for_uri
    sent_by = Endpoint(via[0].strip("[]"), via[1]) if via else own
    branch = "z9hG4bK" + secrets.token_hex(8)
    tag = secrets.token_hex(4)
    call_id = secrets.token_hex(10) + "@sipprobe"
    request_uri = SipUri(target.scheme, target.user, target.host, target.port, target.params)
    body = request.body.encode()
    content_type = f"Content-Type: {request.content_type}\r\n" if body else ""
    extra = "".join(f"{line}\r\n" for line in request.extra_headers)
    text = (
        f"{request.method} {request_uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport.upper()} {sent_by};branch={branch}"
        f"{';rport' if rport else ''}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{request.from_user}@{host}>;tag={tag}\r\n"
        f"To: <{request_uri}>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 {request.method}\r\n"
        f"Contact: <sip:{request.from_user}@{own};transport={transport}>\r\n"
        "Accept: application/sdp\r\n"
        f"User-Agent: sipprobe/{__version__}\r\n"
        f"{extra}{content_type}"
        f"Content-Length: {len(body)}\r\n\r\n{request.body}"
    )
    return text, branch


def build_ack(request_text: str, response: SipMessage) -> str:
    """The ACK of a non-2xx final response to an INVITE (RFC 3261 17.1.1.3)."""
    sent = parse_message(request_text)
    request_uri = sent.first_line.split()[1]
    lines = [f"ACK {request_uri} SIP/2.0", f"Via: {sent.header('via')}", "Max-Forwards: 70"]
    lines.append(f"From: {sent.header('from')}")
    lines.append(f"To: {response.header('to') or sent.header('to')}")
    lines.append(f"Call-ID: {sent.call_id}")
    lines.append(f"CSeq: {sent.cseq_number} ACK")
    return "\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n"


def _peer_text(address: Address) -> str:
    return str(Endpoint(address[0], address[1]))


def _answer(
    message: SipMessage,
    rtt_ms: float,
    retransmissions: int,
    events: tuple[int, ...],
    received: str = "",
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
        received=received,
    )


def _matches(message: SipMessage, branch: str, method: str) -> bool:
    via = message.header("via") or ""
    return message.status_code is not None and branch in via and message.method == method


def _over_udp(
    target: SipUri,
    family: int,
    address: Address,
    deadline: float,
    timeline: Timeline,
    request: Request,
    first_event: int,
) -> OptionsOutcome:
    peer = _peer_text(address)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(address)  # connected: an ICMP port unreachable surfaces as ECONNREFUSED
        local = sock.getsockname()[:2]
        text, branch = build_request(target, "udp", local, request)
        outcome = udp_transaction(sock, peer, text, branch, request.method, deadline, timeline)
        return replace(
            outcome, sent=text, local=_peer_text(local), events=_events_since(timeline, first_event)
        )


def udp_transaction(
    sock: socket.socket,
    peer: str,
    text: str,
    branch: str,
    method: str,
    deadline: float,
    timeline: Timeline,
) -> OptionsOutcome:
    """Send ``text`` on a connected UDP socket with Timer E retransmissions until a final
    response (ACKed when the request is an INVITE), ICMP port unreachable or the deadline."""
    payload = text.encode()
    sent_at = time.monotonic()
    interval = T1_S
    next_send = sent_at
    sends = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return _failed(
                f"no response to {method} within {deadline - sent_at:.1f} s "
                f"({sends} transmissions)",
                reachable=False,
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
            return _failed(f"port closed: ICMP port unreachable from {peer}", reachable=False)
        arrived = time.monotonic()
        reply = data.decode("utf-8", "replace")
        timeline.add("rx", "UDP", peer, reply, arrived)
        try:
            message = parse_message(reply)
        except ValueError:
            continue
        if _matches(message, branch, method) and (message.status_code or 0) >= 200:
            if method == "INVITE":
                ack = build_ack(text, message)
                sock.send(ack.encode())
                timeline.add("tx", "UDP", peer, ack)
            return _answer(message, (arrived - sent_at) * 1000, sends - 1, (), reply)


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
    request: Request,
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
        local = sock.getsockname()[:2]
        text, branch = build_request(target, transport, local, request)
        local_text = _peer_text(local)
        sent_at = time.monotonic()
        sock.sendall(text.encode())
        timeline.add("tx", transport.upper(), peer, text, sent_at)
        buffer = b""
        while True:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                chunk = sock.recv(_MAX_MESSAGE)
            except TimeoutError:
                return replace(
                    _failed(
                        f"no response to {request.method} within {deadline - sent_at:.1f} s",
                        reachable=True,
                        events=_events_since(timeline, first_event),
                    ),
                    sent=text,
                    local=local_text,
                )
            if not chunk:
                return replace(
                    _failed(
                        f"{peer} closed the connection without answering",
                        reachable=True,
                        events=_events_since(timeline, first_event),
                    ),
                    sent=text,
                    local=local_text,
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
                if _matches(message, branch, request.method) and (message.status_code or 0) >= 200:
                    if request.method == "INVITE":
                        ack = build_ack(text, message)
                        sock.sendall(ack.encode())
                        timeline.add("tx", transport.upper(), peer, ack)
                    answer = _answer(message, (arrived - sent_at) * 1000, 0, (), decoded)
                    return replace(
                        answer,
                        events=_events_since(timeline, first_event),
                        sent=text,
                        local=local_text,
                    )
    finally:
        raw.close()
