"""IP fragments put back together, so that a SIP message too big for one packet is read.

An INVITE whose SDP offers many codecs, or carries SRTP keys and ICE candidates, often goes
over the MTU on UDP and leaves in fragments; without them put back together its SDP (the
codec names and the call's media addresses) would be missing from the analysis. RTP is never
that large, so fragments are rare in a capture and are handled one by one in Python.

A datagram is complete when its fragments cover every byte from offset 0 to the end that the
last fragment (no "more fragments" flag) gives, under one key: source, destination,
identification and (IPv4) protocol. The first copy of an offset wins; a gap, a fragment cut by
the snap length, or a key unused for ``WINDOW_S`` (RFC 791's reassembly timer is of that
order) leaves the fragments unused and counted. The datagram is rebuilt as a plain IP packet
(no options or extension headers) and decoded like any other frame, at the time its last
fragment arrived.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["WINDOW_S", "Datagram", "Fragment", "fragments_in", "reassemble"]

I64 = NDArray[np.int64]

WINDOW_S = 30.0
_MAX_PAYLOAD = 65535 - 20  # what the rebuilt packet's 16-bit length fields can say


@dataclass(frozen=True, slots=True)
class Fragment:
    version: int  # 4 or 6
    src: bytes
    dst: bytes
    ident: int
    protocol: int  # IPv4 protocol, or the IPv6 fragment header's next header
    offset: int  # bytes
    more: bool
    data: bytes  # the fragment's part of the payload, as captured
    whole: bool  # False when the snap length cut it
    arrival_s: float
    tos: int  # IPv4 type of service, IPv6 traffic class
    ttl: int  # or hop limit

    @property
    def key(self) -> tuple[int, bytes, bytes, int, int]:
        return (self.version, self.src, self.dst, self.ident, self.protocol)


@dataclass(frozen=True, slots=True)
class Datagram:
    """A reassembled datagram as a raw IP packet (link type 228 for IPv4, 229 for IPv6)."""

    packet: bytes
    link_type: int
    arrival_s: float
    fragments: int


@dataclass(slots=True)
class _Pending:
    started_s: float
    parts: dict[int, Fragment] = field(default_factory=dict)
    end: int | None = None

    def payload(self) -> bytes | None:
        """The whole payload if the parts cover it without a gap, else None."""
        if self.end is None or 0 not in self.parts:
            return None
        pieces, reached = [], 0
        for offset in sorted(self.parts):
            part = self.parts[offset]
            if offset > reached or not part.whole:
                return None
            pieces.append(part.data[reached - offset :])
            reached = max(reached, offset + len(part.data))
            if reached >= self.end:
                return b"".join(pieces)[: self.end]
        return None


def reassemble(fragments: list[Fragment]) -> tuple[list[Datagram], int]:
    """The datagrams that came complete (in the order they did), and the fragments unused."""
    pending: dict[tuple[int, bytes, bytes, int, int], _Pending] = {}
    done: list[Datagram] = []
    unused = 0
    for fragment in fragments:
        key = fragment.key
        open_one = pending.get(key)
        if open_one is not None and fragment.arrival_s - open_one.started_s > WINDOW_S:
            unused += len(open_one.parts)
            open_one = None
        if open_one is None:
            open_one = pending[key] = _Pending(fragment.arrival_s)
        if fragment.offset in open_one.parts:
            unused += 1  # a second copy: the first one stands
            continue
        open_one.parts[fragment.offset] = fragment
        if not fragment.more:
            open_one.end = fragment.offset + len(fragment.data)
        payload = open_one.payload()
        if payload is not None:
            del pending[key]
            if len(payload) > _MAX_PAYLOAD:  # offsets near 64 KiB: no IP packet holds it
                unused += len(open_one.parts)
                continue
            done.append(_rebuilt(open_one.parts[0], payload, fragment.arrival_s, open_one))
    unused += sum(len(p.parts) for p in pending.values())
    return done, unused


def _rebuilt(first: Fragment, payload: bytes, arrival_s: float, whole: _Pending) -> Datagram:
    if first.version == 4:
        header = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            first.tos,
            20 + len(payload),
            first.ident,
            0,
            first.ttl,
            first.protocol,
            0,
            first.src,
            first.dst,
        )
        return Datagram(header + payload, 228, arrival_s, len(whole.parts))
    header = struct.pack(
        "!IHBB16s16s",
        (6 << 28) | (first.tos << 20),
        len(payload),
        first.protocol,
        first.ttl,
        first.src,
        first.dst,
    )
    return Datagram(header + payload, 229, arrival_s, len(whole.parts))


def fragments_in(
    buf: bytearray,
    rows: I64,
    ip: NDArray[np.void],
    version: I64,
    l3: I64,
    at: I64,
    remaining: I64,
    avail: I64,
    arrival: NDArray[np.float64],
) -> list[Fragment]:
    """The IP fragments at ``rows`` of a batch that ``frames`` decoded (``ip`` its gathered
    IP headers), one by one: they are rare (RTP never fragments).

    ``at`` is where the IPv4 payload or the IPv6 fragment header starts, ``remaining`` how
    many bytes the IP header says follow from there.
    """
    found = []
    for row in rows.tolist():
        head = ip[row]
        start, length, usable = (
            int(l3[row] + at[row]),
            int(remaining[row]),
            int(avail[row] - at[row]),
        )
        if version[row] == 4:
            flags = int(head["frag"])
            fields = (4, int(head["src"]).to_bytes(4, "big"), int(head["dst"]).to_bytes(4, "big"))
            ident, protocol = int(head["ident"]), int(head["proto"])
            offset, more, tos, ttl = (
                (flags & 0x1FFF) * 8,
                bool(flags & 0x2000),
                head["tos"],
                head["ttl"],
            )
        else:
            if usable < 8:
                continue
            protocol, _, flags, ident = struct.unpack_from("!BBHI", buf, start)
            fields = (6, bytes(head["src6"]), bytes(head["dst6"]))
            offset, more = flags & 0xFFF8, bool(flags & 1)
            tos = ((int(head["vihl"]) & 15) << 4) | (int(head["tos"]) >> 4)
            ttl = head["hop6"]
            start, length, usable = start + 8, length - 8, usable - 8
        data = bytes(buf[start : start + max(0, min(length, usable))])
        found.append(
            Fragment(
                *fields,
                ident=ident,
                protocol=protocol,
                offset=offset,
                more=more,
                data=data,
                whole=usable >= length,
                arrival_s=float(arrival[row]),
                tos=int(tos),
                ttl=int(ttl),
            )
        )
    return found
