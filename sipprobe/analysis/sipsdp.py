"""SIP and SDP found in captured UDP payloads: which RTP endpoints belong to which call and codec.

An SDP body says where its author wants to *receive* media (``c=`` address, ``m=`` port) and
what each payload type number means there (``a=rtpmap``, ``a=ptime``). A stream sent to that
address and port is therefore labelled with the call and decoded with that map, which beats
guessing from the static payload-type table (dynamic types 96-127 have no static meaning).

This is deliberately a reader, not a SIP stack: a message is split into a start line, headers
and body, and anything it cannot make sense of is ignored (a capture may hold any garbage).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sipprobe.analysis.codecs import CodecInfo, codec_by_name, codec_for_payload_type

__all__ = ["SdpMedia", "SipMessage", "codec_for", "parse_sdp", "parse_sip", "sdp_media_in"]

_COMPACT = {"i": "call-id", "c": "content-type", "l": "content-length"}
_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SipMessage:
    """A SIP request or response as seen on the wire (header names lower-case, compact forms
    expanded; a repeated header keeps its first value)."""

    start_line: str
    headers: dict[str, str]
    body: bytes

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id", "")


@dataclass(frozen=True, slots=True)
class SdpMedia:
    """One ``m=`` section of an SDP body: where its author receives, and its payload map."""

    call_id: str
    message: str  # start line of the SIP message that carried it, for evidence
    arrival_s: float  # same clock as ``UdpPackets.arrival_s``
    media: str  # "audio", "video", ...
    address: str  # connection address, normalised like the capture's address table
    port: int
    payload_types: tuple[int, ...]
    rtpmap: tuple[tuple[int, str, int], ...]  # (payload type, encoding name, clock rate)
    ptime_ms: float | None

    @property
    def endpoint(self) -> tuple[str, int]:
        return self.address, self.port


def parse_sip(data: bytes) -> SipMessage | None:
    """Split a datagram into a SIP start line, headers and body; ``None`` if it is not SIP."""
    if b"SIP/2.0" not in data:  # the start line holds it: a quick no for RTCP and other media
        return None
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").splitlines()
    if not lines or not (lines[0].startswith("SIP/2.0 ") or lines[0].endswith(" SIP/2.0")):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and not line[:1].isspace():
            key = name.strip().lower()
            headers.setdefault(_COMPACT.get(key, key), value.strip())
    length = headers.get("content-length", "").strip()
    if length.isdecimal():
        body = body[: int(length)]
    return SipMessage(lines[0].strip(), headers, body)


def _sdp_body(message: SipMessage) -> bytes | None:
    """The SDP in a message body, also as one part of a multipart body (SIP-I/SIP-T)."""
    content_type = message.headers.get("content-type", "").lower()
    if content_type.startswith("application/sdp"):
        return message.body
    match = _BOUNDARY.search(message.headers.get("content-type", ""))
    if content_type.startswith("multipart/") and match:
        for part in message.body.split(b"--" + match.group(1).encode()):
            part_head, _, part_body = part.partition(b"\r\n\r\n")
            if b"application/sdp" in part_head.lower():
                return part_body
    return None


def _address(text: str) -> str | None:
    """The connection address as the capture's address table writes it; None for on-hold."""
    try:
        address = ipaddress.ip_address(text.partition("/")[0])
    except ValueError:
        return text.lower() or None  # an FQDN: kept, though no packet will match it
    return None if address.is_unspecified else str(address)


@dataclass(slots=True)
class _Section:
    media: str = ""
    port: int = 0  # 0: rejected or unreadable, so it is dropped
    payload_types: tuple[int, ...] = ()
    address: str | None = None
    has_address: bool = False
    rtpmap: list[tuple[int, str, int]] = field(default_factory=list)
    ptime_ms: float | None = None


def parse_sdp(body: bytes, *, call_id: str, message: str, arrival_s: float) -> list[SdpMedia]:
    """Every ``m=`` section with a usable connection address and a non-zero port."""
    session_address: str | None = None
    sections: list[_Section] = []
    for raw in body.decode("utf-8", "replace").splitlines():
        kind, eq, value = raw.strip().partition("=")
        parts = value.split()
        if kind == "c" and len(parts) >= 3:
            if sections:
                sections[-1].address, sections[-1].has_address = _address(parts[2]), True
            else:
                session_address = _address(parts[2])
        elif kind == "m":
            port = parts[1].partition("/")[0] if len(parts) >= 3 else ""
            pts = tuple(int(p) for p in parts[3:] if p.isdecimal() and int(p) < 128)
            kind_of_media = parts[0] if parts else ""
            sections.append(_Section(kind_of_media, int(port) if port.isdecimal() else 0, pts))
        elif kind == "a" and eq and sections:
            _attribute(sections[-1], value)
    return [
        SdpMedia(
            call_id=call_id,
            message=message,
            arrival_s=arrival_s,
            media=section.media,
            address=address,
            port=section.port,
            payload_types=section.payload_types,
            rtpmap=tuple(section.rtpmap),
            ptime_ms=section.ptime_ms,
        )
        for section in sections
        if 0 < section.port < 65536
        and (address := section.address if section.has_address else session_address)
    ]


def _attribute(section: _Section, value: str) -> None:
    """Record ``a=rtpmap:<pt> <name>/<rate>`` and ``a=ptime:<ms>`` in a media section."""
    name, _, rest = value.partition(":")
    if name == "rtpmap":
        pt, _, encoding = rest.partition(" ")
        codec, _, rate = encoding.strip().partition("/")
        clock = rate.partition("/")[0]
        if pt.strip().isdecimal() and clock.isdecimal() and 0 < int(clock) < 10**7 and codec:
            section.rtpmap.append((int(pt), codec, int(clock)))
    elif name == "ptime":
        try:
            ptime = float(rest)
        except ValueError:
            return
        if 0 < ptime < 1000:
            section.ptime_ms = ptime


def sdp_media_in(payloads: Iterable[tuple[float, bytes]]) -> tuple[SdpMedia, ...]:
    """All SDP media sections in (arrival time, UDP payload) pairs, in arrival order."""
    found: list[SdpMedia] = []
    for arrival_s, data in payloads:
        message = parse_sip(data)
        body = None if message is None else _sdp_body(message)
        if message is not None and body:
            found += parse_sdp(
                body, call_id=message.call_id, message=message.start_line, arrival_s=arrival_s
            )
    return tuple(sorted(found, key=lambda m: m.arrival_s))


def codec_for(media: SdpMedia | None, payload_type: int) -> CodecInfo | None:
    """The codec a payload type means in an SDP section, else in RFC 3551's static table."""
    codec = None
    for pt, name, clock_rate in media.rtpmap if media is not None else ():
        if pt == payload_type:
            codec = codec_by_name(name, clock_rate)
            break
    else:
        codec = codec_for_payload_type(payload_type)
    if codec is not None and media is not None and media.ptime_ms is not None:
        codec = replace(codec, ptime_ms=media.ptime_ms)
    return codec
