"""The one SDP reader (RFC 4566, RFC 3264): where each media stream is received, and how.

An SDP body says where its author wants to *receive* media (``c=`` address, ``m=`` port),
over which profile (``RTP/AVP``, or ``RTP/SAVP`` with ``a=crypto`` keys for SRTP), what each
payload type number means there (``a=rtpmap``, else the static table of
``sipprobe.sip.codecs``), the packetisation (``a=ptime``) and the direction
(``a=sendrecv|sendonly|recvonly|inactive``, per media section or for the whole session).

Two modes, as for SIP messages: strict (the default, for the probe's own offers and the
answers to them) raises ``ValueError`` with a sentence for a line it cannot read; tolerant
(SDP found in a capture) skips such lines, and a media line it cannot read still starts a
section, with port 0, so that the lines after it are not taken for the section before.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from sipprobe.model.endpoint import Endpoint
from sipprobe.sip.codecs import CodecInfo, codec_by_name, codec_for_payload_type

__all__ = ["DIRECTIONS", "MediaDescription", "RtpMap", "SessionDescription", "parse_sdp"]

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_MAX_CLOCK_RATE = 10**7
_MAX_PTIME_MS = 1000.0


@dataclass(frozen=True, slots=True)
class RtpMap:
    """``a=rtpmap:<payload type> <name>/<clock rate>[/<parameters>]``."""

    payload_type: int
    name: str
    clock_rate: int

    @property
    def codec(self) -> CodecInfo:
        return codec_by_name(self.name, self.clock_rate)


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One ``m=`` section: media, port (0: rejected), profile, formats and attributes."""

    media: str  # "audio", "video", ...
    port: int
    proto: str  # "RTP/AVP", "RTP/SAVP", ...; "" when tolerant mode could not read the line
    formats: tuple[str, ...]
    connection: str | None  # this section's c= address, else the session's (no /ttl)
    rtpmap: tuple[RtpMap, ...]
    ptime_ms: float | None
    direction: str  # one of DIRECTIONS: the section's, else the session's, else sendrecv
    crypto: tuple[str, ...]  # a=crypto values (SDES keys, RFC 4568): redact before showing

    def receive_endpoint(self) -> Endpoint | None:
        """Where the author receives this media: the connection address in its canonical
        form (as a capture's address table writes it; a name lower-cased) and the port; None
        when the section is rejected (port 0) or on hold (address 0.0.0.0 or ::)."""
        if not self.port or not self.connection:
            return None
        try:
            address = ipaddress.ip_address(self.connection)
        except ValueError:
            return Endpoint(self.connection.lower(), self.port)  # no packet will match a name
        return None if address.is_unspecified else Endpoint(str(address), self.port)

    @property
    def payload_types(self) -> tuple[int, ...]:
        """The formats that are RTP payload type numbers (0-127), in order."""
        return tuple(int(f) for f in self.formats if f.isdecimal() and int(f) < 128)

    @property
    def secure(self) -> bool:
        """Whether the profile is SRTP (RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP)."""
        return "SAVP" in self.proto.upper()

    def codec(self, payload_type: int) -> CodecInfo | None:
        """What ``payload_type`` means here: its rtpmap, else RFC 3551's static table."""
        for entry in self.rtpmap:
            if entry.payload_type == payload_type:
                return entry.codec
        return codec_for_payload_type(payload_type)

    def codec_names(self) -> tuple[str, ...]:
        """``name/clock rate`` of each payload type in offered order (``pt<n>`` if unknown)."""
        named = []
        for pt in self.payload_types:
            mapped = next((m for m in self.rtpmap if m.payload_type == pt), None)
            static = codec_for_payload_type(pt)
            if mapped is not None:
                named.append(f"{mapped.name}/{mapped.clock_rate}")
            else:
                named.append(static.encoding if static is not None else f"pt{pt}")
        return tuple(named)


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A whole SDP body: the origin's address, the session's connection, its media."""

    origin_address: str | None
    connection: str | None
    media: tuple[MediaDescription, ...]

    @property
    def audio(self) -> MediaDescription | None:
        """The first audio section, the one a voice call uses."""
        return next((m for m in self.media if m.media == "audio"), None)


@dataclass(slots=True)
class _Section:
    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    connection: str | None = None
    rtpmap: list[RtpMap] = field(default_factory=list)
    ptime_ms: float | None = None
    direction: str | None = None
    crypto: list[str] = field(default_factory=list)


def parse_sdp(text: str, *, tolerant: bool = False) -> SessionDescription:
    """Read an SDP body; raises ValueError with a sentence for a line it cannot read (in
    tolerant mode, only for nothing: such lines are skipped)."""
    session = _Section("", 0, "", ())
    origin: str | None = None
    sections: list[_Section] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        kind, eq, value = line.partition("=")
        try:
            if not eq or len(kind) != 1:
                raise ValueError(f"SDP line {line[:60]!r} is not <type>=<value>")
            if kind == "m":
                sections.append(_media_line(value, tolerant=tolerant))
            elif kind == "c":
                (sections[-1] if sections else session).connection = _connection(value)
            elif kind == "o":
                origin = _origin(value)
            elif kind == "a":
                _attribute(sections[-1] if sections else session, value)
        except ValueError:
            if not tolerant:
                raise
            if kind == "m":  # keeps the lines after it out of the section before
                sections.append(_Section(_first(value), 0, "", ()))
    return SessionDescription(
        origin_address=origin,
        connection=session.connection,
        media=tuple(
            MediaDescription(
                media=s.media,
                port=s.port,
                proto=s.proto,
                formats=s.formats,
                connection=s.connection if s.connection is not None else session.connection,
                rtpmap=tuple(s.rtpmap),
                ptime_ms=s.ptime_ms,
                direction=s.direction or session.direction or "sendrecv",
                crypto=tuple(s.crypto),
            )
            for s in sections
        ),
    )


def _first(value: str) -> str:
    parts = value.split()
    return parts[0] if parts else ""


def _media_line(value: str, *, tolerant: bool) -> _Section:
    """``m=<media> <port>[/<count>] <proto> <format> ...``; tolerant of unreadable formats
    (``payload_types`` skips them)."""
    parts = value.split()
    if len(parts) < 3:
        raise ValueError(f"SDP media line 'm={value[:60]}' has no media, port and profile")
    port = parts[1].partition("/")[0]
    if not (port.isdecimal() and int(port) < 65536):
        raise ValueError(f"SDP media line 'm={value[:60]}' has no port from 0 to 65535")
    formats = tuple(parts[3:])
    if (
        not tolerant
        and parts[2].upper().startswith("RTP/")
        and not all(f.isdecimal() and int(f) < 128 for f in formats)
    ):
        raise ValueError(f"SDP media line 'm={value[:60]}' has a payload type outside 0-127")
    return _Section(parts[0], int(port), parts[2], formats)


def _connection(value: str) -> str:
    """``c=IN IP4 <address>[/<ttl>]``: the address."""
    parts = value.split()
    if len(parts) < 3:
        raise ValueError(f"SDP connection line 'c={value[:60]}' has no address")
    return parts[2].partition("/")[0]


def _origin(value: str) -> str:
    """``o=<user> <session> <version> IN IP4 <address>``: the address."""
    parts = value.split()
    if len(parts) < 6:
        raise ValueError(f"SDP origin line 'o={value[:60]}' has fewer than six fields")
    return parts[5]


def _attribute(section: _Section, value: str) -> None:
    name, _, rest = value.partition(":")
    if name == "rtpmap":
        section.rtpmap.append(_rtpmap(rest))
    elif name == "ptime":
        section.ptime_ms = _ptime(rest)
    elif name in DIRECTIONS:
        section.direction = name
    elif name == "crypto":
        section.crypto.append(rest.strip())


def _rtpmap(text: str) -> RtpMap:
    pt, _, encoding = text.partition(" ")
    name, _, rate = encoding.strip().partition("/")
    clock = rate.partition("/")[0]
    if not (pt.strip().isdecimal() and clock.isdecimal() and 0 < int(clock) < _MAX_CLOCK_RATE):
        raise ValueError(f"SDP attribute 'a=rtpmap:{text[:60]}' has no payload type and rate")
    if not name:
        raise ValueError(f"SDP attribute 'a=rtpmap:{text[:60]}' has no encoding name")
    return RtpMap(int(pt), name, int(clock))


def _ptime(text: str) -> float:
    try:
        ptime = float(text)
    except ValueError:
        ptime = 0.0
    if not 0 < ptime < _MAX_PTIME_MS:
        raise ValueError(f"SDP attribute 'a=ptime:{text[:60]}' is not a packet time in ms")
    return ptime
