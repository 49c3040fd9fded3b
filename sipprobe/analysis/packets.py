"""A capture's UDP datagrams as columns, and the capture-wide tables that fill them.

``UdpPackets`` is what the reader returns; ``ColumnSink`` fills its columns batch by batch;
``AddressTable`` numbers the addresses for the whole capture as the batches come.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.keys import KeyIndex
from sipprobe.model.endpoint import Endpoint

__all__ = [
    "RTCP_PAYLOAD_TYPES",
    "AddressTable",
    "Batch",
    "ColumnSink",
    "UdpPackets",
    "rtp_candidates",
]


@dataclass(frozen=True, slots=True)
class UdpPackets:
    """UDP datagrams as columns, one row per packet in file order.

    ``src_addr``/``dst_addr`` index ``addresses`` (text; IPv6 compressed); the numbers follow
    the order in which the reader met the addresses, which depends on how it cut the file
    into chunks (and processes), so compare the addresses, not their numbers. The ``rtp_*``
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
        return _endpoint_text(self.addresses[address], port)


@functools.lru_cache(maxsize=4096)
def _endpoint_text(host: str, port: int) -> str:
    # Called for every RTCP packet, over few distinct endpoints: a cache hit costs a fifth of
    # building the Endpoint.
    return str(Endpoint(host, port))


_COLUMNS = tuple(f.name for f in fields(UdpPackets) if f.type.startswith("NDArray"))
_DTYPES = {  # each column's type, as UdpPackets declares it
    f.name: np.dtype(getattr(np, f.type.removeprefix("NDArray[np.").removesuffix("]")))
    for f in fields(UdpPackets)
    if f.name in _COLUMNS
}
Batch = tuple[dict[str, NDArray[Any]], list[tuple[int, bytes]]]
# RTCP packet types 200-207 (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR) read as marker + PT;
# RFC 5761 keeps RTP out of 64-95 so that RTCP multiplexed on the RTP port stays apart.
RTCP_PAYLOAD_TYPES = range(72, 80)


def rtp_candidates(
    version: NDArray[Any], payload_len: NDArray[Any], payload_type: NDArray[Any]
) -> NDArray[np.bool_]:
    """Rows whose payload parses as an RTP packet (version 2, a media length) and not RTCP."""
    rtcp = (payload_type >= RTCP_PAYLOAD_TYPES.start) & (payload_type < RTCP_PAYLOAD_TYPES.stop)
    candidate: NDArray[np.bool_] = (version == 2) & (payload_len >= 0) & ~rtcp
    return candidate


class AddressTable:
    """Gives every distinct address one small integer for the whole capture.

    IPv4 lookups are the hot path (two per packet): a ``KeyIndex`` maps the 32-bit addresses
    in a few vector operations; a miss adds the new addresses.
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self._index: dict[bytes, int] = {}
        self._v4 = KeyIndex()
        self._v4_ids = np.zeros(0, dtype=np.int32)  # address number of each IPv4 key

    def ids_v4(self, addresses: NDArray[Any]) -> NDArray[np.int32]:
        keys = addresses.astype(np.uint64)
        numbers, found = self._v4.lookup(keys)
        if not found.all():
            known = len(self._v4)
            self._v4.add(keys[~found])
            new = [self._id(int(k).to_bytes(4, "big")) for k in self._v4.keys[known:]]
            self._v4_ids = np.concatenate([self._v4_ids, np.array(new, dtype=np.int32)])
            numbers = self._v4.lookup(keys)[0]
        ids: NDArray[np.int32] = self._v4_ids[numbers]
        return ids

    def merge(self, other: AddressTable) -> NDArray[np.int32]:
        """This table's number of each of ``other``'s addresses (indexed by its numbers: its
        ``_index`` dict holds them in the order they were numbered)."""
        return np.array([self._id(key) for key in other._index], dtype=np.int32)

    def ids_v6(self, addresses: NDArray[np.void]) -> NDArray[np.int32]:
        unique, inverse = np.unique(addresses, return_inverse=True)
        lookup = np.array([self._id(bytes(k)) for k in unique], dtype=np.int32)
        return lookup[inverse.ravel()] if len(unique) else np.zeros(0, dtype=np.int32)

    def _id(self, key: bytes) -> int:
        if key not in self._index:
            self._index[key] = len(self.names)
            self.names.append(str(ipaddress.ip_address(key)))
        return self._index[key]


class ColumnSink:
    """The columns of ``UdpPackets``, filled batch by batch in place.

    Each batch's values are cast straight into preallocated arrays (from the strided header
    fields, mostly), so a column is written once: no per-batch copies kept until the end and
    no concatenation doubling the peak memory. Capacity grows by doubling when a guess was
    short; ``expect`` lets the reader size it from the file once it knows the record size.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.size = 0
        self.columns = {name: np.empty(capacity, dtype=_DTYPES[name]) for name in _COLUMNS}
        self.payloads: list[tuple[int, bytes]] = []
        self.fixed = False  # columns in memory the sink does not own: they cannot grow

    @classmethod
    def over(cls, memory: Any, capacity: int) -> ColumnSink:
        """A sink whose columns live in ``memory`` (``shared_bytes(capacity)`` long, e.g. an
        anonymous shared mapping that a child process fills); it never grows."""
        sink = cls(0)
        offset = 0
        for name in _COLUMNS:
            dtype = _DTYPES[name]
            sink.columns[name] = np.frombuffer(memory, dtype, capacity, offset)
            offset += capacity * dtype.itemsize
        sink.fixed = True
        return sink

    @staticmethod
    def shared_bytes(capacity: int) -> int:
        """Bytes of memory that ``over`` needs for ``capacity`` rows; a capacity that is a
        multiple of 8 keeps every column 8-byte aligned."""
        return capacity * sum(int(_DTYPES[name].itemsize) for name in _COLUMNS)

    def expect(self, rows: int) -> None:
        """Make room for ``rows`` rows in all (a hint; more may come)."""
        capacity = len(self.columns["arrival_s"])
        if rows > capacity and not self.fixed:
            for name, old in self.columns.items():
                new = np.empty(rows, dtype=old.dtype)
                new[: self.size] = old[: self.size]
                self.columns[name] = new

    def add(self, batch: Batch) -> None:
        values, payloads = batch
        start, count = self.size, len(values["arrival_s"])
        if start + count > len(self.columns["arrival_s"]):
            if self.fixed:
                raise RuntimeError(f"more than {start} rows for a sink of fixed size")
            self.expect(max(2 * len(self.columns["arrival_s"]), start + count))
        for name, column in self.columns.items():
            np.copyto(column[start : start + count], values[name], casting="unsafe")
        self.payloads.extend((start + row, data) for row, data in payloads)
        self.size += count

    def finish(self, addresses: AddressTable, origin_s: int) -> UdpPackets:
        """The packets so far; views of the sink's arrays (unused capacity is never touched)."""
        columns = {name: column[: self.size] for name, column in self.columns.items()}
        return UdpPackets(
            origin_s,
            **columns,
            addresses=tuple(addresses.names),
            payloads=tuple(self.payloads),
        )
