"""The SDP answer of a packet reflector (RFC 3264): one audio stream, the offer's codec.

The responder answers with the offer's first codec it can reflect or play (PCMU, PCMA,
G722; in tone mode only G.711, which it generates), keeps the offer's payload type numbers,
echoes RFC 4733 telephone-event when offered, and for SRTP (SDES) answers with the offer's
own first crypto attribute: the reflected packets then decrypt at the caller, which encrypted
them. Other media lines are refused with port 0, as RFC 3264 6 asks.
"""

from __future__ import annotations

from dataclasses import dataclass

ECHO_CODECS = ("PCMU/8000", "PCMA/8000", "G722/8000")
TONE_CODECS = ("PCMU/8000", "PCMA/8000")
_STATIC = {"0": "PCMU/8000", "8": "PCMA/8000", "9": "G722/8000"}
_SECURE_PROFILES = ("RTP/SAVP", "RTP/SAVPF")
_PLAIN_PROFILES = ("RTP/AVP", "RTP/AVPF")


class OfferError(ValueError):
    """The offer cannot be answered (488 Not Acceptable Here); the text says why."""


@dataclass(frozen=True, slots=True)
class _MediaLine:
    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    attributes: tuple[str, ...]  # a= values, without "a="


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What the answer agreed on."""

    payload_type: int
    codec: str  # e.g. "PCMU/8000"
    dtmf_payload_type: int | None
    crypto: str | None  # the crypto attribute value taken from the offer (SRTP), or None
    ipv6: bool  # the offer's connection address family
    address: str  # the offer's connection address (never sent to: only its family matters)


def _parse(body: str) -> tuple[list[str], list[_MediaLine], str]:
    session: list[str] = []
    media: list[_MediaLine] = []
    address = ""
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "c" and (not address or media):
            fields = value.split()
            address = fields[2].split("/")[0] if len(fields) >= 3 else address
        if kind == "m":
            fields = value.split()
            if len(fields) < 4 or not fields[1].split("/")[0].isdigit():
                raise OfferError(f"malformed m= line: {line[:60]!r}")
            media.append(
                _MediaLine(
                    fields[0], int(fields[1].split("/")[0]), fields[2], tuple(fields[3:]), ()
                )
            )
        elif kind == "a":
            if not media:
                session.append(value)
            else:
                last = media[-1]
                media[-1] = _MediaLine(
                    last.media, last.port, last.proto, last.formats, (*last.attributes, value)
                )
    return session, media, address


def _rtpmap(line: _MediaLine) -> dict[str, str]:
    found = dict(_STATIC)
    for attribute in line.attributes:
        if attribute.startswith("rtpmap:"):
            pt, _, encoding = attribute[len("rtpmap:") :].partition(" ")
            name, _, rate = encoding.strip().partition("/")
            found[pt] = f"{name.upper()}/{rate.split('/')[0]}"
    return found


def negotiate(offer: str, codecs: tuple[str, ...], srtp: str) -> tuple[Negotiated, int]:
    """Pick the codec and crypto for ``offer``; returns them and the audio line's index.

    ``srtp`` is off, optional or mandatory; raises ``OfferError`` when nothing fits.
    """
    session, media, address = _parse(offer)
    audio = [i for i, line in enumerate(media) if line.media == "audio" and line.port > 0]
    if not audio:
        raise OfferError("no audio stream offered")
    index = audio[0]
    line = media[index]
    secure = line.proto.upper() in _SECURE_PROFILES
    if not secure and line.proto.upper() not in _PLAIN_PROFILES:
        raise OfferError(f"transport {line.proto} not supported")
    cryptos = [a[len("crypto:") :] for a in (*line.attributes, *session) if a.startswith("crypto:")]
    crypto: str | None = None
    if secure or (srtp != "off" and cryptos):
        if srtp == "off":
            raise OfferError("SRTP offered, and this responder runs with --srtp off")
        if not cryptos:
            raise OfferError("SRTP without an SDES crypto attribute")
        crypto = cryptos[0]
    elif srtp == "mandatory":
        raise OfferError("no SRTP offered, and this responder requires it")
    names = _rtpmap(line)
    chosen = next((pt for pt in line.formats if names.get(pt) in codecs), None)
    if chosen is None or not chosen.isdigit():
        raise OfferError("none of the offered codecs is one of " + ", ".join(codecs))
    dtmf = next(
        (pt for pt in line.formats if names.get(pt, "").startswith("TELEPHONE-EVENT/8000")),
        None,
    )
    negotiated = Negotiated(
        int(chosen),
        names[chosen],
        int(dtmf) if dtmf and dtmf.isdigit() else None,
        crypto,
        ":" in address,
        address or "0.0.0.0",
    )
    return negotiated, index


_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_ANSWERED = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly"}


def offer_direction(offer: str) -> str:
    """The direction the offer asks for its audio (RFC 3264 5.1): the first audio section's
    attribute, else the session's, else sendrecv."""
    session, media, _address = _parse(offer)
    audio = next((line for line in media if line.media == "audio" and line.port > 0), None)
    for attributes in ((audio.attributes if audio else ()), tuple(session)):
        found = next((a for a in attributes if a in _DIRECTIONS), None)
        if found is not None:
            return found
    return "sendrecv"


def answer_direction(offered: str) -> str:
    """RFC 3264 6.1: sendonly is answered recvonly, recvonly sendonly, inactive inactive."""
    return _ANSWERED.get(offered, "inactive")


def with_direction(answer_sdp: str, direction: str, version: int) -> str:
    """The answer with its audio direction and its o= version changed (RFC 3264 8: a changed
    session description has a higher version)."""
    lines = []
    for line in answer_sdp.split("\r\n"):
        if line.startswith("a=") and line[2:] in _DIRECTIONS:
            lines.append(f"a={direction}")
        elif line.startswith("o="):
            fields = line.split(" ")
            lines.append(" ".join((*fields[:2], str(version), *fields[3:])))
        else:
            lines.append(line)
    return "\r\n".join(lines)


def answer(
    offer: str, negotiated: Negotiated, index: int, address: str, port: int, session_id: int
) -> str:
    """The SDP answer to ``offer`` with media at ``address``:``port``."""
    _session, media, _address = _parse(offer)
    family = "IP6" if ":" in address else "IP4"
    lines = [
        "v=0",
        f"o=sipprobe {session_id} {session_id} IN {family} {address}",
        "s=sipprobe",
        f"c=IN {family} {address}",
        "t=0 0",
    ]
    for position, line in enumerate(media):
        if position != index:
            lines.append(f"m={line.media} 0 {line.proto} {line.formats[0] if line.formats else 0}")
            continue
        formats = [str(negotiated.payload_type)]
        if negotiated.dtmf_payload_type is not None:
            formats.append(str(negotiated.dtmf_payload_type))
        lines.append(f"m=audio {port} {line.proto} {' '.join(formats)}")
        lines.append(f"a=rtpmap:{negotiated.payload_type} {negotiated.codec}")
        if negotiated.dtmf_payload_type is not None:
            dtmf = negotiated.dtmf_payload_type
            lines.append(f"a=rtpmap:{dtmf} telephone-event/8000")
            fmtp = next((a for a in line.attributes if a.startswith(f"fmtp:{dtmf} ")), None)
            lines.append(f"a={fmtp}" if fmtp else f"a=fmtp:{dtmf} 0-16")
        lines.append("a=ptime:20")
        lines.append("a=sendrecv")
        if negotiated.crypto is not None:
            lines.append(f"a=crypto:{negotiated.crypto}")
    return "\r\n".join(lines) + "\r\n"
