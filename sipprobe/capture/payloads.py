"""RTP payloads of chosen UDP ports from a pcap the probe wrote, with arrival times.

Only a call's own packets are wanted, a few thousand per call, so a plain walk over the
records is fast enough, and it spares every run the second it takes to import scapy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from sipprobe.capture.pcapfile import network_offset, pcap_records

_RTP_HEADER = 12


@dataclass(frozen=True, slots=True)
class RtpPayload:
    arrival_s: float
    src_port: int
    dst_port: int
    payload_type: int
    seq: int
    payload: bytes  # after the RTP header, CSRCs and extension
    timestamp: int = 0  # the RTP timestamp


def rtp_payload(data: bytes) -> bytes | None:
    """The media bytes of an RTP packet, or None when it is not one (or is cut)."""
    if len(data) < _RTP_HEADER or data[0] >> 6 != 2:
        return None
    offset = _RTP_HEADER + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:  # header extension: 4-byte header, length in 32-bit words
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data) - (data[-1] if data[0] & 0x20 and data else 0)
    return data[offset:end] if offset <= end else None


def _udp(frame: bytes, start: int) -> tuple[int, int, bytes] | None:
    """Source port, destination port and payload of a UDP datagram in an IP packet."""
    version = frame[start] >> 4 if len(frame) > start else 0
    if version == 4:
        header = (frame[start] & 0x0F) * 4
        if len(frame) < start + 20 or frame[start + 9] != 17:
            return None
        udp = start + header
    elif version == 6:
        if len(frame) < start + 40 or frame[start + 6] != 17:
            return None  # extension headers are not used for the probe's own RTP
        udp = start + 40
    else:
        return None
    if len(frame) < udp + 8:
        return None
    source, destination, length = struct.unpack_from("!HHH", frame, udp)
    return source, destination, frame[udp + 8 : udp + max(8, length)]


def rtp_payloads(path: Path, ports: set[int]) -> list[RtpPayload]:
    """RTP payloads sent from or to ``ports``, in capture order."""
    found: list[RtpPayload] = []
    for arrival_s, link, frame in pcap_records(path):
        start = network_offset(frame, link)
        datagram = _udp(frame, start) if start is not None else None
        if datagram is None:
            continue
        source, destination, data = datagram
        if source not in ports and destination not in ports:
            continue
        payload = rtp_payload(data)
        if payload:
            found.append(
                RtpPayload(
                    arrival_s,
                    source,
                    destination,
                    data[1] & 0x7F,
                    int.from_bytes(data[2:4], "big"),
                    payload,
                    int.from_bytes(data[4:8], "big"),
                )
            )
    return found
