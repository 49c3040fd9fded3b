"""The one reader of SIP messages as text (RFC 3261 section 7), in two modes.

The probe never builds requests from this (pjsua2 does that); it reads what went over the
wire so timings, status codes and headers come from the messages themselves, and the capture
analysis reads the SIP it finds in a pcap with the same code. Where the two uses want
different things, the mode decides:

- strict (the default: the probe's own messages and their answers, one message already framed
  by its datagram, its stream's Content-Length or the stack's log): a start line that is not a
  request or status line, or a header line without a name, raises ``ValueError``; the body is
  everything after the blank line, so a wrong Content-Length shows instead of being hidden.
- tolerant (``tolerant=True``: captures, which may hold anything): a request or status line is
  recognised by its ``SIP/2.0`` alone, a line that is not a header is skipped, the body is cut
  at Content-Length (RFC 3261 18.3: a datagram may carry padding), and bytes that are not
  UTF-8 are replaced. What is not SIP at all still raises ``ValueError``.

In both modes repeated headers are all kept in order (``header`` gives the first, as RFC 3261
20 asks of single-valued headers), folded lines are joined, compact forms are expanded, and a
body's line ends are ``\n``. A multipart body (SIP-I/SIP-T) is searched for its SDP part by
``sdp_body``. It is pure code with no pjsua2 import, so it is unit-tested on its own.
"""

from __future__ import annotations

import functools
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
    "x": "session-expires",  # RFC 4028 4
}

_STATUS_LINE = re.compile(r"^SIP/2\.0 (\d{3}) ?(.*)$")
_REQUEST_LINE = re.compile(r"^([A-Za-z]+) (\S+) SIP/2\.0$")
_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)
_DIGEST_SECRET = re.compile(r'(\b(?:response|cnonce)\s*=\s*)("[^"]*"|[^,\s]+)', re.IGNORECASE)
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")


@dataclass(frozen=True, slots=True)
class SipMessage:
    """A parsed SIP message: start line, headers in order (names lower-cased), body."""

    first_line: str
    method: str  # request method, or the CSeq method of a response ("" when unknown)
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

    def sdp_body(self) -> str | None:
        """The SDP the message carries: its body, or the ``application/sdp`` part of a
        multipart body; None without one."""
        content_type = self.header("content-type") or ""
        lowered = content_type.lower()
        if lowered.startswith("application/sdp"):
            return self.body
        match = _BOUNDARY.search(content_type)
        if lowered.startswith("multipart/") and match:
            for part in self.body.split("--" + match.group(1)):
                part_head, _, part_body = part.partition("\n\n")
                if "application/sdp" in part_head.lower():
                    return part_body
        return None


@functools.lru_cache(maxsize=256)
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


def parse_message(data: str | bytes, *, tolerant: bool = False) -> SipMessage:
    """Parse one SIP message; raises ValueError with a sentence when it is not one.

    ``tolerant`` reads a message found in a capture (see the module docstring).
    """
    if tolerant:
        return _parse_captured(data if isinstance(data, bytes) else data.encode("utf-8", "replace"))
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"SIP message is not UTF-8 at byte {exc.start}") from exc
    head, _, body = data.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    first = lines[0].strip()
    if not first:
        raise ValueError("SIP message has an empty start line")
    return _message(first, _headers(lines[1:], tolerant=False), body, tolerant=False)


def _parse_captured(data: bytes) -> SipMessage:
    if b"SIP/2.0" not in data:  # the start line holds it: a quick no for RTCP and other media
        raise ValueError("not a SIP message: no SIP/2.0 in it")
    head, sep, raw_body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, raw_body = data.partition(b"\n\n")
    # Any line break splits a captured head: what is not a header line is skipped anyway.
    lines = head.decode("utf-8", "replace").splitlines()
    if not lines or not (lines[0].startswith("SIP/2.0 ") or lines[0].endswith(" SIP/2.0")):
        raise ValueError("not a SIP message: its first line is no request or status line")
    headers = _headers(lines[1:], tolerant=True)
    length = next((v for k, v in headers if k == "content-length"), "").strip()
    if length.isdecimal():
        raw_body = raw_body[: int(length)]
    body = raw_body.decode("utf-8", "replace").replace("\r\n", "\n")
    return _message(lines[0].strip(), headers, body, tolerant=True)


def _headers(lines: list[str], *, tolerant: bool) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        name, sep, value = line.partition(":")
        key = name.strip().lower()
        folded = bool(headers) and line[:1] in (" ", "\t")
        if sep and key and not folded and not (tolerant and line[0].isspace()):
            headers.append((_COMPACT.get(key, key), value.strip()))
        elif not line.strip():
            continue
        elif folded:  # a continuation line (RFC 3261 7.3.1)
            previous, start = headers[-1]
            headers[-1] = (previous, f"{start} {line.strip()}")
        elif not tolerant:
            raise ValueError(f"SIP header line has no name: {line[:60]!r}")
    return tuple(headers)


def _message(
    first: str, headers: tuple[tuple[str, str], ...], body: str, *, tolerant: bool
) -> SipMessage:
    cseq_method = ""
    for key, value in headers:
        if key == "cseq":
            fields = value.split()
            cseq_method = fields[1].upper() if len(fields) > 1 else ""
            break
    status = _STATUS_LINE.match(first)
    if status:
        code, reason = int(status.group(1)), status.group(2).strip()
        return SipMessage(first, cseq_method, code, reason, None, headers, body)
    request = _REQUEST_LINE.match(first)
    if request:
        method, uri = request.group(1).upper(), request.group(2)
        return SipMessage(first, method, None, "", uri, headers, body)
    if not tolerant:
        raise ValueError(f"not a SIP start line: {first[:60]!r}")
    return SipMessage(first, "", None, "", None, headers, body)


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
