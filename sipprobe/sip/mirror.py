"""The responder's mirror: it answers each request with the request itself, as it arrived.

Pure functions; the responder (``sipprobe.responder.server``) serves them on its own port or
on a port beside its SIP port, with the same transports and limits as its calls.

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

from sipprobe.model.endpoint import Endpoint
from sipprobe.sip.message import SipMessage

SOURCE_HEADER = "X-Sipprobe-Source"


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
    lines.append(f"{SOURCE_HEADER}: {Endpoint(*source)}")
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
    try:
        port = Endpoint.parse(sent_by, default_port=5060).port if sent_by else 5060
    except ValueError:
        port = 5060
    return source[0], port or 5060
