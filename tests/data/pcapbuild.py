"""Write pcap and pcapng bytes by hand, for layouts scapy's writers do not produce.

Big-endian files, several interfaces with their own link type and timestamp resolution,
``if_tsoffset``, simple and obsolete packet blocks, unknown and custom blocks, and several
sections in one file. Each function returns the bytes of one header, record or block.
"""

from __future__ import annotations

import struct

SHB_TYPE, IDB_TYPE, OPB_TYPE, SPB_TYPE, EPB_TYPE = 0x0A0D0D0A, 1, 2, 3, 6


def pcap_header(*, endian: str = "<", nano: bool = False, link: int = 1) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    return struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 262144, link)


def pcap_record(seconds: int, fraction: int, frame: bytes, *, endian: str = "<") -> bytes:
    return struct.pack(endian + "IIII", seconds, fraction, len(frame), len(frame)) + frame


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def block(block_type: int, body: bytes, *, endian: str = "<") -> bytes:
    """A pcapng block of any type: type, total length, body (padded), total length."""
    body = _pad(body)
    size = 12 + len(body)
    return struct.pack(endian + "II", block_type, size) + body + struct.pack(endian + "I", size)


def shb(*, endian: str = "<") -> bytes:
    body = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    return block(SHB_TYPE, body, endian=endian)


def idb(
    link: int,
    *,
    endian: str = "<",
    tsresol: int | None = None,
    tsoffset: int | None = None,
) -> bytes:
    options = b""
    if tsresol is not None:
        options += struct.pack(endian + "HH", 9, 1) + _pad(bytes([tsresol]))
    if tsoffset is not None:
        options += struct.pack(endian + "HHq", 14, 8, tsoffset)
    if options:
        options += struct.pack(endian + "HH", 0, 0)
    return block(IDB_TYPE, struct.pack(endian + "HHI", link, 0, 0) + options, endian=endian)


def epb(interface: int, ticks: int, frame: bytes, *, endian: str = "<") -> bytes:
    head = struct.pack(
        endian + "IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)
    )
    return block(EPB_TYPE, head + frame, endian=endian)


def opb(interface: int, ticks: int, frame: bytes, *, endian: str = "<") -> bytes:
    head = struct.pack(
        endian + "HHIIII", interface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)
    )
    return block(OPB_TYPE, head + frame, endian=endian)


def spb(frame: bytes, *, endian: str = "<") -> bytes:
    return block(SPB_TYPE, struct.pack(endian + "I", len(frame)) + frame, endian=endian)
