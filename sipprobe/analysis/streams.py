"""Group captured RTP packets into streams and decide which groups really are RTP.

A stream is keyed by (source address, source port, destination address, destination port,
SSRC), as MEASUREMENT.md says. Which UDP datagrams are RTP at all is decided in this order:

1. an endpoint announced in SDP (``c=``/``m=``) seen in the capture: RTP by the call's word,
   labelled with its Call-ID and decoded with its ``a=rtpmap``;
2. a port the user named (``--rtp-port``), for captures without signalling;
3. otherwise heuristics, because any UDP payload whose first byte is 0x80-0xBF parses as an
   RTP header: at least ``MIN_PACKETS`` packets of one SSRC, most sequence steps small and
   forward, and not RTCP's packet types (72-79 once the marker bit is taken off).

Grouping is vectorised: one hash-based ``np.unique`` over packed keys, then a stable radix
sort of small group numbers, so a million packets group in tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.codecs import CodecInfo
from sipprobe.analysis.pcap import UdpPackets
from sipprobe.analysis.sipsdp import SdpMedia, codec_for

__all__ = ["MIN_PACKETS", "RtpStream", "find_streams"]

MIN_PACKETS = 8
# RTCP packet types 200-207 (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR) read as marker + PT;
# RFC 5761 keeps RTP out of 64-95 so that RTCP multiplexed on the RTP port stays apart.
RTCP_PAYLOAD_TYPES = range(72, 80)
_PLAUSIBLE_STEP = 100  # MAX_MISORDER of RFC 3550 A.1
_PLAUSIBLE_SHARE = 0.5  # of sequence steps, so heavy loss or reordering still passes

I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class RtpStream:
    """One RTP stream: its key, what it carries, how it was recognised and its packet rows.

    ``rows`` index ``UdpPackets`` in arrival order (the order RFC 3550 jitter needs).
    """

    src: str  # "addr:port", "[v6addr]:port"
    dst: str
    ssrc: int
    payload_type: int  # the most frequent one
    codec: CodecInfo | None
    call_id: str | None
    found_by: str  # "sdp", "rtp-port" or "heuristic"
    dscp: tuple[int, ...]  # DSCP values seen, ascending
    rows: I64


_FIELDS = ("src_addr", "src_port", "dst_addr", "dst_port", "rtp_ssrc")
_MIXERS = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93)


def _group(packets: UdpPackets, rows: I64) -> tuple[I64, I64]:
    """Stream number of each row (in ``rows`` order) and the row order grouped by stream.

    The five key fields are hashed into one 64-bit number, grouped by it, and then checked:
    should two keys ever share a hash, every row is grouped again by exact lexical order.
    """
    columns = [getattr(packets, name)[rows].astype(np.uint64) for name in _FIELDS]
    key = columns[0]
    for column, mixer in zip(columns[1:], _MIXERS, strict=True):
        key = key * np.uint64(mixer) + column  # wraps modulo 2**64, as intended
    stream = _dense(key)
    first = np.zeros(int(stream.max()) + 1, dtype=np.int64)
    first[stream[::-1]] = np.arange(len(stream) - 1, -1, -1)
    if not all(np.array_equal(column, column[first[stream]]) for column in columns):
        order = np.lexsort(columns[::-1])
        changed = np.any([np.diff(column[order]) != 0 for column in columns], axis=0)
        stream = np.empty(len(rows), dtype=np.int64)
        stream[order] = np.concatenate([[0], np.cumsum(changed)])
    small = stream.astype(np.uint16) if stream.max() < 1 << 16 else stream
    order = np.argsort(small, kind="stable")  # a radix sort for 16 bits; keeps file order
    return stream, order


def _dense(values: NDArray[np.uint64]) -> I64:
    """Numbers 0..k-1 for the distinct values (hash-based unique, then a binary search)."""
    distinct = np.unique(values)
    dense: I64 = np.searchsorted(distinct, values).astype(np.int64)
    return dense


def _plausible(seq: NDArray[np.uint16]) -> bool:
    """Mostly small forward steps, as a sender counting packets makes (not random bytes)."""
    wide = seq.astype(np.int64)
    steps = (wide[1:] - wide[:-1]) & 0xFFFF
    return bool(
        np.count_nonzero((steps > 0) & (steps <= _PLAUSIBLE_STEP)) >= _PLAUSIBLE_SHARE * len(steps)
    )


def _sdp_for(
    announced: dict[tuple[str, int], list[SdpMedia]], endpoint: tuple[str, int], first_s: float
) -> SdpMedia | None:
    """The latest SDP for an endpoint sent before the stream began (else the first one)."""
    offers = announced.get(endpoint, [])
    before = [m for m in offers if m.arrival_s <= first_s]
    return before[-1] if before else (offers[0] if offers else None)


def _label(
    announced: dict[tuple[str, int], list[SdpMedia]],
    endpoints: tuple[tuple[str, int], tuple[str, int]],
    first_s: float,
    payload_type: int,
) -> tuple[SdpMedia | None, CodecInfo | None]:
    """The SDP that describes a stream and the codec its payload type means there.

    The receiver's SDP (destination) defines the payload numbers the sender must use (RFC
    3264); the sender's own SDP is the fallback, as its numbers usually agree.
    """
    found = [m for m in (_sdp_for(announced, e, first_s) for e in endpoints) if m is not None]
    for media in found:
        if any(pt == payload_type for pt, _, _ in media.rtpmap):
            return media, codec_for(media, payload_type)
    first = found[0] if found else None
    return first, codec_for(first, payload_type)


def find_streams(
    packets: UdpPackets,
    sdp: Sequence[SdpMedia] = (),
    rtp_ports: Collection[int] = (),
) -> tuple[RtpStream, ...]:
    """The RTP streams in a capture, ordered by first arrival."""
    candidate = (
        (packets.rtp_version == 2)
        & (packets.rtp_payload_len >= 0)
        & ~np.isin(packets.rtp_payload_type, RTCP_PAYLOAD_TYPES)
    )
    rows = np.flatnonzero(candidate)
    if not len(rows):
        return ()
    announced: dict[tuple[str, int], list[SdpMedia]] = {}
    for section in sdp:
        announced.setdefault(section.endpoint, []).append(section)
    stream, order = _group(packets, rows)
    sizes = np.bincount(stream)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    first_rows = rows[order[bounds[:-1]]]
    hinted = np.isin(packets.src_port[first_rows], list(rtp_ports)) | np.isin(
        packets.dst_port[first_rows], list(rtp_ports)
    )
    found: list[RtpStream] = []
    for number in range(len(sizes)):
        first = int(first_rows[number])
        src = packets.endpoint(int(packets.src_addr[first]), int(packets.src_port[first]))
        dst = packets.endpoint(int(packets.dst_addr[first]), int(packets.dst_port[first]))
        src_key = (packets.addresses[packets.src_addr[first]], int(packets.src_port[first]))
        dst_key = (packets.addresses[packets.dst_addr[first]], int(packets.dst_port[first]))
        by_sdp = dst_key in announced or src_key in announced
        if not by_sdp and not hinted[number] and sizes[number] < MIN_PACKETS:
            continue
        members = rows[order[bounds[number] : bounds[number + 1]]]
        arrival = packets.arrival_s[members]
        if np.any(np.diff(arrival) < 0):
            members = members[np.argsort(arrival, kind="stable")]
        if not by_sdp and not hinted[number] and not _plausible(packets.rtp_seq[members]):
            continue
        first_s = float(packets.arrival_s[members[0]])
        payload_type = int(np.argmax(np.bincount(packets.rtp_payload_type[members], minlength=128)))
        media, codec = _label(announced, (dst_key, src_key), first_s, payload_type)
        found.append(
            RtpStream(
                src=src,
                dst=dst,
                ssrc=int(packets.rtp_ssrc[first]),
                payload_type=payload_type,
                codec=codec,
                call_id=media.call_id if media is not None else None,
                found_by="sdp" if by_sdp else "rtp-port" if hinted[number] else "heuristic",
                dscp=tuple(int(d) for d in np.unique(packets.dscp[members])),
                rows=members,
            )
        )
    return tuple(sorted(found, key=lambda s: float(packets.arrival_s[s.rows[0]])))
