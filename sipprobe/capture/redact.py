"""Blanking digest credentials inside a pcap file, so evidence can be handed on.

A capture holds the SIP messages as they were on the wire, including the digest ``response``
and ``cnonce`` of every Authorization and Proxy-Authorization header; with the nonce beside
them they allow an offline password guess. They are overwritten in place with ``x`` of the
same length (lengths, sequence numbers and the rest of the message stay as they were) and
the UDP/TCP checksum of each changed packet is recomputed, so Wireshark shows no errors.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from sipprobe.atomic import write_atomically
from sipprobe.capture.pcapfile import network_offset, pcap_header, read_file

_CREDENTIAL_LINE = re.compile(rb"(?im)^(?:proxy-)?authorization[ \t]*:[^\r\n]*")
_SECRET_PARAM = re.compile(rb"(?i)(\b(?:response|cnonce)[ \t]*=[ \t]*\"?)([^\",\r\n]+)")


def _blank_line(line: re.Match[bytes]) -> bytes:
    return _SECRET_PARAM.sub(lambda m: m.group(1) + b"x" * len(m.group(2)), line.group(0))


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


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
    data = read_file(path)
    endian, link, _ = pcap_header(path, data)
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
                network = network_offset(record, link)
                if network is not None:
                    _fix_checksum(record, network)
                out[start:end] = record
                changed += 1
        position = end
    if changed:
        write_atomically(path, bytes(out))
    return changed
