"""SIP messages as the responder reads and writes them.

``read_request`` and ``split_stream`` are the responder's only calls into the project's SIP
parser (``sipprobe.sip.message``), so a change of that module's API is a change here only.
Everything else in this package works with ``Request``.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sipprobe.sip import message as sip_message
from sipprobe.sip.mirror import SOURCE_HEADER, top_via_with_source

SERVER = "sipprobe-responder"
DSCP_HEADER = "X-Sipprobe-Rtp-Dscp"
RECEIVED_HEADER = "X-Sipprobe-Received"
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
_RECEIVED_NAMES = frozenset({b"via", b"v", b"contact", b"m"})
_BRANCH = re.compile(r";\s*branch=([^;,\s]+)", re.IGNORECASE)
_TAG = re.compile(r";\s*tag=([^;,\s>]+)", re.IGNORECASE)
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True, slots=True)
class Request:
    """A SIP request as received: what the responder needs of it, and the parsed message."""

    method: str
    uri: str
    vias: tuple[str, ...]
    call_id: str
    cseq: int
    cseq_method: str
    from_value: str
    to_value: str
    body: str
    message: sip_message.SipMessage

    def header(self, name: str) -> str | None:
        return self.message.header(name)

    def headers(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for key, value in self.message.headers if key == wanted)

    @property
    def branch(self) -> str:
        match = _BRANCH.search(self.vias[0])
        return match.group(1) if match else ""

    @property
    def from_tag(self) -> str:
        return header_tag(self.from_value)

    @property
    def to_tag(self) -> str:
        return header_tag(self.to_value)

    def label(self) -> str:
        """A short printable name of the call, for the responder's output lines."""
        caller = _PRINTABLE.sub("?", self.from_value)[:60]
        return f"{_PRINTABLE.sub('?', self.call_id)[:16]} from {caller}"


def header_tag(value: str) -> str:
    after_uri = value.rsplit(">", 1)[-1] if "<" in value else value
    match = _TAG.search(after_uri)
    return match.group(1) if match else ""


def _parse(raw: bytes) -> sip_message.SipMessage | None:
    try:
        return sip_message.parse_message(raw.decode("utf-8", "replace"))
    except ValueError:
        return None


def read_request(raw: bytes) -> Request | None:
    """The request in ``raw``, or None when it is a response, not SIP, or lacks a header
    every request must have (RFC 3261 8.1.1)."""
    first_line = raw[: raw.find(b"\r\n")]
    if not first_line.endswith(b" SIP/2.0") or not first_line[:1].isalpha():
        return None  # cheap: garbage costs no decoding or parsing
    message = _parse(raw)
    if message is None or message.status_code is not None or message.request_uri is None:
        return None
    vias = tuple(value for key, value in message.headers if key == "via")
    cseq = (message.header("cseq") or "").split()
    from_value, to_value = message.header("from"), message.header("to")
    if not vias or not message.call_id or len(cseq) != 2 or not cseq[0].isdigit():
        return None
    if from_value is None or to_value is None:
        return None
    return Request(
        method=message.method,
        uri=message.request_uri,
        vias=vias,
        call_id=message.call_id,
        cseq=int(cseq[0]),
        cseq_method=cseq[1].upper(),
        from_value=from_value,
        to_value=to_value,
        body=message.body,
        message=message,
    )


def split_stream(buffer: bytes) -> tuple[list[bytes], int]:
    """Whole messages at the head of a TCP/TLS buffer, and how many bytes they used."""
    return sip_message.split_stream(buffer)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def received_lines(raw: bytes) -> str:
    """Base64 of the request's Via and Contact header lines and its body lines, as received
    (CRLF-joined): what the probe compares with what it sent, to see a SIP ALG's rewrites."""
    head, _, body = raw.partition(b"\r\n\r\n")
    kept = [
        line
        for line in head.split(b"\r\n")[1:]
        if line.partition(b":")[0].strip().lower() in _RECEIVED_NAMES
    ]
    kept += [line for line in body.split(b"\r\n") if line]
    return base64.b64encode(b"\r\n".join(kept)).decode()


def response(
    request: Request,
    code: int,
    reason: str,
    source: tuple[str, int],
    *,
    to_tag: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
    body: str = "",
    content_type: str = "application/sdp",
) -> bytes:
    """A response to ``request`` from ``source`` (RFC 3261 8.2.6): Via with ``received`` and
    ``rport``, From, To (with ``to_tag`` when it has none yet), Call-ID, CSeq."""
    lines = [f"SIP/2.0 {code} {reason}", f"Via: {top_via_with_source(request.vias[0], *source)}"]
    lines += [f"Via: {via}" for via in request.vias[1:]]
    if 100 < code < 300:
        lines += [f"Record-Route: {route}" for route in request.headers("record-route")]
    to_value = request.to_value
    if to_tag and not header_tag(to_value) and code != 100:
        to_value += f";tag={to_tag}"
    lines += [f"From: {request.from_value}", f"To: {to_value}"]
    lines += [f"Call-ID: {request.call_id}", f"CSeq: {request.cseq} {request.cseq_method}"]
    lines.append(f"Server: {SERVER}")
    lines += [f"{name}: {value}" for name, value in extra]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def source_header(source: tuple[str, int]) -> tuple[str, str]:
    return SOURCE_HEADER, hostport(*source)


@dataclass(frozen=True, slots=True)
class DialogIds:
    """What the responder needs to send a BYE in a dialog it answered (RFC 3261 12.1.1)."""

    call_id: str
    local: str  # our To header, with our tag: the BYE's From
    remote: str  # the caller's From header: the BYE's To
    remote_target: str  # the caller's Contact URI
    routes: tuple[str, ...]  # the Record-Route values, in order (the UAS's route set)


def dialog_ids(request: Request, local_tag: str) -> DialogIds:
    contacts = sip_message.split_header_list(request.header("contact") or "")
    contact = contacts[0] if contacts else ""
    if "<" in contact:
        target = contact[contact.find("<") + 1 : contact.find(">")]
    else:
        target = contact.split(";")[0].strip()
    routes: list[str] = []
    for value in request.headers("record-route"):
        routes += sip_message.split_header_list(value)
    local = (
        request.to_value if header_tag(request.to_value) else f"{request.to_value};tag={local_tag}"
    )
    return DialogIds(
        request.call_id, local, request.from_value, target or request.uri, tuple(routes)
    )


def bye_request(
    ids: DialogIds, cseq: int, via_host: str, via_port: int, transport: str, branch: str
) -> bytes:
    lines = [
        f"BYE {ids.remote_target} SIP/2.0",
        f"Via: SIP/2.0/{transport.upper()} {hostport(via_host, via_port)};branch={branch};rport",
        "Max-Forwards: 70",
        *(f"Route: {route}" for route in ids.routes),
        f"From: {ids.local}",
        f"To: {ids.remote}",
        f"Call-ID: {ids.call_id}",
        f"CSeq: {cseq} BYE",
        f"User-Agent: {SERVER}",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response_ids(raw: bytes) -> tuple[int, str, str] | None:
    """Status code, Call-ID and CSeq method of a response, or None."""
    message = _parse(raw)
    if message is None or message.status_code is None:
        return None
    return message.status_code, message.call_id, message.method
