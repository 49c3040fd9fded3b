"""Walking the records of a classic pcap file (what tcpdump writes), without a dependency.

The probe reads back its own captures here for the few things the numpy reader does not keep:
payload bytes of one call's RTP (echo measurement) and whole frames (credential redaction).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from sipprobe.errors import CaptureError

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}
_ETHERNET, _RAW, _SLL, _SLL2 = 1, 101, 113, 276


def network_offset(frame: bytes | bytearray, link: int) -> int | None:
    if link == _RAW:
        return 0
    if link == _SLL:
        offset, ethertype_at = 16, 14
    elif link == _SLL2:
        offset, ethertype_at = 20, 0
    elif link == _ETHERNET:
        offset, ethertype_at = 14, 12
        while frame[ethertype_at : ethertype_at + 2] in (b"\x81\x00", b"\x88\xa8"):
            offset += 4
            ethertype_at += 4
    else:
        return None
    return offset if frame[ethertype_at : ethertype_at + 2] in (b"\x08\x00", b"\x86\xdd") else None


def pcap_records(path: Path) -> Iterator[tuple[float, int, bytes]]:
    """(arrival time, link type, frame) of each record of a classic pcap file."""
    data = read_file(path)
    endian, link, nano = pcap_header(path, data)
    position = 24
    while position + 16 <= len(data):
        seconds, fraction, captured = struct.unpack_from(f"{endian}III", data, position)
        start, end = position + 16, position + 16 + captured
        if end > len(data):
            return  # a cut last record
        yield seconds + fraction / (1e9 if nano else 1e6), link, data[start:end]
        position = end


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror}") from exc


def pcap_header(path: Path, data: bytes) -> tuple[str, int, bool]:
    endian = PCAP_MAGICS.get(data[:4])
    if endian is None or len(data) < 24:
        raise CaptureError(f"{path} is not a pcap file tcpdump wrote")
    link = struct.unpack_from(f"{endian}I", data, 20)[0] & 0x0FFFFFFF
    return endian, link, data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
