"""Media announced by the SDP in a capture: which RTP endpoints belong to which call and codec.

An SDP body says where its author wants to *receive* media; a stream sent to that address and
port is therefore labelled with the call and decoded with that section's payload map, which
beats guessing from the static payload-type table (dynamic types 96-127 have no static
meaning). The SIP and SDP are read by ``sipprobe.sip`` in its tolerant mode: a capture may
hold any garbage, and what cannot be read is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sipprobe.sip.codecs import CodecInfo, codec_by_name, codec_for_payload_type
from sipprobe.sip.message import parse_message
from sipprobe.sip.sdp import parse_sdp

__all__ = ["AnnouncedMedia", "announced_media", "codec_for", "media_of_sdp"]


@dataclass(frozen=True, slots=True)
class AnnouncedMedia:
    """One ``m=`` section found in a capture: where its author receives, and its payload map.

    Its fields are the ``sdp`` objects of ``sipprobe analyze --format json``.
    """

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


def media_of_sdp(
    body: str, *, call_id: str, message: str, arrival_s: float
) -> list[AnnouncedMedia]:
    """Every ``m=`` section with a usable connection address and a non-zero port."""
    found = []
    for section in parse_sdp(body, tolerant=True).media:
        receiver = section.receive_endpoint()
        if receiver is not None and receiver.port:
            found.append(
                AnnouncedMedia(
                    call_id=call_id,
                    message=message,
                    arrival_s=arrival_s,
                    media=section.media,
                    address=receiver.host,
                    port=receiver.port,
                    payload_types=section.payload_types,
                    rtpmap=tuple((m.payload_type, m.name, m.clock_rate) for m in section.rtpmap),
                    ptime_ms=section.ptime_ms,
                )
            )
    return found


def announced_media(payloads: Iterable[tuple[float, bytes]]) -> tuple[AnnouncedMedia, ...]:
    """All SDP media sections in (arrival time, UDP payload) pairs, in arrival order."""
    found: list[AnnouncedMedia] = []
    for arrival_s, data in payloads:
        # Quick noes: the start line holds SIP/2.0, and an SDP body needs application/sdp in
        # a Content-Type (most SIP messages in a capture have none).
        if b"SIP/2.0" not in data or b"sdp" not in data.lower():
            continue
        try:
            message = parse_message(data, tolerant=True)
        except ValueError:
            continue
        body = message.sdp_body()
        if body:
            found += media_of_sdp(
                body, call_id=message.call_id, message=message.first_line, arrival_s=arrival_s
            )
    return tuple(sorted(found, key=lambda m: m.arrival_s))


def codec_for(media: AnnouncedMedia | None, payload_type: int) -> CodecInfo | None:
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
