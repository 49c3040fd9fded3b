"""Read pcap and pcapng captures into numpy columns, one row per UDP datagram.

Why not scapy: dissecting every packet into Python objects runs at tens of thousands of packets
per second, far too slow for a capture of a busy trunk. Here the file is read in chunks; record
boundaries are walked with a tight loop over length fields, and a run of records of equal
length is confirmed in one vectorised step (each verified length fixes where the next record
starts, so the run is exact, not a guess). Every header field is then gathered for all records
of a chunk at once from a uint8 view (``_layers``). Memory holds one chunk plus the columns.

A damaged file is either fatal (``CaptureError``, one sentence: wrong magic, a length field
that makes the framing meaningless) or a per-packet skip counted by reason in
``Capture.skipped`` (cut by the snap length, a fragment, not UDP, a file cut mid-record).
"""

from __future__ import annotations

import ipaddress
import random
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields
from io import BufferedReader
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sipprobe.errors import CaptureError

__all__ = ["Capture", "CaptureInfo", "UdpPackets", "read_capture"]

MAX_CAPLEN = 256 * 1024
MAX_BLOCK = 16 * 1024 * 1024
_MAX_EPB = MAX_CAPLEN + 32 + 64 * 1024  # larger ones (huge options) take the slow path
_BATCH = range(64)  # records walked between two looks for a run of equal lengths
DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024  # measured: fits the caches better than 8 or 32 MiB
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
_SHB, _IDB, _OPB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6
_BYTE_ORDER = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
_IGNORED_BLOCKS = {4, 5, 9, 10, 0x0BAD, 0x40000BAD}  # names, statistics, journal, secrets, custom

I64 = NDArray[np.int64]
_PAD = bytes(64)  # lets a fixed-width window start at any byte of the buffer
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_NULL_INET6 = (10, 24, 28, 30)  # AF_INET6 on Linux, the BSDs and macOS
_SIP_STARTS = [int.from_bytes(p, "big") for p in (b"INVI", b"SIP/", b"ACK ", b"UPDA", b"PRAC")]


@dataclass(frozen=True, slots=True)
class UdpPackets:
    """UDP datagrams as columns, one row per packet in file order.

    ``src_addr``/``dst_addr`` index ``addresses`` (text; IPv6 compressed). The ``rtp_*``
    columns read the payload as an RTP header whether or not it is one: ``rtp_payload_len``
    (after CSRCs, header extension and padding) is -1 where the bytes cannot be RTP.
    ``payloads`` keeps the bytes only of datagrams that look like SIP or RTCP, as (row, bytes).
    ``arrival_s`` counts from ``origin_s`` (the whole second of the first record, Unix time):
    float64 epoch seconds would resolve only about 0.24 microseconds.
    """

    origin_s: int
    arrival_s: NDArray[np.float64]
    src_addr: NDArray[np.int32]
    dst_addr: NDArray[np.int32]
    src_port: NDArray[np.uint16]
    dst_port: NDArray[np.uint16]
    dscp: NDArray[np.uint8]
    ttl: NDArray[np.uint8]  # or IPv6 hop limit
    payload_len: NDArray[np.int32]
    rtp_version: NDArray[np.uint8]
    rtp_padding: NDArray[np.bool_]
    rtp_extension: NDArray[np.bool_]
    rtp_csrc_count: NDArray[np.uint8]
    rtp_marker: NDArray[np.bool_]
    rtp_payload_type: NDArray[np.uint8]
    rtp_seq: NDArray[np.uint16]
    rtp_ts: NDArray[np.uint32]
    rtp_ssrc: NDArray[np.uint32]
    rtp_payload_len: NDArray[np.int32]
    addresses: tuple[str, ...]
    payloads: tuple[tuple[int, bytes], ...]

    def endpoint(self, address: int, port: int) -> str:
        """``addr:port``, or ``[addr]:port`` for IPv6."""
        text = self.addresses[address]
        return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"


_COLUMNS = tuple(f.name for f in fields(UdpPackets) if f.type.startswith("NDArray"))
_Batch = tuple[dict[str, NDArray[Any]], list[tuple[int, bytes]]]


class AddressTable:
    """Gives every distinct address one small integer for the whole capture.

    IPv4 lookups are the hot path (two per packet). A multiplicative hash chosen so that the
    known addresses do not collide maps an address to its slot in a few vector operations,
    cheaper than sorting or a binary search; a miss adds the new addresses and rebuilds.
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self._index: dict[bytes, int] = {}
        self._multiplier, self._shift = np.uint32(1), np.uint32(31)
        self._slot_keys = np.zeros(2, dtype=np.uint32)
        self._slot_ids = np.full(2, -1, dtype=np.int32)

    def ids_v4(self, addresses: NDArray[Any]) -> NDArray[np.int32]:
        keys = addresses.astype(np.uint32)
        slots = (keys * self._multiplier) >> self._shift
        ids: NDArray[np.int32] = self._slot_ids[slots]
        hit = (ids >= 0) & (self._slot_keys[slots] == keys)
        if hit.all():
            return ids
        for key in np.unique(keys[~hit]):
            self._id(int(key).to_bytes(4, "big"))
        self._rebuild()
        return self.ids_v4(keys)

    def ids_v6(self, addresses: NDArray[np.void]) -> NDArray[np.int32]:
        unique, inverse = np.unique(addresses, return_inverse=True)
        lookup = np.array([self._id(bytes(k)) for k in unique], dtype=np.int32)
        return lookup[inverse.ravel()] if len(unique) else np.zeros(0, dtype=np.int32)

    def _id(self, key: bytes) -> int:
        if key not in self._index:
            self._index[key] = len(self.names)
            self.names.append(str(ipaddress.ip_address(key)))
        return self._index[key]

    def _rebuild(self) -> None:
        known = {int.from_bytes(k, "big"): i for k, i in self._index.items() if len(k) == 4}
        bits, draw = max(4, 2 * len(known)).bit_length(), random.Random(len(known))
        while True:
            for _ in range(64):
                multiplier = draw.getrandbits(32) | 1
                slots = {(k * multiplier & 0xFFFFFFFF) >> (32 - bits): k for k in known}
                if len(slots) == len(known):
                    self._multiplier, self._shift = np.uint32(multiplier), np.uint32(32 - bits)
                    self._slot_keys = np.zeros(1 << bits, dtype=np.uint32)
                    self._slot_ids = np.full(1 << bits, -1, dtype=np.int32)
                    self._slot_keys[list(slots)] = list(slots.values())
                    self._slot_ids[list(slots)] = [known[k] for k in slots.values()]
                    return
            bits += 1


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
    "vihl:u1@0 tos:u1@1 total:>u2@2 frag:>u2@6 ttl:u1@8 proto:u1@9 src:>u4@12 dst:>u4@16 "
    "plen6:>u2@4 nh6:u1@6 hop6:u1@7 src6:V16@8 dst6:V16@24 " + _UDP_FIELDS.format(*range(20, 44)),
    44,
)


def _gather(buf: bytearray, start: I64, dtype: np.dtype[np.void]) -> NDArray[np.void]:
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
    head = _gather(buf, data_off, _LINK)
    if link in (101, 228, 229):  # raw IP
        return (head["b0"] >> 4).astype(np.int64), np.zeros(n, dtype=np.int64)
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
        ether[tagged] = _gather(buf, data_off[tagged] + header[tagged] - 2, _WORD)["hi"]
    return np.where(ether == 0x0800, 4, np.where(ether == 0x86DD, 6, 0)), header


def decode_frames(
    buf: bytearray,
    *,
    data_off: I64,
    caplen: I64,
    arrival: NDArray[np.float64],
    link: I64,
    addresses: AddressTable,
    skipped: Counter[str],
) -> _Batch:
    """The UDP datagrams among the frames at ``data_off`` in ``buf``; others counted by reason.

    Every field is computed for every frame (garbage where a frame is too short) and the
    frames with a problem are dropped at the end, which keeps the common path branch-free.
    """
    n = len(data_off)
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
    ip = _gather(buf, l3, _IP)
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
    udp = ip if fast else _gather(buf, l3 + udp_at, _UDP)
    problems.append(("bad-udp-length", (udp["ulen"] < 8) | (udp["ulen"] > ip_payload)))
    reason = np.zeros(n, dtype=np.int64)
    for code, (_, bad) in reversed(list(enumerate(problems, start=1))):
        if bad.any():
            reason[bad] = code  # reversed, so the first problem of a frame is the one counted
    for code, count in enumerate(np.bincount(reason, minlength=len(problems) + 1)):
        if code and count:
            skipped[problems[code - 1][0]] += int(count)
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
    columns: dict[str, NDArray[Any]] = {
        "arrival_s": arrival.astype(np.float64),
        "src_addr": src,
        "dst_addr": dst,
        "src_port": udp["sport"].astype(np.uint16),
        "dst_port": udp["dport"].astype(np.uint16),
        "dscp": dscp,
        "ttl": ttl,
        "payload_len": plen.astype(np.int32),
        **_rtp_columns(buf, udp, start, plen, captured),
    }
    keep = np.isin(udp["head"], _SIP_STARTS) | (
        (columns["rtp_version"] == 2) & (udp["b1"] >= 200) & (udp["b1"] <= 207) & (captured >= 8)
    )
    payloads = [
        (int(i), bytes(buf[start[i] : start[i] + captured[i]])) for i in np.flatnonzero(keep)
    ]
    return columns, payloads


def _ipv6_extensions(
    buf: bytearray, l3: I64, v6: I64, proto: I64, udp_at: I64, ip_payload: I64, avail: I64
) -> None:
    """Step over hop-by-hop, routing, destination-options and AH headers, in place."""
    for _ in range(4):
        more = v6[np.isin(proto[v6], (0, 43, 51, 60)) & (avail[v6] >= udp_at[v6] + 8)]
        if not len(more):
            return
        ext = _gather(buf, l3[more] + udp_at[more], _WORD)
        units = ext["b1"].astype(np.int64)
        size = np.where(proto[more] == 51, (units + 2) * 4, (units + 1) * 8)
        proto[more], udp_at[more] = ext["b0"], udp_at[more] + size
        ip_payload[more] -= size


def _rtp_columns(
    buf: bytearray, udp: NDArray[np.void], start: I64, plen: I64, captured: I64
) -> dict[str, NDArray[Any]]:
    """The RTP fixed header of every payload, and the media length where it can be RTP."""
    b0, b1 = udp["b0"], udp["b1"]
    csrc, has_ext, has_pad = b0 & 15, (b0 & 0x10) != 0, (b0 & 0x20) != 0
    valid = (b0 >> 6 == 2) & (plen >= 12) & (captured >= 12)
    header = 12 + 4 * csrc.astype(np.int64)
    rows = np.flatnonzero(valid & has_ext)
    if len(rows):
        fits = header[rows] + 4 <= captured[rows]
        valid[rows[~fits]] = False
        rows = rows[fits]
        header[rows] += 4 + 4 * _gather(buf, start[rows] + header[rows], _WORD)["lo"]
    padding = np.zeros(len(start), dtype=np.int64)
    rows = np.flatnonzero(valid & has_pad & (captured == plen))  # a cut payload hides its count
    if len(rows):
        padding[rows] = _gather(buf, start[rows] + plen[rows] - 1, _WORD)["b0"]
        valid[rows[padding[rows] == 0]] = False
    media = plen - header - padding
    return {
        "rtp_version": b0 >> 6,
        "rtp_padding": has_pad,
        "rtp_extension": has_ext,
        "rtp_csrc_count": csrc,
        "rtp_marker": b1 >= 128,
        "rtp_payload_type": b1 & 127,
        "rtp_seq": udp["seq"].astype(np.uint16),
        "rtp_ts": udp["ts"].astype(np.uint32),
        "rtp_ssrc": udp["ssrc"].astype(np.uint32),
        "rtp_payload_len": np.where(valid & (media >= 0), media, -1).astype(np.int32),
    }


def _concat(batches: list[_Batch], addresses: AddressTable, origin_s: int) -> UdpPackets:
    """One set of columns from the per-chunk batches, payload rows renumbered."""
    payloads: list[tuple[int, bytes]] = []
    base = 0
    for batch_columns, batch_payloads in batches:
        payloads.extend((base + row, data) for row, data in batch_payloads)
        base += len(batch_columns["arrival_s"])
    if not batches:  # an empty decode gives each column its dtype
        empty = np.zeros(0, dtype=np.int64)
        batches = [
            decode_frames(
                bytearray(_PAD),
                data_off=empty,
                caplen=empty,
                arrival=np.zeros(0),
                link=empty,
                addresses=addresses,
                skipped=Counter(),
            )
        ]
    columns = {name: np.concatenate([batch[0][name] for batch in batches]) for name in _COLUMNS}
    return UdpPackets(
        origin_s, **columns, addresses=tuple(addresses.names), payloads=tuple(payloads)
    )


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """What the file was: its format, link types and how much it held."""

    path: str
    format: str  # "pcap" or "pcapng"
    size_bytes: int
    link_types: tuple[int, ...]
    records: int  # packet records read, whatever they carried
    udp_packets: int


@dataclass(frozen=True, slots=True)
class Capture:
    info: CaptureInfo
    packets: UdpPackets
    skipped: dict[str, int]  # reason -> packets (or blocks) left out


class _FramingError(Exception):
    """Framing is lost at an offset of the current buffer; becomes a CaptureError."""

    def __init__(self, problem: str, pos: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.pos = pos


@dataclass(frozen=True, slots=True)
class _Interface:
    link_type: int
    ticks_per_s: int
    offset_s: int


class _Offsets:
    """Record offsets in file order, from the plain walk and from runs of equal-length records.

    The walker looks at the last offsets every ``_BATCH`` records: when eight records in a row
    had one length, ``run`` confirms the records that follow in one vectorised step (a record
    of length ``stride`` ends where the next begins, so a run whose length fields all match is
    exact, not a guess). A guess that fails early makes it wait longer before the next one, so
    a capture of mixed sizes keeps the plain walk's speed.
    """

    def __init__(self) -> None:
        self.parts: list[I64] = []
        self.single: list[int] = []
        self.limit = 64
        self.wait = 0
        self.backoff = 1

    def steady(self, pos: int) -> int:
        """The common length of the last eight records, if they share one; else 0."""
        single = self.single
        if self.wait:
            self.wait -= 1
            return 0
        if len(single) < 8 or single[-1] - single[-8] != 7 * (pos - single[-1]):
            return 0
        stride = pos - single[-1]
        steps = zip(single[-8:-1], single[-7:], strict=True)
        return stride if all(b - a == stride for a, b in steps) else 0

    def run(
        self, buf: bytearray, end: int, pos: int, stride: int, checks: list[tuple[int, str, int]]
    ) -> int:
        """How many records from ``pos`` on are ``stride`` long."""
        count = min(self.limit, (end - pos) // stride)
        if count < 1:
            return 0
        ok = np.ones(count, dtype=bool)
        for offset, dtype, value in checks:
            view = np.ndarray((count,), dtype, buffer=buf, offset=pos + offset, strides=(stride,))
            ok &= view == value
        run = count if ok.all() else int(np.argmin(ok))
        if run:
            self._flush()
            self.parts.append(np.arange(run, dtype=np.int64) * stride + pos)
        if run == count:
            self.limit, self.backoff = min(self.limit * 2, 1 << 16), 1
        else:
            self.limit = 64
            self.backoff = 1 if run >= 64 else min(self.backoff * 2, 64)
            self.wait = self.backoff - 1
        return run

    def _flush(self) -> None:
        if self.single:
            self.parts.append(np.array(self.single, dtype=np.int64))
            self.single.clear()

    def take(self) -> I64:
        self._flush()
        out = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)
        self.parts = []
        return out


class _Reader:
    def __init__(self, path: Path, chunk_bytes: int) -> None:
        self.path = path
        self.chunk_bytes = chunk_bytes
        self.skipped: Counter[str] = Counter()
        self.addresses = AddressTable()
        self.batches: list[_Batch] = []
        self.records = 0
        self.link_types: set[int] = set()
        self.base = 0  # file offset of the current buffer
        self.endian = ""
        self.interfaces: list[_Interface] = []
        self.origin_s: int | None = None

    def loop(
        self, stream: BufferedReader, first: bytes, walk: Callable[[bytearray, int], int]
    ) -> None:
        """Feed chunks to ``walk``, which decodes the complete records and says how far it got.

        One buffer is reused for the whole file (a ``_PAD`` tail past the data lets fixed-width
        windows start at any record), so reading costs no copies beyond ``readinto``.
        """
        buf = bytearray(self.chunk_bytes + len(_PAD))
        end = len(first)
        buf[:end] = first
        while True:
            if end == len(buf) - len(_PAD):  # one record fills the buffer: make room
                buf = buf[:end] + bytearray(len(buf))
            with memoryview(buf) as view:
                got = stream.readinto(view[end : len(buf) - len(_PAD)])
            end += got
            try:
                consumed = walk(buf, end)
            except _FramingError as exc:
                raise CaptureError(
                    f"{self.path} is corrupt at byte {self.base + exc.pos}: {exc.problem}."
                ) from None
            buf[: end - consumed] = buf[consumed:end]
            self.base, end = self.base + consumed, end - consumed
            if not got:
                break
        if end:
            self.skipped["truncated-record"] += 1

    def decode(
        self, buf: bytearray, data_off: I64, caplen: I64, arrival: np.ndarray, link: I64
    ) -> None:
        self.records += len(data_off)
        self.link_types.update(int(x) for x in np.unique(link))
        self.batches.append(
            decode_frames(
                buf,
                data_off=data_off,
                caplen=caplen,
                arrival=arrival,
                link=link,
                addresses=self.addresses,
                skipped=self.skipped,
            )
        )

    def walk_pcap(self, buf: bytearray, end: int, ticks_per_s: int, link: int) -> int:
        """Decode the complete records in ``buf[:end]``; return where an incomplete one starts."""
        length_at = struct.Struct(self.endian + "8xI").unpack_from
        offsets = _Offsets()
        add, pos, limit = offsets.single.append, 0, end - 16
        while pos <= limit:
            for _ in _BATCH:  # the plain walk, as lean as Python allows: checks come after
                add(pos)
                pos += 16 + length_at(buf, pos)[0]
                if pos > limit:
                    break
            else:
                stride = offsets.steady(pos)
                if stride:
                    checks = [(8, self.endian + "u4", stride - 16)]
                    pos += stride * offsets.run(buf, end, pos, stride, checks)
        starts = offsets.take()
        head = _u32_rows(buf, starts, 4, self.endian)
        absurd = np.flatnonzero(head[:, 2] > MAX_CAPLEN)
        if len(absurd):
            caplen, at = int(head[absurd[0], 2]), int(starts[absurd[0]])
            raise _FramingError(f"a record claims {caplen} bytes, more than {MAX_CAPLEN}", at)
        if len(starts) and starts[-1] + 16 + head[-1, 2] > end:  # only the last can be cut
            pos, starts, head = int(starts[-1]), starts[:-1], head[:-1]
        if len(starts):
            if self.origin_s is None:
                self.origin_s = int(head[0, 0])
            arrival = (head[:, 0] - self.origin_s) + head[:, 1] / ticks_per_s
            links = np.full(len(starts), link, dtype=np.int64)
            self.decode(buf, starts + 16, head[:, 2], arrival, links)
        return pos

    def walk_pcapng(self, buf: bytearray, end: int) -> int:
        """Decode the complete blocks in ``buf[:end]``; return where an incomplete one starts."""
        offsets = _Offsets()
        add, pos, limit = offsets.single.append, 0, end - 12
        while pos <= limit:
            block_at = struct.Struct(self.endian + "II").unpack_from
            for _ in _BATCH:  # consecutive enhanced packet blocks, the bulk of a file
                btype, blen = block_at(buf, pos)
                if btype != _EPB or blen & 3 or not 32 <= blen <= _MAX_EPB:
                    break
                add(pos)
                pos += blen
                if pos > limit:
                    break
            else:
                stride = offsets.steady(pos)
                if stride:
                    checks = [(0, self.endian + "u4", _EPB), (4, self.endian + "u4", stride)]
                    pos += stride * offsets.run(buf, end, pos, stride, checks)
                continue
            if pos > limit:
                break
            skip = self._other_block(buf, end, pos, offsets)
            if not skip:
                break
            pos += skip
        return min(pos, self._packet_blocks(buf, end, offsets.take()))

    def _other_block(self, buf: bytearray, end: int, pos: int, offsets: _Offsets) -> int:
        """Handle one block that is not a plain EPB; its length, or 0 if it is incomplete."""
        btype, blen = struct.unpack_from(self.endian + "II", buf, pos)
        if btype == _SHB:  # the same in either byte order; it sets the order that follows
            self._packet_blocks(buf, end, offsets.take())
            order = bytes(buf[pos + 8 : pos + 12])
            if order not in _BYTE_ORDER:
                raise _FramingError("a section header has no valid byte-order magic", pos)
            self.endian, self.interfaces = _BYTE_ORDER[order], []
            blen = struct.unpack_from(self.endian + "I", buf, pos + 4)[0]
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            raise _FramingError(f"a block of type {btype:#x} claims {blen} bytes", pos)
        if pos + blen > end:
            return 0
        if btype in (_EPB, _OPB):
            offsets.single.append(pos)
        elif struct.unpack_from(self.endian + "I", buf, pos + blen - 4)[0] != blen:
            raise _FramingError(f"a block of type {btype:#x} has mismatched lengths", pos)
        elif btype == _IDB:
            self.interfaces.append(self._interface(bytes(buf[pos : pos + blen]), pos))
        elif btype == _SPB:
            self.skipped["pcapng-simple-packet-without-timestamp"] += 1
        elif btype not in _IGNORED_BLOCKS and btype != _SHB:
            self.skipped["unknown-pcapng-block"] += 1
        return int(blen)

    def _interface(self, block: bytes, pos: int) -> _Interface:
        if len(block) < 20:
            raise _FramingError("an interface description block is too short", pos)
        link = struct.unpack_from(self.endian + "H", block, 8)[0]
        ticks, offset, at = 1_000_000, 0, 16
        while at + 4 <= len(block) - 4:
            code, size = struct.unpack_from(self.endian + "HH", block, at)
            value = block[at + 4 : at + 4 + size]
            if code == 0 or len(value) < size:
                break
            if code == 9 and size >= 1:  # if_tsresol: 10^-v, or 2^-v with the top bit set
                ticks = 2 ** (value[0] & 0x7F) if value[0] & 0x80 else 10 ** value[0]
            elif code == 14 and size >= 8:  # if_tsoffset, whole seconds
                offset = struct.unpack_from(self.endian + "q", value)[0]
            at += 4 + (size + 3) // 4 * 4
        if ticks >= 2**63:
            raise _FramingError("an interface has a timestamp resolution finer than 2^-63 s", pos)
        return _Interface(link, ticks, offset)

    def _packet_blocks(self, buf: bytearray, end: int, starts: I64) -> int:
        """Decode the packet blocks walked so far; return where an incomplete last one starts."""
        head = _u32_rows(buf, starts, 7, self.endian)
        cut = end
        if len(starts) and starts[-1] + head[-1, 1] > end:  # only the last can be cut
            cut, starts, head = int(starts[-1]), starts[:-1], head[:-1]
        if not len(starts):
            return cut
        btype, blen, caplen = head[:, 0], head[:, 1], head[:, 5]
        trailer = _u32_rows(buf, starts + blen - 4, 1, self.endian)[:, 0]
        if np.any(trailer != blen):
            at = int(starts[np.argmax(trailer != blen)])
            raise _FramingError("a packet block has mismatched lengths", at)
        iface = head[:, 2]
        old = btype == _OPB  # its interface id is a 16-bit field at the same offset
        iface[old] = (iface[old] & 0xFFFF) if self.endian == "<" else (iface[old] >> 16)
        keep = np.ones(len(starts), dtype=bool)
        for reason, bad in (
            ("cut-record", (caplen > blen - 32) | (caplen > MAX_CAPLEN)),
            ("unknown-interface", iface >= len(self.interfaces)),
        ):
            self.skipped[reason] += int(np.count_nonzero(bad & keep))
            keep &= ~bad
        if not keep.all():
            self.records += int(np.count_nonzero(~keep))
            starts, head, iface = starts[keep], head[keep], iface[keep]
        if not len(starts):
            return cut
        ticks = (head[:, 3].astype(np.uint64) << np.uint64(32)) | head[:, 4].astype(np.uint64)
        arrival = np.zeros(len(starts))
        links = np.zeros(len(starts), dtype=np.int64)
        for number in np.unique(iface):
            which = iface == number
            spec = self.interfaces[int(number)]
            per_s = np.uint64(spec.ticks_per_s)
            seconds, rest = ticks[which] // per_s, ticks[which] % per_s
            if self.origin_s is None:
                self.origin_s = int(seconds[0]) + spec.offset_s
            whole = seconds.astype(np.int64) + (spec.offset_s - self.origin_s)
            arrival[which] = whole + rest / spec.ticks_per_s
            links[which] = spec.link_type
        self.decode(buf, starts + 28, head[:, 5], arrival, links)
        return cut


def _u32_rows(buf: bytearray, starts: I64, words: int, endian: str) -> I64:
    """``words`` 32-bit fields from each offset, as an (n, words) int64 array."""
    raw = _gather(buf, starts, np.dtype((np.void, words * 4))).view(np.uint8)
    fields_: I64 = raw.view(endian + "u4").reshape(-1, words).astype(np.int64)
    return fields_


def read_capture(path: str | Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Capture:
    """Every UDP datagram of a pcap or pcapng file, as columns in file order."""
    path = Path(path)
    reader = _Reader(path, chunk_bytes)
    try:
        with path.open("rb") as stream:
            size = path.stat().st_size
            header = stream.read(24)
            if not header:
                raise CaptureError(f"{path} is empty: it holds no capture.")
            if header[:4] in _PCAP_MAGICS:
                if len(header) < 24:
                    raise CaptureError(f"{path} is cut short inside its pcap file header.")
                reader.endian, ticks_per_s = _PCAP_MAGICS[header[:4]]
                link = struct.unpack_from(reader.endian + "I", header, 20)[0] & 0xFFFF
                reader.base, kind = 24, "pcap"
                reader.loop(
                    stream, b"", lambda buf, end: reader.walk_pcap(buf, end, ticks_per_s, link)
                )
            elif header[:4] == b"\x0a\x0d\x0d\x0a":
                kind = "pcapng"
                reader.loop(stream, header, reader.walk_pcapng)
            else:
                raise CaptureError(
                    f"{path} is not a pcap or pcapng capture (it starts with 0x{header[:4].hex()})."
                )
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}.") from exc
    packets = _concat(reader.batches, reader.addresses, reader.origin_s or 0)
    info = CaptureInfo(
        path=str(path),
        format=kind,
        size_bytes=size,
        link_types=tuple(sorted(reader.link_types)),
        records=reader.records,
        udp_packets=len(packets.arrival_s),
    )
    skipped = {reason: count for reason, count in sorted(reader.skipped.items()) if count}
    return Capture(info, packets, skipped)
