"""Read pcap and pcapng captures into numpy columns, one row per UDP datagram.

Why not scapy: dissecting every packet into Python objects runs at tens of thousands of packets
per second, far too slow for a capture of a busy trunk. ``framing`` walks the records in
chunks, ``frames`` decodes each chunk's headers as numpy columns, ``packets`` holds them.

A large capture may be read by two processes (``workers=2``, what ``sipprobe analyze`` asks
for): a child reads the second half while this process reads the first. The child starts at a
record boundary found by a plausibility scan (a chain of record headers with sane lengths and
times, or of enhanced packet blocks whose two length fields agree); that guess is then proven,
since this process, walking from the start, must end its half exactly there, or it reads the
whole file itself. A pcapng file splits only if its one section names its interfaces before
the first packet and neither half adds one (the child gives up on such a block, this process
checks its own half). So the result is the same as one process reading alone, row for row
(tests and a fuzz hold it to that), address numbers aside: they follow the reading order.

A damaged file is either fatal (``CaptureError``, one sentence: wrong magic, a length field
that makes the framing meaningless) or a per-packet skip counted by reason in
``Capture.skipped`` (cut by the snap length, a fragment, not UDP, a file cut mid-record).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path
from typing import Any

import numpy as np

from sipprobe.analysis.forked import DAMAGED, FAILED, Forked, may_fork
from sipprobe.analysis.framing import MAX_CAPLEN, MAX_EPB, Reader, pcapng_head
from sipprobe.analysis.packets import ColumnSink, UdpPackets
from sipprobe.errors import CaptureError

__all__ = ["Capture", "CaptureInfo", "UdpPackets", "read_capture"]

Walk = Callable[[bytearray, int], int]  # decodes the records in buf[:end], says how far it got

# Measured on the 1M-packet benchmark: 1 MiB keeps every per-chunk temporary array small
# enough for malloc to reuse (4 MiB ones are mapped and unmapped each chunk: 2.7x the page
# faults), at the same CPU time as 2 or 4 MiB; 512 KiB pays more per-chunk overhead.
DEFAULT_CHUNK_BYTES = 1024 * 1024
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
SPLIT_MIN_BYTES = 32 << 20  # below this a second process costs more than it saves
_PARENT_SHARE = 55  # % of the file this process reads: the child, slower to start, gets 45
_EPB = 6  # pcapng enhanced packet block
_SYNC_WINDOW = 256 << 10  # bytes scanned for a record boundary after the middle
_SYNC_RECORDS = 16  # plausible record headers in a row that make a boundary worth trying
_SYNC_TIME_S = 366 * 86400  # record times this far from the first one are implausible


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


def read_capture(
    path: str | Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES, workers: int = 1
) -> Capture:
    """Every UDP datagram of a pcap or pcapng file, as columns in file order, then the
    datagrams that IP fragments made whole.

    ``workers=2`` lets a file of ``SPLIT_MIN_BYTES`` or more be read by two processes
    (see the module docstring), where ``forked.may_fork()`` allows it.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            size = path.stat().st_size
            header = stream.read(24)
            if not header:
                raise CaptureError(f"{path} is empty: it holds no capture.")
            parallel = workers > 1 and size >= SPLIT_MIN_BYTES and may_fork()
            if header[:4] in _PCAP_MAGICS:
                if len(header) < 24:
                    raise CaptureError(f"{path} is cut short inside its pcap file header.")
                kind, in_two, alone = "pcap", _read_pcap_in_two, _read_pcap
            elif header[:4] == b"\x0a\x0d\x0d\x0a":
                kind, in_two, alone = "pcapng", _read_pcapng_in_two, _read_pcapng
            else:
                raise CaptureError(
                    f"{path} is not a pcap or pcapng capture (it starts with 0x{header[:4].hex()})."
                )
            reader = (
                in_two(path, size, stream, header, chunk_bytes) if parallel else None
            ) or alone(path, size, stream, header, chunk_bytes)
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}.") from exc
    reader.reassemble()
    packets = reader.sink.finish(reader.addresses, reader.origin_s or 0)
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


def _pcap_walk(reader: Reader, header: bytes) -> Walk:
    """Set ``reader`` up for a pcap file's byte order; its walk, for the file's link type."""
    reader.endian, ticks_per_s = _PCAP_MAGICS[header[:4]]
    link = struct.unpack_from(reader.endian + "I", header, 20)[0] & 0xFFFF
    return lambda buf, end: reader.walk_pcap(buf, end, ticks_per_s, link)


def _read_pcap(
    path: Path, size: int, stream: BufferedReader, header: bytes, chunk_bytes: int
) -> Reader:
    stream.seek(24)
    reader = Reader(path, size, chunk_bytes)
    reader.base = 24
    reader.loop(stream, b"", _pcap_walk(reader, header))
    return reader


def _read_pcapng(
    path: Path, size: int, stream: BufferedReader, header: bytes, chunk_bytes: int
) -> Reader:
    stream.seek(24)
    reader = Reader(path, size, chunk_bytes)
    reader.loop(stream, header, reader.walk_pcapng)
    return reader


def _read_pcap_in_two(
    path: Path, size: int, stream: BufferedReader, header: bytes, chunk_bytes: int
) -> Reader | None:
    """The whole pcap file read by this process and a child; None if that cannot be done."""
    reader = Reader(path, size, chunk_bytes)
    reader.base = 24
    walk = _pcap_walk(reader, header)
    first = stream.read(16)
    if len(first) < 16:
        return None
    origin_s = reader.origin_s = struct.unpack_from(reader.endian + "I", first)[0]
    ticks_per_s = _PCAP_MAGICS[header[:4]][1]
    split = _boundary_after_middle(stream, size, reader.endian, ticks_per_s, origin_s)
    if split is None:
        return None

    def setup(tail: Reader) -> Walk:
        tail.origin_s = origin_s
        return _pcap_walk(tail, header)

    stream.seek(24)
    return _read_in_two(path, size, stream, b"", reader, walk, split, setup, chunk_bytes)


def _read_pcapng_in_two(
    path: Path, size: int, stream: BufferedReader, header: bytes, chunk_bytes: int
) -> Reader | None:
    """The whole pcapng file read by this process and a child, when its one section names
    its interfaces before the first packet and no block past the split changes them (the
    child fails on one; this process checks its own half); else None."""
    stream.seek(0)
    head = pcapng_head(stream.read(_SYNC_WINDOW))
    if head is None:
        return None
    endian, interfaces, origin_s = head
    split = _block_after_middle(stream, size, endian)
    if split is None:
        return None
    reader = Reader(path, size, chunk_bytes)
    reader.origin_s = origin_s

    def setup(tail: Reader) -> Walk:
        tail.endian, tail.interfaces, tail.origin_s = endian, list(interfaces), origin_s
        tail.sealed = True
        return tail.walk_pcapng

    def same_interfaces() -> bool:  # no interface added, no section begun in this half
        return (reader.endian, reader.interfaces) == (endian, interfaces)

    stream.seek(24)
    return _read_in_two(
        path,
        size,
        stream,
        header,
        reader,
        reader.walk_pcapng,
        split,
        setup,
        chunk_bytes,
        same_interfaces,
    )


def _read_in_two(
    path: Path,
    size: int,
    stream: BufferedReader,
    first: bytes,
    reader: Reader,
    walk: Walk,
    split: int,
    setup: Callable[[Reader], Walk],
    chunk_bytes: int,
    still_fits: Callable[[], bool] = lambda: True,
) -> Reader | None:
    """This process reads up to ``split`` (``first`` being what it already read of the
    file), a child set up by ``setup`` reads from there on; None if ``split`` was no record
    boundary, no child was had, or ``still_fits`` says this half broke the child's setup."""
    # The child's columns go straight into shared memory. A UDP record is at least 44 bytes
    # (16 of record header, 28 of IPv4 and UDP), which bounds the rows it can find; the row
    # count is rounded up to 8 so that every column starts 8-byte aligned.
    capacity = ((size - split) // 44 + 8) // 8 * 8
    try:  # address space only: pages are backed as the child writes them
        shared = mmap.mmap(-1, ColumnSink.shared_bytes(capacity))
    except OSError:  # no memory to spare: one process reads it all
        return None
    with Forked(_read_tail, shared, capacity, path, size, split, setup, chunk_bytes) as child:
        leftover = reader.loop(stream, first, walk, stop=split)
        status, tail = child.result()
    if leftover or status == FAILED or not still_fits():  # a record spans the boundary...
        return None
    if status == DAMAGED:  # the second half is corrupt: as fatal as when read in one go
        raise CaptureError(tail)
    tail.sink.columns = ColumnSink.over(shared, capacity).columns
    reader.take_over(tail)  # copies: the mapping goes when its last view does
    return reader


def _read_tail(
    shared: mmap.mmap,
    capacity: int,
    path: Path,
    size: int,
    split: int,
    setup: Callable[[Reader], Walk],
    chunk_bytes: int,
) -> Reader:
    """In the child: read the file from ``split`` on, its columns into ``shared``; the rest
    of the reader goes back to the parent."""
    with path.open("rb") as stream:  # its own file position, not the parent's
        stream.seek(split)
        tail = Reader(path, size - split, chunk_bytes)
        tail.base = split
        walk = setup(tail)
        tail.sink = ColumnSink.over(shared, capacity)
        tail.loop(stream, b"", walk)
    tail.sink.columns = {}  # the parent sees them in the shared memory
    return tail


def _block_after_middle(stream: BufferedReader, size: int, endian: str) -> int | None:
    """The first offset past 55 % of the file where ``_SYNC_RECORDS`` enhanced packet blocks
    follow one another (type, length and trailing length agree), or None. A guess: the
    caller proves it."""
    middle = (size * _PARENT_SHARE // 100 + 3) // 4 * 4  # blocks start 4-byte aligned
    stream.seek(middle)
    window = stream.read(_SYNC_WINDOW)
    count = (len(window) - 8) // 4
    if count < 1:
        return None
    words = np.frombuffer(window, endian + "u4", count=count + 2)
    lengths = words[1 : count + 1].astype(np.int64)
    starts = np.flatnonzero((words[:count] == _EPB) & (lengths % 4 == 0) & (lengths >= 32))
    for start in starts[:1000].tolist():
        at, hops = start * 4, 0
        while hops < _SYNC_RECORDS and at + 8 <= len(window):
            btype, blen = struct.unpack_from(endian + "II", window, at)
            if btype != _EPB or blen % 4 or not 32 <= blen <= MAX_EPB or at + blen > len(window):
                break
            if struct.unpack_from(endian + "I", window, at + blen - 4)[0] != blen:
                break
            at, hops = at + blen, hops + 1
        if hops == _SYNC_RECORDS:
            return int(middle + start * 4)
    return None


def _boundary_after_middle(
    stream: BufferedReader, size: int, endian: str, ticks_per_s: int, origin_s: int
) -> int | None:
    """The first offset past 55 % of the file where ``_SYNC_RECORDS`` plausible record headers
    follow one another, or None. A guess: the caller proves it."""
    middle = 24 + (size - 24) * _PARENT_SHARE // 100
    stream.seek(middle)
    window = stream.read(_SYNC_WINDOW)
    count = len(window) - 15
    if count < 1:
        return None

    def field(at: int) -> Any:
        view = np.ndarray((count,), endian + "u4", buffer=window, offset=at, strides=(1,))
        return view.astype(np.int64)

    seconds, fraction, caplen, length = field(0), field(4), field(8), field(12)
    plausible = (fraction < ticks_per_s) & (caplen <= length) & (length <= MAX_CAPLEN)
    plausible &= np.abs(seconds - origin_s) <= _SYNC_TIME_S
    for start in np.flatnonzero(plausible)[:1000].tolist():
        at, hops = start, 0
        while hops < _SYNC_RECORDS and at < count and plausible[at]:
            at, hops = at + 16 + int(caplen[at]), hops + 1
        if hops == _SYNC_RECORDS:
            return int(middle + start)
    return None
