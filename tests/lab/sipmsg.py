"""Just enough SIP to poke lab peers from tests: build requests, parse responses.

This is a test oracle, deliberately independent of sipprobe's own stack.
"""

import secrets
from dataclasses import dataclass, replace

Header = tuple[str, str]

_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
}
_COMPACT.update({"c": "content-type", "k": "supported", "s": "subject", "e": "content-encoding"})


def new_branch() -> str:
    return "z9hG4bK-lab-" + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def _values(headers: tuple[Header, ...], name: str) -> tuple[str, ...]:
    wanted = _COMPACT.get(name.lower(), name.lower())
    return tuple(v for n, v in headers if _COMPACT.get(n.lower(), n.lower()) == wanted)


@dataclass(frozen=True, slots=True)
class SipRequest:
    """A request as sent; Content-Length is computed when it is serialised."""

    method: str
    uri: str
    headers: tuple[Header, ...]
    body: str = ""

    def header(self, name: str) -> str | None:
        values = _values(self.headers, name)
        return values[0] if values else None

    def with_header(self, name: str, value: str) -> "SipRequest":
        """A copy with `name` set to `value` (replacing it if present)."""
        kept = tuple((n, v) for n, v in self.headers if n.lower() != name.lower())
        return replace(self, headers=(*kept, (name, value)))

    def next_transaction(self) -> "SipRequest":
        """The same request as a new transaction: CSeq + 1 and a fresh Via branch."""
        cseq = int((self.header("CSeq") or "1").split()[0]) + 1
        via = (self.header("Via") or "").split(";branch=")[0] + f";branch={new_branch()};rport"
        return self.with_header("Via", via).with_header("CSeq", f"{cseq} {self.method}")

    def __bytes__(self) -> bytes:
        body = self.body.encode()
        lines = [f"{self.method} {self.uri} SIP/2.0"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True, slots=True)
class SipResponse:
    """A parsed response: status line, headers in order, body."""

    status: int
    reason: str
    headers: tuple[Header, ...]
    body: str

    @classmethod
    def parse(cls, data: bytes) -> "SipResponse":
        text = data.decode("utf-8", errors="replace")
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if version != "SIP/2.0":
            raise ValueError(f"not a SIP response: {lines[0]!r}")
        code, _, reason = rest.partition(" ")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"SIP header line without colon: {line!r}")
            headers.append((name.strip(), value.strip()))
        return cls(int(code), reason, tuple(headers), body)

    def header(self, name: str) -> str | None:
        values = _values(self.headers, name)
        return values[0] if values else None

    def header_all(self, name: str) -> tuple[str, ...]:
        return _values(self.headers, name)


def new_request(
    method: str,
    uri: str,
    *,
    transport: str,
    local: tuple[str, int],
    from_uri: str,
    to_uri: str,
    extra: tuple[Header, ...] = (),
    body: str = "",
) -> SipRequest:
    """An out-of-dialog request with fresh Call-ID, tag and branch; CSeq 1."""
    host, port = local
    sent_by = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    headers: tuple[Header, ...] = (
        ("Via", f"SIP/2.0/{transport.upper()} {sent_by};branch={new_branch()};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<{from_uri}>;tag={new_tag()}"),
        ("To", f"<{to_uri}>"),
        ("Call-ID", f"{secrets.token_hex(10)}@lab"),
        ("CSeq", f"1 {method}"),
        *extra,
    )
    return SipRequest(method, uri, headers, body)


def ack_for(invite: SipRequest, response: SipResponse) -> SipRequest:
    """The hop-by-hop ACK for a non-2xx final response to `invite` (RFC 3261 17.1.1.3)."""
    cseq = (invite.header("CSeq") or "1").split()[0]
    headers = (
        ("Via", invite.header("Via") or ""),
        ("Max-Forwards", "70"),
        ("From", invite.header("From") or ""),
        ("To", response.header("To") or ""),
        ("Call-ID", invite.header("Call-ID") or ""),
        ("CSeq", f"{cseq} ACK"),
    )
    return SipRequest("ACK", invite.uri, headers)


def in_dialog(
    method: str, invite: SipRequest, response: SipResponse, *, cseq: int | None = None
) -> SipRequest:
    """ACK (for a 2xx) or BYE in the dialog that `response` to `invite` created."""
    contact = (response.header("Contact") or "").strip()
    target = contact[contact.find("<") + 1 : contact.find(">")] if "<" in contact else contact
    routes = [
        entry.strip()
        for value in reversed(response.header_all("Record-Route"))
        for entry in reversed(value.split(","))
    ]
    invite_cseq = int((invite.header("CSeq") or "1").split()[0])
    number = invite_cseq if method == "ACK" else (cseq or invite_cseq + 1)
    via = (invite.header("Via") or "").split(";branch=")[0] + f";branch={new_branch()};rport"
    headers: list[Header] = [
        ("Via", via),
        ("Max-Forwards", "70"),
        ("From", invite.header("From") or ""),
        ("To", response.header("To") or ""),
        ("Call-ID", invite.header("Call-ID") or ""),
        ("CSeq", f"{number} {method}"),
    ]
    headers += [("Route", route) for route in routes]
    return SipRequest(method, target, tuple(headers))


def cancel_for(invite: SipRequest) -> SipRequest:
    """The CANCEL of a pending `invite` (RFC 3261 9.1): same Via, URI, tags and CSeq number."""
    cseq = (invite.header("CSeq") or "1").split()[0]
    headers = (
        ("Via", invite.header("Via") or ""),
        ("Max-Forwards", "70"),
        ("From", invite.header("From") or ""),
        ("To", invite.header("To") or ""),
        ("Call-ID", invite.header("Call-ID") or ""),
        ("CSeq", f"{cseq} CANCEL"),
    )
    return SipRequest("CANCEL", invite.uri, headers)
