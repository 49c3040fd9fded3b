"""Group captured RTP packets into streams and decide which groups really are RTP.

A stream is keyed by (source address, source port, destination address, destination port,
SSRC) (docs/measurement.md, "Streams"). Which UDP datagrams are RTP at all is decided in this order:

1. an endpoint announced in SDP (``c=``/``m=``) seen in the capture: RTP by the call's word,
   labelled with its Call-ID and decoded with its ``a=rtpmap``;
2. a port the user named (``--rtp-port``), for captures without signalling;
3. otherwise heuristics, because any UDP payload whose first byte is 0x80-0xBF parses as an
   RTP header: at least ``MIN_PACKETS`` packets of one SSRC, most sequence steps small and
   forward, and not RTCP's packet types (72-79 once the marker bit is taken off).

Grouping is vectorised: packed keys numbered by ``keys.dense`` (a sample, then a hash), then a
stable radix sort of small stream numbers, so a million packets group in tens of milliseconds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.announced import AnnouncedMedia, codec_for
from sipprobe.analysis.keys import dense
from sipprobe.analysis.packets import UdpPackets, rtp_candidates
from sipprobe.model.media import RtpStreamInfo
from sipprobe.sip.codecs import CodecInfo

__all__ = ["MIN_PACKETS", "RtpStream", "find_streams"]

MIN_PACKETS = 8
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

    def info(self) -> RtpStreamInfo:
        """The stream without its packet rows, as the measured result records it."""
        return RtpStreamInfo(
            src=self.src,
            dst=self.dst,
            ssrc=self.ssrc,
            payload_type=self.payload_type,
            codec=self.codec.name if self.codec else None,
            clock_rate=self.codec.clock_rate if self.codec else None,
            call_id=self.call_id,
            found_by=self.found_by,
            dscp=self.dscp,
        )


_FIELDS = ("src_addr", "src_port", "dst_addr", "dst_port", "rtp_ssrc")


def _group(packets: UdpPackets, rows: I64) -> tuple[I64, I64]:
    """Stream number of each row (in ``rows`` order) and the row order grouped by stream.

    Exact, with no hash to trust: the two endpoints pack into one 64-bit flow key (while the
    capture holds at most 65536 addresses) and the flow's number with the SSRC into another,
    each numbered by ``keys.dense``. A capture with more addresses takes a slower lexical sort.
    """
    every = len(rows) == len(packets.arrival_s)

    def column(name: str) -> NDArray[np.uint64]:
        values: NDArray[Any] = getattr(packets, name)
        wide: NDArray[np.uint64] = (values if every else values[rows]).astype(np.uint64)
        return wide

    if len(packets.addresses) <= 1 << 16:
        flow = column("src_addr")
        for name in ("src_port", "dst_addr", "dst_port"):  # in place: memory stays flat
            flow <<= np.uint64(16)
            flow |= column(name)
        key = dense(flow).astype(np.uint64)
        key <<= np.uint64(32)
        key |= column("rtp_ssrc")
        stream = dense(key)
    else:
        columns = [column(name) for name in _FIELDS]
        order = np.lexsort(columns[::-1])
        changed = np.any([np.diff(c[order]) != 0 for c in columns], axis=0)
        stream = np.empty(len(rows), dtype=np.int64)
        stream[order] = np.concatenate([[0], np.cumsum(changed)])
    small = stream.astype(np.uint16) if stream.max() < 1 << 16 else stream
    order = np.argsort(small, kind="stable")  # a radix sort for 16 bits; keeps file order
    return stream, order


def _plausible(seq: NDArray[np.uint16]) -> bool:
    """Mostly small forward steps, as a sender counting packets makes (not random bytes)."""
    wide = seq.astype(np.int64)
    steps = (wide[1:] - wide[:-1]) & 0xFFFF
    return bool(
        np.count_nonzero((steps > 0) & (steps <= _PLAUSIBLE_STEP)) >= _PLAUSIBLE_SHARE * len(steps)
    )


def _sdp_for(
    announced: dict[tuple[str, int], list[AnnouncedMedia]],
    endpoint: tuple[str, int],
    first_s: float,
) -> AnnouncedMedia | None:
    """The latest SDP for an endpoint sent before the stream began (else the first one)."""
    offers = announced.get(endpoint, [])
    before = [m for m in offers if m.arrival_s <= first_s]
    return before[-1] if before else (offers[0] if offers else None)


def _label(
    announced: dict[tuple[str, int], list[AnnouncedMedia]],
    endpoints: tuple[tuple[str, int], tuple[str, int]],
    first_s: float,
    payload_type: int,
) -> tuple[AnnouncedMedia | None, CodecInfo | None]:
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
    sdp: Sequence[AnnouncedMedia] = (),
    rtp_ports: Collection[int] = (),
) -> tuple[RtpStream, ...]:
    """The RTP streams in a capture, ordered by first arrival."""
    candidate = rtp_candidates(
        packets.rtp_version, packets.rtp_payload_len, packets.rtp_payload_type
    )
    rows = np.flatnonzero(candidate)
    if not len(rows):
        return ()
    announced: dict[tuple[str, int], list[AnnouncedMedia]] = {}
    for section in sdp:
        announced.setdefault(section.endpoint, []).append(section)
    stream, order = _group(packets, rows)
    sizes = np.bincount(stream)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    first_rows = rows[order[bounds[:-1]]]
    ends = [
        packets.src_addr[first_rows].astype(np.int64) << 16 | packets.src_port[first_rows],
        packets.dst_addr[first_rows].astype(np.int64) << 16 | packets.dst_port[first_rows],
    ]
    known = {a: n for n, a in enumerate(packets.addresses)}
    sdp_ends = [known[a] << 16 | p for a, p in announced if a in known]
    by_sdp = np.isin(ends[0], sdp_ends) | np.isin(ends[1], sdp_ends)
    hinted = np.isin(ends[0] & 0xFFFF, list(rtp_ports)) | np.isin(ends[1] & 0xFFFF, list(rtp_ports))
    in_time_order = not np.any(packets.arrival_s[1:] < packets.arrival_s[:-1])  # the usual file
    found: list[RtpStream] = []
    # Vectorised first, so that a capture full of one-packet UDP "groups" costs no Python loop.
    for number in np.flatnonzero(by_sdp | hinted | (sizes >= MIN_PACKETS)):
        first = int(first_rows[number])
        src = packets.endpoint(int(packets.src_addr[first]), int(packets.src_port[first]))
        dst = packets.endpoint(int(packets.dst_addr[first]), int(packets.dst_port[first]))
        src_key = (packets.addresses[packets.src_addr[first]], int(packets.src_port[first]))
        dst_key = (packets.addresses[packets.dst_addr[first]], int(packets.dst_port[first]))
        forced = bool(by_sdp[number] or hinted[number])
        members = rows[order[bounds[number] : bounds[number + 1]]]
        if not in_time_order:
            members = members[np.argsort(packets.arrival_s[members], kind="stable")]
        if not forced and not _plausible(packets.rtp_seq[members]):
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
                found_by="sdp" if by_sdp[number] else "rtp-port" if forced else "heuristic",
                dscp=tuple(int(d) for d in np.flatnonzero(np.bincount(packets.dscp[members]))),
                rows=members,
            )
        )
    # First arrival, then first row: the same order however the addresses were numbered.
    return tuple(sorted(found, key=lambda s: (float(packets.arrival_s[s.rows[0]]), int(s.rows[0]))))
