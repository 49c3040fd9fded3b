"""Walking pcap records and pcapng blocks in chunks: where each packet starts, and its time.

The file is read in chunks into one reused buffer; record boundaries are walked with a lean
loop over length fields, and a run of records of equal length is confirmed in one vectorised
step (each verified length fixes where the next record starts, so the run is exact, not a
guess). Each chunk's packets go to ``frames.decode_frames`` and their columns into a
``ColumnSink``. Memory holds one chunk plus the columns.

A length field that makes the framing meaningless raises ``FramingError`` (with its offset in
the buffer), which the reader turns into a one-sentence ``CaptureError``.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path

import numpy as np

from sipprobe.analysis.frames import I64, PAD, decode_frames, gather
from sipprobe.analysis.packets import AddressTable, ColumnSink
from sipprobe.analysis.reassembly import Fragment, reassemble
from sipprobe.analysis.runs import Offsets
from sipprobe.errors import CaptureError

__all__ = ["MAX_CAPLEN", "MAX_EPB", "FramingError", "Reader", "pcapng_head"]

MAX_CAPLEN = 256 * 1024
MAX_BLOCK = 16 * 1024 * 1024
MAX_EPB = MAX_CAPLEN + 32 + 64 * 1024  # larger ones (huge options) take the slow path
_BATCH = range(64)  # records walked between two looks for a run of eight equal lengths
# Rows the columns are first sized for at most (about 0.7 GiB of address space, which is
# only touched as packets arrive); a larger capture grows them by doubling.
_MAX_GUESS_ROWS = 16 * 1024 * 1024
_SHB, _IDB, _OPB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6
_BYTE_ORDER = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
_IGNORED_BLOCKS = {4, 5, 9, 10, 0x0BAD, 0x40000BAD}  # names, statistics, journal, secrets, custom


class FramingError(Exception):
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

    def second(self, ticks: int) -> int:
        """The Unix second of a packet block's timestamp."""
        return ticks // self.ticks_per_s + self.offset_s


class Reader:
    """Reads ``covers`` bytes of a capture chunk by chunk (``loop`` and a walk), decoding each
    chunk's packets into ``sink``: the whole file, or one part of it in a two-process read,
    whose parts ``take_over`` joins. Counts, address numbers and IP fragments last from chunk
    to chunk; ``reassemble`` ends the reading."""

    def __init__(self, path: Path, covers: int, chunk_bytes: int) -> None:
        self.path = path
        self.covers = covers  # bytes of the file this reader reads: sizes its columns
        self.chunk_bytes = chunk_bytes
        self.skipped: Counter[str] = Counter()
        self.addresses = AddressTable()
        self.offsets = Offsets()
        self.sink = ColumnSink()
        self.fragments: list[Fragment] = []  # IP fragments, put together at the end
        self.records = 0
        self.link_types: set[int] = set()
        self.base = 0  # file offset of the current buffer
        self.endian = ""
        self.interfaces: list[_Interface] = []
        self.sealed = False  # pcapng: the interfaces were given; a block changing them is fatal
        self.origin_s: int | None = None

    def loop(
        self,
        stream: BufferedReader,
        first: bytes,
        walk: Callable[[bytearray, int], int],
        stop: int | None = None,
    ) -> int:
        """Feed chunks to ``walk``, which decodes the complete records and says how far it got.

        One buffer is reused for the whole file (a ``PAD`` tail past the data lets fixed-width
        windows start at any record), so reading costs no copies beyond ``readinto``. With
        ``stop`` (a file offset) it reads no further, as if the file ended there. Returns how
        many bytes were left over: part of a record (counted as a skip when the file ends).
        """
        buf = bytearray(self.chunk_bytes + len(PAD))
        end = len(first)
        buf[:end] = first
        while True:
            if end == len(buf) - len(PAD):  # one record fills the buffer: make room
                buf = buf[:end] + bytearray(len(buf))
            room = len(buf) - len(PAD)
            if stop is not None:
                room = min(room, stop - self.base)
            with memoryview(buf) as view:
                got = stream.readinto(view[end:room]) if room > end else 0
            end += got
            try:
                consumed = walk(buf, end)
            except FramingError as exc:
                raise CaptureError(
                    f"{self.path} is corrupt at byte {self.base + exc.pos}: {exc.problem}."
                ) from None
            buf[: end - consumed] = buf[consumed:end]
            self.base, end = self.base + consumed, end - consumed
            if not got:
                break
        if end and stop is None:
            self.skipped["truncated-record"] += 1
        return end

    def take_over(self, other: Reader) -> None:
        """Append what ``other`` read (the rest of the same file) to what this one read."""
        mapping = self.addresses.merge(other.addresses)
        columns = {name: column[: other.sink.size] for name, column in other.sink.columns.items()}
        columns["src_addr"], columns["dst_addr"] = (
            mapping[columns["src_addr"]],
            mapping[columns["dst_addr"]],
        )
        self.sink.add((columns, other.sink.payloads))
        self.skipped.update(other.skipped)
        self.fragments += other.fragments
        self.records += other.records
        self.link_types |= other.link_types

    def reassemble(self) -> None:
        """Decode the datagrams that the fragments make whole, as rows after the others."""
        if not self.fragments:
            return
        datagrams, unused = reassemble(self.fragments)
        self.fragments = []
        self.skipped["ip-fragment"] += unused
        if not datagrams:
            return
        lengths = np.array([len(d.packet) for d in datagrams], dtype=np.int64)
        buf = bytearray(b"".join(d.packet for d in datagrams) + PAD)
        batch = decode_frames(
            buf,
            data_off=np.cumsum(lengths) - lengths,
            caplen=lengths,
            arrival=np.array([d.arrival_s for d in datagrams]),
            link=np.array([d.link_type for d in datagrams], dtype=np.int64),
            addresses=self.addresses,
            skipped=self.skipped,
        )
        self.sink.add(batch)

    def decode(
        self, buf: bytearray, data_off: I64, caplen: I64, arrival: np.ndarray, link: I64
    ) -> None:
        self.records += len(data_off)
        same = len(link) and bool((link == link[0]).all())
        self.link_types.update([int(link[0])] if same else (int(x) for x in np.unique(link)))
        batch = decode_frames(
            buf,
            data_off=data_off,
            caplen=caplen,
            arrival=arrival,
            link=link,
            addresses=self.addresses,
            skipped=self.skipped,
            fragments=self.fragments,
        )
        if not self.sink.size and len(data_off):  # size the columns from the first chunk
            guess = self.covers * len(data_off) // int(data_off[-1] + caplen[-1])
            self.sink.expect(min(_MAX_GUESS_ROWS, guess + guess // 4 + 64))  # smaller ones follow
        self.sink.add(batch)

    def walk_pcap(self, buf: bytearray, end: int, ticks_per_s: int, link: int) -> int:
        """Decode the complete records in ``buf[:end]``; return where an incomplete one starts."""
        length_at = struct.Struct(self.endian + "8xI").unpack_from
        offsets, field = self.offsets, self.endian + "u4"
        add, pos, limit = offsets.single.append, 0, end - 16
        while pos <= limit:
            resume = offsets.expected()
            for _ in _BATCH:  # the plain walk, as lean as Python allows: checks come after
                add(pos)
                length = 16 + length_at(buf, pos)[0]
                pos += length
                if length == resume or pos > limit:
                    break
            else:
                length = offsets.steady(pos)
            if length and pos <= limit:
                pos += length * offsets.run(buf, end, pos, length, [(8, field, length - 16)])
        starts = offsets.take()
        head = _u32_rows(buf, starts, 4, self.endian)
        absurd = np.flatnonzero(head[:, 2] > MAX_CAPLEN)
        if len(absurd):
            caplen, at = int(head[absurd[0], 2]), int(starts[absurd[0]])
            raise FramingError(f"a record claims {caplen} bytes, more than {MAX_CAPLEN}", at)
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
        offsets = self.offsets
        add, pos, limit = offsets.single.append, 0, end - 12
        while pos <= limit:
            field = self.endian + "u4"  # a section header may change the byte order
            block_at = struct.Struct(self.endian + "II").unpack_from
            resume, length, other = offsets.expected(), 0, False
            for _ in _BATCH:  # consecutive enhanced packet blocks, the bulk of a file
                btype, blen = block_at(buf, pos)
                other = btype != _EPB or blen & 3 or not 32 <= blen <= MAX_EPB
                if other:
                    break
                add(pos)
                pos += blen
                if blen == resume or pos > limit:
                    length = blen
                    break
            else:
                length = offsets.steady(pos)
            if pos > limit:
                break
            if other:
                skip = self._other_block(buf, end, pos, offsets)
                if not skip:
                    break
                pos += skip
            elif length:
                checks = [(0, field, _EPB), (4, field, length)]
                pos += length * offsets.run(buf, end, pos, length, checks)
        return min(pos, self._packet_blocks(buf, end, offsets.take()))

    def _other_block(self, buf: bytearray, end: int, pos: int, offsets: Offsets) -> int:
        """Handle one block that is not a plain EPB; its length, or 0 if it is incomplete."""
        btype, blen = struct.unpack_from(self.endian + "II", buf, pos)
        if self.sealed and btype in (_SHB, _IDB):
            raise RuntimeError("a section or interface block where the interfaces were fixed")
        if btype == _SHB:  # the same in either byte order; it sets the order that follows
            self._packet_blocks(buf, end, offsets.take())
            order = bytes(buf[pos + 8 : pos + 12])
            if order not in _BYTE_ORDER:
                raise FramingError("a section header has no valid byte-order magic", pos)
            self.endian, self.interfaces = _BYTE_ORDER[order], []
            blen = struct.unpack_from(self.endian + "I", buf, pos + 4)[0]
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            raise FramingError(f"a block of type {btype:#x} claims {blen} bytes", pos)
        if pos + blen > end:
            return 0
        if btype in (_EPB, _OPB):
            offsets.single.append(pos)
        elif struct.unpack_from(self.endian + "I", buf, pos + blen - 4)[0] != blen:
            raise FramingError(f"a block of type {btype:#x} has mismatched lengths", pos)
        elif btype == _IDB:
            self.interfaces.append(_interface(bytes(buf[pos : pos + blen]), pos, self.endian))
        elif btype == _SPB:
            self.skipped["pcapng-simple-packet-without-timestamp"] += 1
        elif btype not in _IGNORED_BLOCKS and btype != _SHB:
            self.skipped["unknown-pcapng-block"] += 1
        return int(blen)

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
            raise FramingError("a packet block has mismatched lengths", at)
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
        if self.origin_s is None:  # the whole second of the first packet block
            self.origin_s = self.interfaces[int(iface[0])].second(int(ticks[0]))
        arrival = np.zeros(len(starts))
        links = np.zeros(len(starts), dtype=np.int64)
        for number in np.unique(iface):
            which = iface == number
            spec = self.interfaces[int(number)]
            per_s = np.uint64(spec.ticks_per_s)
            seconds, rest = ticks[which] // per_s, ticks[which] % per_s
            whole = seconds.astype(np.int64) + (spec.offset_s - self.origin_s)
            arrival[which] = whole + rest / spec.ticks_per_s
            links[which] = spec.link_type
        self.decode(buf, starts + 28, head[:, 5], arrival, links)
        return cut


def _u32_rows(buf: bytearray, starts: I64, words: int, endian: str) -> I64:
    """``words`` 32-bit fields from each offset, as an (n, words) int64 array."""
    raw = gather(buf, starts, np.dtype((np.void, words * 4))).view(np.uint8)
    fields_: I64 = raw.view(endian + "u4").reshape(-1, words).astype(np.int64)
    return fields_


def pcapng_head(data: bytes) -> tuple[str, list[_Interface], int] | None:
    """Byte order, interfaces and the first packet block's second, from the start of a pcapng
    file (``data``), if its first section describes its interfaces before its first packet."""
    if len(data) < 12 or data[8:12] not in _BYTE_ORDER:
        return None
    endian, interfaces = _BYTE_ORDER[data[8:12]], []
    pos = struct.unpack_from(endian + "I", data, 4)[0]
    while pos + 28 <= len(data):
        btype, blen = struct.unpack_from(endian + "II", data, pos)
        if blen < 12 or blen % 4 or btype == _SHB or pos + blen > len(data):
            return None
        if btype == _IDB:
            try:
                interfaces.append(_interface(data[pos : pos + blen], pos, endian))
            except FramingError:
                return None
        elif btype == _EPB:
            iface, high, low = struct.unpack_from(endian + "III", data, pos + 8)
            if iface >= len(interfaces):
                return None
            return endian, interfaces, interfaces[iface].second(high << 32 | low)
        elif btype in (_OPB, _SPB):
            return None
        pos += blen
    return None


def _interface(block: bytes, pos: int, endian: str) -> _Interface:
    """An interface description block's link type and clock."""
    if len(block) < 20:
        raise FramingError("an interface description block is too short", pos)
    link = struct.unpack_from(endian + "H", block, 8)[0]
    ticks, offset, at = 1_000_000, 0, 16
    while at + 4 <= len(block) - 4:
        code, size = struct.unpack_from(endian + "HH", block, at)
        value = block[at + 4 : at + 4 + size]
        if code == 0 or len(value) < size:
            break
        if code == 9 and size >= 1:  # if_tsresol: 10^-v, or 2^-v with the top bit set
            ticks = 2 ** (value[0] & 0x7F) if value[0] & 0x80 else 10 ** value[0]
        elif code == 14 and size >= 8:  # if_tsoffset, whole seconds
            offset = struct.unpack_from(endian + "q", value)[0]
        at += 4 + (size + 3) // 4 * 4
    if ticks >= 2**63:
        raise FramingError("an interface has a timestamp resolution finer than 2^-63 s", pos)
    return _Interface(link, ticks, offset)
