"""Decoding captured frames into numpy columns: link layer, IP, UDP and RTP headers.

Each header is gathered for all records of a chunk at once, as a fixed-size item of a byte
view seen through a structured dtype whose fields are the header's fields; ``pcap`` finds the
records and hands their offsets here. A frame that is not usable is a counted skip by reason
(cut by the snap length, a fragment, not UDP), never an exception.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.packets import AddressTable, Batch
from sipprobe.analysis.reassembly import Fragment, fragments_in

I64 = NDArray[np.int64]
# Room past the data, so that a fixed-width window can start at any byte of the buffer. What
# such a window reads past a record is stale (left by an earlier chunk, or another record):
# every field taken from it is checked against the record's length first.
PAD = bytes(64)
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_NULL_INET6 = (10, 24, 28, 30)  # AF_INET6 on Linux, the BSDs and macOS
_SIP_STARTS = [int.from_bytes(p, "big") for p in (b"INVI", b"SIP/", b"ACK ", b"UPDA", b"PRAC")]


def _struct(fields: str, itemsize: int) -> np.dtype[np.void]:
    """A record type from "name:format@offset ..." (fields may overlap, as header views do)."""
    parsed = [f.replace("@", ":").split(":") for f in fields.split()]
    return np.dtype(
        {
            "names": [name for name, _, _ in parsed],
            "formats": [fmt for _, fmt, _ in parsed],
            "offsets": [int(at) for _, _, at in parsed],
            "itemsize": itemsize,
        }
    )


# Gathered once per packet: the link header, then IPv4 (or IPv6) with, for IPv4 without
# options, UDP and the RTP fixed header behind it; else UDP/RTP is gathered at its own offset.
_LINK = _struct("eth:>u2@12 sll:>u2@14 sll2:>u2@0 b0:u1@0 b3:u1@3", 16)
_WORD = _struct("b0:u1@0 b1:u1@1 hi:>u2@0 lo:>u2@2", 4)
_UDP_FIELDS = (
    "sport:>u2@{0} dport:>u2@{2} ulen:>u2@{4} head:>u4@{8} "
    "b0:u1@{8} b1:u1@{9} seq:>u2@{10} ts:>u4@{12} ssrc:>u4@{16}"
)
_UDP = _struct(_UDP_FIELDS.format(*range(24)), 24)
_IP = _struct(
    "vihl:u1@0 tos:u1@1 total:>u2@2 ident:>u2@4 frag:>u2@6 ttl:u1@8 proto:u1@9 src:>u4@12 "
    "dst:>u4@16 plen6:>u2@4 nh6:u1@6 hop6:u1@7 src6:V16@8 dst6:V16@24 "
    + _UDP_FIELDS.format(*range(20, 44)),
    44,
)


def gather(buf: bytearray, start: I64, dtype: np.dtype[np.void]) -> NDArray[np.void]:
    """One ``dtype`` record at each start offset, clipped into the buffer (a clipped row is
    always one that its length checks reject). Gathered as plain bytes, then viewed: numpy
    copies a structured item field by field, thirty times slower."""
    raw = np.dtype((np.void, dtype.itemsize))
    view = np.ndarray((len(buf) - dtype.itemsize + 1,), raw, buffer=buf, strides=(1,))
    found: NDArray[np.void] = view[np.clip(start, 0, len(view) - 1)].view(dtype)
    return found


def _link_layer(buf: bytearray, data_off: I64, link: int) -> tuple[I64, I64] | None:
    """IP version (4, 6, or 0 for anything else) and link header length, for one link type."""
    n = len(data_off)
    head = gather(buf, data_off, _LINK)
    if link in (101, 228, 229):  # raw IP: the version nibble says which
        nibble = (head["b0"] >> 4).astype(np.int64)
        return np.where((nibble == 4) | (nibble == 6), nibble, 0), np.zeros(n, dtype=np.int64)
    if link in (0, 108):  # BSD loopback: the address family in host or network byte order
        family = head["b0"] | head["b3"]
        version = np.where(family == 2, 4, np.where(np.isin(family, _NULL_INET6), 6, 0))
        return version, np.full(n, 4, dtype=np.int64)
    fields = {1: ("eth", 14), 113: ("sll", 16), 276: ("sll2", 20)}
    if link not in fields:
        return None
    name, length = fields[link]
    ether, header = head[name].astype(np.int64), np.full(n, length, dtype=np.int64)
    for _ in range(2 if link == 1 else 0):  # 802.1Q, and 802.1ad QinQ outside it
        tagged = np.flatnonzero(np.isin(ether, _VLAN_TPIDS))
        if not len(tagged):
            break
        header[tagged] += 4
        ether[tagged] = gather(buf, data_off[tagged] + header[tagged] - 2, _WORD)["hi"]
    return np.where(ether == 0x0800, 4, np.where(ether == 0x86DD, 6, 0)), header


# Link types whose frames can take the plain path: (link header length, offset of the
# 16-bit protocol field that must say IPv4, or None when the version nibble says it).
_PLAIN_LINKS: dict[int, tuple[int, int | None]] = {
    1: (14, 12),  # Ethernet (a VLAN tag makes its frame not plain)
    113: (16, 14),  # Linux cooked v1
    276: (20, 0),  # Linux cooked v2
    101: (0, None),  # raw IP
    228: (0, None),  # raw IPv4
}


@functools.cache
def _plain_layout(header: int, protocol_at: int | None) -> np.dtype[np.void]:
    """Link header, IPv4 without options, UDP and the RTP fixed header, as one record."""
    ip = "vihl:u1@{0} tos:u1@{1} total:>u2@{2} frag:>u2@{6} ttl:u1@{8} proto:u1@{9} "
    ip += "src:>u4@{12} dst:>u4@{16}"
    spec = ip.format(*range(header, header + 20)) + " "
    spec += _UDP_FIELDS.format(*range(header + 20, header + 40))
    if protocol_at is not None:
        spec += f" protocol:>u2@{protocol_at}"
    return _struct(spec, header + 40)


def decode_frames(
    buf: bytearray,
    *,
    data_off: I64,
    caplen: I64,
    arrival: NDArray[np.float64],
    link: I64,
    addresses: AddressTable,
    skipped: Counter[str],
    fragments: list[Fragment] | None = None,
) -> Batch:
    """The UDP datagrams among the frames at ``data_off`` in ``buf``; others counted by reason.

    Every field is computed for every frame (garbage where a frame is too short) and the
    frames with a problem are dropped at the end, which keeps the common path branch-free.
    IP fragments go to ``fragments`` when given (for ``reassembly``), else are counted.
    """
    n = len(data_off)
    if n and int(link[0]) in _PLAIN_LINKS and not (link != link[0]).any():
        plain = _plain_frames(buf, data_off, caplen, arrival, int(link[0]), addresses)
        if plain is not None:
            return plain
    problems: list[tuple[str, NDArray[np.bool_]]] = [("zero-length", caplen <= 0)]
    version, header = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    for link_type in np.unique(link) if n and (link != link[0]).any() else link[:1]:
        which = link == link_type
        everyone = bool(which.all())
        found = _link_layer(buf, data_off if everyone else data_off[which], int(link_type))
        if found is None:
            problems.append(("unsupported-link-type", which))
        elif everyone:
            version, header = found
        else:
            version[which], header[which] = found
    v4, l3, avail = version == 4, data_off + header, caplen - header
    ip = gather(buf, l3, _IP)
    proto, udp_at = ip["proto"].astype(np.int64), (ip["vihl"] & 15).astype(np.int64) * 4
    ip_payload = ip["total"] - udp_at
    fragment = (ip["frag"] & 0x3FFF) != 0
    dscp, ttl = ip["tos"] >> 2, ip["ttl"].copy()
    bad_ip = (ip["vihl"] >> 4 != version) | (udp_at < 20) | (ip_payload < 0)
    v6 = np.flatnonzero(version == 6)
    if len(v6):
        six = ip[v6]
        proto[v6], ip_payload[v6], udp_at[v6] = six["nh6"], six["plen6"], 40
        dscp[v6] = (((six["vihl"] & 15) << 4) | (six["tos"] >> 4)) >> 2
        ttl[v6], bad_ip[v6] = six["hop6"], six["vihl"] >> 4 != 6
        _ipv6_extensions(buf, l3, v6, proto, udp_at, ip_payload, avail)
        fragment[v6] = proto[v6] == 44
    problems += [
        ("not-ip", version == 0),
        ("truncated-packet", avail < np.where(v4, 20, 40)),
        ("bad-ip-header", bad_ip),
        ("ip-fragment", fragment),
        ("not-udp", proto != 17),
        ("truncated-packet", avail < udp_at + 8),
    ]
    fast = bool((udp_at == 20).all())
    udp = ip if fast else gather(buf, l3 + udp_at, _UDP)
    problems.append(("bad-udp-length", (udp["ulen"] < 8) | (udp["ulen"] > ip_payload)))
    reason = np.zeros(n, dtype=np.int64)
    for code, (_, bad) in reversed(list(enumerate(problems, start=1))):
        if bad.any():
            reason[bad] = code  # reversed, so the first problem of a frame is the one counted
    for code, count in enumerate(np.bincount(reason, minlength=len(problems) + 1)):
        if code and count:
            skipped[problems[code - 1][0]] += int(count)
    if fragments is not None and skipped["ip-fragment"]:
        kept = np.flatnonzero(reason == 1 + [name for name, _ in problems].index("ip-fragment"))
        fragments.extend(
            fragments_in(buf, kept, ip, version, l3, udp_at, ip_payload, avail, arrival)
        )
        skipped["ip-fragment"] -= len(kept)  # counted when reassembly leaves them unused
    start, plen = l3 + udp_at + 8, udp["ulen"].astype(np.int64) - 8
    captured = np.minimum(plen, avail - udp_at - 8)
    ok = reason == 0
    if not ok.all():
        ip, udp, v4, dscp, ttl = ip[ok], udp[ok], v4[ok], dscp[ok], ttl[ok]
        start, plen, captured, arrival = start[ok], plen[ok], captured[ok], arrival[ok]
    src, dst = np.zeros(len(start), np.int32), np.zeros(len(start), np.int32)
    if v4.all():
        src, dst = addresses.ids_v4(ip["src"]), addresses.ids_v4(ip["dst"])
    else:
        src[v4], dst[v4] = addresses.ids_v4(ip["src"][v4]), addresses.ids_v4(ip["dst"][v4])
        src[~v4], dst[~v4] = addresses.ids_v6(ip["src6"][~v4]), addresses.ids_v6(ip["dst6"][~v4])
    return _batch(
        buf,
        udp,
        arrival=arrival,
        src=src,
        dst=dst,
        dscp=dscp,
        ttl=ttl,
        start=start,
        plen=plen,
        captured=captured,
    )


def _plain_frames(
    buf: bytearray,
    data_off: I64,
    caplen: I64,
    arrival: NDArray[np.float64],
    link_type: int,
    addresses: AddressTable,
) -> Batch | None:
    """The batch when every frame is plain IPv4/UDP (no VLAN tag, IP options, fragment or
    damage): one gathered record per frame and no per-reason accounting. ``None`` otherwise,
    for the general path; both give the same columns for plain frames (a test holds them to it).
    """
    header, protocol_at = _PLAIN_LINKS[link_type]
    frame = gather(buf, data_off, _plain_layout(header, protocol_at))
    ulen = frame["ulen"].astype(np.int64)
    plain = (frame["vihl"] == 0x45) & (frame["proto"] == 17) & ((frame["frag"] & 0x3FFF) == 0)
    plain &= (caplen >= header + 28) & (ulen >= 8) & (ulen + 20 <= frame["total"])
    if protocol_at is not None:
        plain &= frame["protocol"] == 0x0800
    if not plain.all():
        return None
    plen = ulen - 8
    return _batch(
        buf,
        frame,
        arrival=arrival,
        src=addresses.ids_v4(frame["src"]),
        dst=addresses.ids_v4(frame["dst"]),
        dscp=frame["tos"] >> 2,
        ttl=frame["ttl"],
        start=data_off + (header + 28),
        plen=plen,
        captured=np.minimum(plen, caplen - (header + 28)),
    )


def _batch(
    buf: bytearray,
    udp: NDArray[np.void],
    *,
    arrival: NDArray[np.float64],
    src: NDArray[np.int32],
    dst: NDArray[np.int32],
    dscp: NDArray[Any],
    ttl: NDArray[Any],
    start: I64,
    plen: I64,
    captured: I64,
) -> Batch:
    """The columns of good UDP datagrams, and the SIP and RTCP payloads among them."""
    columns: dict[str, NDArray[Any]] = {
        "arrival_s": arrival,
        "src_addr": src,
        "dst_addr": dst,
        "src_port": udp["sport"],
        "dst_port": udp["dport"],
        "dscp": dscp,
        "ttl": ttl,
        "payload_len": plen,
        **_rtp_columns(buf, udp, start, plen, captured),
    }
    b0, b1 = udp["b0"], udp["b1"]
    rtcp = (b0 >> 6 == 2) & (b1 >= 200) & (b1 <= 207) & (captured >= 8)
    keep = np.flatnonzero(rtcp)
    text = np.flatnonzero((b0 < 0x80) & (captured >= 4))  # SIP starts with a letter
    if len(text):
        sip = text[np.isin(udp["head"][text], _SIP_STARTS)]
        keep = np.union1d(keep, sip) if len(sip) else keep
    payloads = [(int(i), bytes(buf[start[i] : start[i] + captured[i]])) for i in keep]
    return columns, payloads


def _ipv6_extensions(
    buf: bytearray, l3: I64, v6: I64, proto: I64, udp_at: I64, ip_payload: I64, avail: I64
) -> None:
    """Step over hop-by-hop, routing, destination-options and AH headers, in place."""
    for _ in range(4):
        more = v6[np.isin(proto[v6], (0, 43, 51, 60)) & (avail[v6] >= udp_at[v6] + 8)]
        if not len(more):
            return
        ext = gather(buf, l3[more] + udp_at[more], _WORD)
        units = ext["b1"].astype(np.int64)
        size = np.where(proto[more] == 51, (units + 2) * 4, (units + 1) * 8)
        proto[more], udp_at[more] = ext["b0"], udp_at[more] + size
        ip_payload[more] -= size


def _rtp_columns(
    buf: bytearray, udp: NDArray[np.void], start: I64, plen: I64, captured: I64
) -> dict[str, NDArray[Any]]:
    """The RTP fixed header of every payload (zeros where fewer than its 12 bytes were
    captured: the bytes read there belong to whatever follows), and the media length where
    the payload can be RTP."""
    b0, b1, seq, ts, ssrc = udp["b0"], udp["b1"], udp["seq"], udp["ts"], udp["ssrc"]
    short = captured < 12
    if short.any():  # a SIP keep-alive (CRLF), a truncated packet: rare
        b0, b1, seq, ts, ssrc = (np.where(short, 0, f) for f in (b0, b1, seq, ts, ssrc))
    fields = {
        "rtp_version": b0 >> 6,
        "rtp_marker": b1 >= 128,
        "rtp_payload_type": b1 & 127,
        "rtp_seq": seq,
        "rtp_ts": ts,
        "rtp_ssrc": ssrc,
    }
    if not (b0 & 0x3F).any():  # no CSRC, extension or padding anywhere: the usual stream
        nothing = np.broadcast_to(np.zeros(1, dtype=np.uint8), b0.shape)
        valid = (fields["rtp_version"] == 2) & (plen >= 12) & (captured >= 12)
        return {
            **fields,
            "rtp_padding": nothing,
            "rtp_extension": nothing,
            "rtp_csrc_count": nothing,
            "rtp_payload_len": np.where(valid, plen - 12, -1),
        }
    csrc, has_ext, has_pad = b0 & 15, (b0 & 0x10) != 0, (b0 & 0x20) != 0
    valid = (b0 >> 6 == 2) & (plen >= 12) & (captured >= 12)
    header = 12 + 4 * csrc.astype(np.int64)
    rows = np.flatnonzero(valid & has_ext)
    if len(rows):
        fits = header[rows] + 4 <= captured[rows]
        valid[rows[~fits]] = False
        rows = rows[fits]
        header[rows] += 4 + 4 * gather(buf, start[rows] + header[rows], _WORD)["lo"]
    padding = np.zeros(len(start), dtype=np.int64)
    rows = np.flatnonzero(valid & has_pad & (captured == plen))  # a cut payload hides its count
    if len(rows):
        padding[rows] = gather(buf, start[rows] + plen[rows] - 1, _WORD)["b0"]
        valid[rows[padding[rows] == 0]] = False
    media = plen - header - padding
    return {
        **fields,
        "rtp_padding": has_pad,
        "rtp_extension": has_ext,
        "rtp_csrc_count": csrc,
        "rtp_payload_len": np.where(valid & (media >= 0), media, -1),
    }
