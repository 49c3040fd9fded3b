"""A small, strict reader for SIP messages as text (RFC 3261 section 7).

The probe never builds requests from this (pjsua2 does that); it reads what went over the
wire so timings, status codes and headers come from the messages themselves. It is pure code
with no pjsua2 import, so it is unit-tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 3261 7.3.3 compact header forms.
_COMPACT = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "k": "supported",
    "s": "subject",
    "t": "to",
    "v": "via",
}

_STATUS_LINE = re.compile(r"^SIP/2\.0 (\d{3}) ?(.*)$")
_REQUEST_LINE = re.compile(r"^([A-Za-z]+) (\S+) SIP/2\.0$")
_DIGEST_SECRET = re.compile(r'(\b(?:response|cnonce)\s*=\s*)("[^"]*"|[^,\s]+)', re.IGNORECASE)
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")


@dataclass(frozen=True, slots=True)
class SipMessage:
    """A parsed SIP message: start line, headers in order (names lower-cased), body."""

    first_line: str
    method: str  # request method, or the CSeq method of a response
    status_code: int | None
    reason: str
    request_uri: str | None
    headers: tuple[tuple[str, str], ...]
    body: str

    def header(self, name: str) -> str | None:
        """The first value of a header (compact forms understood), or None."""
        wanted = _canonical(name)
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every value of a header, comma-separated lists split where it is safe to do so."""
        wanted = _canonical(name)
        values: list[str] = []
        for key, value in self.headers:
            if key == wanted:
                values.extend(split_header_list(value))
        return tuple(values)

    @property
    def call_id(self) -> str:
        return self.header("call-id") or ""

    @property
    def cseq_number(self) -> int | None:
        cseq = self.header("cseq")
        if not cseq:
            return None
        number = cseq.split()[0]
        return int(number) if number.isdigit() else None


def _canonical(name: str) -> str:
    lowered = name.strip().lower()
    return _COMPACT.get(lowered, lowered)


def split_header_list(value: str) -> list[str]:
    """Split a comma-separated header value, ignoring commas inside quotes and <...>."""
    parts: list[str] = []
    depth_angle = 0
    in_quotes = False
    start = 0
    for i, char in enumerate(value):
        if char == '"' and (i == 0 or value[i - 1] != "\\"):
            in_quotes = not in_quotes
        elif not in_quotes and char == "<":
            depth_angle += 1
        elif not in_quotes and char == ">":
            depth_angle = max(0, depth_angle - 1)
        elif char == "," and not in_quotes and depth_angle == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def parse_message(text: str) -> SipMessage:
    """Parse one SIP message; raises ValueError with a sentence when it is not one."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    first = lines[0].strip()
    if not first:
        raise ValueError("SIP message has an empty start line")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        if line[0] in " \t" and headers:  # folded continuation line
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"SIP header line has no name: {line[:60]!r}")
        headers.append((_canonical(name), value.strip()))
    status = _STATUS_LINE.match(first)
    cseq_method = ""
    for key, value in headers:
        if key == "cseq":
            fields = value.split()
            cseq_method = fields[1].upper() if len(fields) > 1 else ""
            break
    if status:
        return SipMessage(
            first_line=first,
            method=cseq_method,
            status_code=int(status.group(1)),
            reason=status.group(2).strip(),
            request_uri=None,
            headers=tuple(headers),
            body=body,
        )
    request = _REQUEST_LINE.match(first)
    if not request:
        raise ValueError(f"not a SIP start line: {first[:60]!r}")
    return SipMessage(
        first_line=first,
        method=request.group(1).upper(),
        status_code=None,
        reason="",
        request_uri=request.group(2),
        headers=tuple(headers),
        body=body,
    )


def redact(text: str) -> str:
    """Hide the secret-derived parts of Authorization and Proxy-Authorization headers.

    The digest ``response`` (and ``cnonce``) would let anyone holding the log test password
    guesses offline, so they become ``<redacted>``; username, realm and uri stay because a
    support engineer needs them to see a wrong user or realm.
    """
    out: list[str] = []
    for line in text.split("\n"):
        name, sep, _ = line.partition(":")
        if sep and name.strip().lower() in _CREDENTIAL_HEADERS:
            hidden = _DIGEST_SECRET.sub(r'\1"<redacted>"', line)
            if "digest" not in hidden.lower():  # Basic or unknown schemes: hide it all
                hidden = f"{name}: <redacted>"
            out.append(hidden)
        else:
            out.append(line)
    return "\n".join(out)


def sdp_codecs(body: str) -> tuple[str, ...]:
    """Codec names (``PCMU/8000``) of the first audio m= line of an SDP body, in order."""
    payload_types: list[str] = []
    rtpmap: dict[str, str] = {}
    in_audio = False
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("m="):
            if in_audio:
                break
            fields = line[2:].split()
            in_audio = bool(fields) and fields[0] == "audio"
            payload_types = fields[3:] if in_audio else []
        elif in_audio and line.startswith("a=rtpmap:"):
            pt, _, encoding = line[len("a=rtpmap:") :].partition(" ")
            rtpmap[pt] = encoding.strip()
    static = {
        "0": "PCMU/8000",
        "8": "PCMA/8000",
        "9": "G722/8000",
        "3": "GSM/8000",
        "18": "G729/8000",
        "13": "CN/8000",
    }
    return tuple(rtpmap.get(pt, static.get(pt, f"pt{pt}")) for pt in payload_types)


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


_CONTACT_HOSTPORT = re.compile(r"sips?:(?:[^@;>]+@)?(\[[^\]]+\]|[^;>:]+)(?::(\d+))?", re.IGNORECASE)


def contact_hostport(value: str) -> str | None:
    """``host:port`` of the URI in a Contact value (port 5060 when none is written)."""
    match = _CONTACT_HOSTPORT.search(value)
    if match is None:
        return None
    return f"{match.group(1).lower()}:{match.group(2) or 5060}"
