"""Blanking digest credentials inside a pcap file, so evidence can be handed on.

A capture holds the SIP messages as they were on the wire, including the digest ``response``
and ``cnonce`` of every Authorization and Proxy-Authorization header; with the nonce beside
them they allow an offline password guess. They are overwritten in place with ``x`` of the
same length (lengths, sequence numbers and the rest of the message stay as they were) and
the UDP/TCP checksum of each changed packet is recomputed, so Wireshark shows no errors.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
from pathlib import Path

from sipprobe.errors import CaptureError

_CREDENTIAL_LINE = re.compile(rb"(?im)^(?:proxy-)?authorization[ \t]*:[^\r\n]*")
_SECRET_PARAM = re.compile(rb"(?i)(\b(?:response|cnonce)[ \t]*=[ \t]*\"?)([^\",\r\n]+)")
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}
_ETHERNET, _RAW, _SLL, _SLL2 = 1, 101, 113, 276


def _blank_line(line: re.Match[bytes]) -> bytes:
    return _SECRET_PARAM.sub(lambda m: m.group(1) + b"x" * len(m.group(2)), line.group(0))


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _network_offset(frame: bytes | bytearray, link: int) -> int | None:
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


def _fix_checksum(frame: bytearray, start: int) -> None:
    """Recompute the UDP or TCP checksum of the IP packet at ``start`` (no-op otherwise)."""
    version = frame[start] >> 4
    if version == 4:
        header = (frame[start] & 0x0F) * 4
        protocol = frame[start + 9]
        total = struct.unpack_from("!H", frame, start + 2)[0]
        segment_at, segment_len = start + header, total - header
        pseudo = bytes(frame[start + 12 : start + 20]) + struct.pack(
            "!BBH", 0, protocol, segment_len
        )
    elif version == 6:
        protocol = frame[start + 6]  # extension headers are not used for SIP here
        segment_at, segment_len = start + 40, struct.unpack_from("!H", frame, start + 4)[0]
        pseudo = bytes(frame[start + 8 : start + 40]) + struct.pack("!IxxxB", segment_len, protocol)
    else:
        return
    field = {17: 6, 6: 16}.get(protocol)
    if field is None or segment_at + segment_len > len(frame):
        return  # truncated by the snap length: nothing to make consistent
    struct.pack_into("!H", frame, segment_at + field, 0)
    value = _checksum(pseudo + bytes(frame[segment_at : segment_at + segment_len]))
    struct.pack_into("!H", frame, segment_at + field, value or 0xFFFF)


def redact_pcap(path: Path) -> int:
    """Blank digest credentials in a pcap file in place; returns how many packets changed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror}") from exc
    endian = _PCAP_MAGICS.get(data[:4])
    if endian is None or len(data) < 24:
        raise CaptureError(f"{path} is not a pcap file tcpdump wrote")
    link = struct.unpack_from(f"{endian}I", data, 20)[0] & 0x0FFFFFFF
    out = bytearray(data)
    changed = 0
    position = 24
    while position + 16 <= len(data):
        captured = struct.unpack_from(f"{endian}I", data, position + 8)[0]
        start, end = position + 16, position + 16 + captured
        if end > len(data):
            break  # a cut last record: leave it as it is
        frame = data[start:end]
        if b"uthorization" in frame:
            blanked = _CREDENTIAL_LINE.sub(_blank_line, frame)
            if blanked != frame:
                record = bytearray(blanked)
                network = _network_offset(record, link)
                if network is not None:
                    _fix_checksum(record, network)
                out[start:end] = record
                changed += 1
        position = end
    if changed:
        _replace(path, bytes(out))
    return changed


def _replace(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
