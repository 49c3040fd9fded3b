"""Craft captures of RTP streams whose truth is known by construction.

Tests describe a stream as a list of ``Rtp`` records (what was sent and when it arrived), edit
the list to lose, delay, reorder or duplicate packets, and write it with scapy in any of the
link types and file formats the reader supports. Nothing here is committed as a binary: every
capture is generated into the test's ``tmp_path``.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1Q, Ether
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter, PcapWriter

T0 = Decimal("1700000000.000000000")
_MAC1, _MAC2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # "inconsistent linktypes" for raw IP


@dataclass(frozen=True)
class Rtp:
    """One RTP packet as sent: header fields, payload size and its arrival time."""

    arrival: Decimal
    seq: int
    ts: int
    ssrc: int = 0x11223344
    pt: int = 0
    marker: bool = False
    size: int = 160
    csrc_count: int = 0
    extension_words: int | None = None
    padding: int = 0

    def payload(self) -> bytes:
        first = (
            0x80 | (0x20 if self.padding else 0) | (0x10 if self.extension_words is not None else 0)
        )
        head = struct.pack(
            "!BBHII",
            first | self.csrc_count,
            (0x80 if self.marker else 0) | self.pt,
            self.seq & 0xFFFF,
            self.ts & 0xFFFFFFFF,
            self.ssrc,
        )
        head += b"\x00\x00\x00\x01" * self.csrc_count
        if self.extension_words is not None:
            head += (
                struct.pack("!HH", 0xBEDE, self.extension_words) + b"\0" * 4 * self.extension_words
            )
        tail = b"\0" * (self.padding - 1) + bytes([self.padding]) if self.padding else b""
        return head + b"\xd5" * self.size + tail


def stream(
    count: int,
    *,
    ssrc: int = 0x11223344,
    seq0: int = 1000,
    ts0: int = 5000,
    t0: Decimal = T0,
    ptime_s: Decimal = Decimal("0.02"),
    samples: int = 160,
    pt: int = 0,
) -> list[Rtp]:
    """A clean stream: one packet every ``ptime_s``, seq and timestamp wrapping at 16/32 bits."""
    return [
        Rtp(
            arrival=t0 + i * ptime_s,
            seq=(seq0 + i) & 0xFFFF,
            ts=(ts0 + i * samples) & 0xFFFFFFFF,
            ssrc=ssrc,
            pt=pt,
        )
        for i in range(count)
    ]


def delayed(packets: list[Rtp], delays_s: list[float]) -> list[Rtp]:
    """Each packet later by its delay (microsecond resolution), then sorted by arrival."""
    moved = [
        replace(p, arrival=p.arrival + Decimal(round(d * 1e6)) / 1_000_000)
        for p, d in zip(packets, delays_s, strict=True)
    ]
    return sorted(moved, key=lambda p: p.arrival)


@dataclass(frozen=True)
class Path4:
    """The addresses and link framing a stream is written with."""

    src: str = "10.0.0.1"
    dst: str = "10.0.0.2"
    sport: int = 40000
    dport: int = 50000
    dscp: int = 46
    ttl: int = 60
    link: str = "ether"  # ether, vlan, qinq, sll, sll2, raw


def frame(payload: bytes, path: Path4) -> Packet:
    """The full frame carrying a UDP payload."""
    if ":" in path.src:
        ip: Packet = IPv6(src=path.src, dst=path.dst, tc=path.dscp << 2, hlim=path.ttl)
    else:
        ip = IP(src=path.src, dst=path.dst, tos=path.dscp << 2, ttl=path.ttl)
    inner = ip / UDP(sport=path.sport, dport=path.dport) / Raw(payload)
    outer: dict[str, Packet] = {
        "ether": Ether(src=_MAC1, dst=_MAC2),
        "vlan": Ether(src=_MAC1, dst=_MAC2) / Dot1Q(vlan=100),
        "qinq": Ether(src=_MAC1, dst=_MAC2, type=0x88A8)
        / Dot1Q(vlan=10, type=0x8100)
        / Dot1Q(vlan=20),
        "sll": CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6),
        "sll2": CookedLinuxV2(pkttype=0, lladdrtype=1, lladdrlen=6),
    }
    return inner if path.link == "raw" else outer[path.link] / inner


_LINKTYPES = {"ether": 1, "vlan": 1, "qinq": 1, "sll": 113, "sll2": 276, "raw": 101}


Items = list[tuple[Decimal, bytes]] | list[Rtp]


def write(target: Path, items: Items, path: Path4 = Path4(), fmt: str = "pcap") -> Path:
    """Write UDP payloads (or RTP records) at their arrival times; fmt: pcap, pcap-ns, pcapng."""
    return write_parts(target, [(path, items)], fmt, sort=False)


def write_parts(
    target: Path, parts: list[tuple[Path4, Items]], fmt: str = "pcap", *, sort: bool = True
) -> Path:
    """Several flows in one capture, merged in arrival order (or kept in the given order)."""
    frames = []
    for path, items in parts:
        for item in items:
            when, payload = (item.arrival, item.payload()) if isinstance(item, Rtp) else item
            packet = frame(payload, path)
            packet.time = when
            frames.append(packet)
    if sort:
        frames.sort(key=lambda packet: packet.time)
    write_frames(target, frames, _LINKTYPES[parts[0][0].link], fmt)
    return target


def write_frames(target: Path, frames: list[Packet], linktype: int, fmt: str = "pcap") -> None:
    if fmt == "pcapng":
        with PcapNgWriter(str(target)) as writer:
            for packet in frames:
                writer.write(packet)
        return
    with PcapWriter(str(target), linktype=linktype, nano=fmt == "pcap-ns", sync=False) as writer:
        for packet in frames:
            writer.write(packet)
