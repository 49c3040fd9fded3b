"""RTCP sender and receiver reports (RFC 3550 6.4) and XR VoIP metrics (RFC 3611 4.7).

What the far end says about the media it received is the other half of the evidence: a
receiver report carries its loss and jitter figures, and its LSR/DLSR fields give the
round-trip time. For a block that reports on a sender report (LSR non-zero):

- ``rtt_ms`` = arrival - LSR - DLSR, with the arrival as NTP time (the middle 32 bits, units
  of 1/65536 s). Exact when the capture was taken on the host that sent the SR; elsewhere it
  also holds the offset between that host's clock and the capture clock, and a result below
  zero or above ``MAX_RTT_S`` is dropped as such an offset.
- ``capture_rtt_ms`` = arrival - (arrival of the SR whose NTP time is LSR) - DLSR, when that SR
  is in the capture too: the round trip from the capture point to the reporter, with no clock
  in it but the capture's, wherever the capture was taken.

Parsing follows aiortc's habit: every length is checked before a slice is taken and a bad
packet raises ``ValueError`` with one exact sentence; ``rtcp_reports`` counts those as skips.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from sipprobe.analysis.pcap import UdpPackets
from sipprobe.model.media import VoipMetrics

__all__ = ["ReportBlock", "RtcpReport", "VoipMetrics", "parse_rtcp", "rtcp_reports"]

NTP_UNIX_OFFSET_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
_SR, _RR, _XR = 200, 201, 207
_VOIP_METRICS = 7
MAX_RTT_S = 10.0  # beyond this a "round trip" is a clock offset or a stale LSR, not a network
_UNAVAILABLE = 127  # RFC 3611 4.7: "127 means unavailable" for levels, R and MOS


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """One reception report block: what the reporter saw of the stream ``source_ssrc``."""

    source_ssrc: int
    fraction_lost: float  # 0..1, since the previous report
    cumulative_lost: int  # signed: duplicates can make it negative
    highest_seq: int  # extended highest sequence number received
    jitter: int  # RTP timestamp units; milliseconds need the stream's clock rate
    lsr: int
    dlsr_s: float
    rtt_ms: float | None = None
    capture_rtt_ms: float | None = None


@dataclass(frozen=True, slots=True)
class RtcpReport:
    """One SR, RR or XR packet of a compound RTCP packet, with where and when it was seen."""

    kind: str  # "SR", "RR" or "XR"
    reporter_ssrc: int
    arrival_s: float  # same clock as ``UdpPackets.arrival_s``
    src: str
    dst: str
    ntp_middle: int | None = None  # SR only: the 32 bits a later LSR echoes
    sender_packets: int | None = None
    sender_octets: int | None = None
    blocks: tuple[ReportBlock, ...] = ()
    voip_metrics: tuple[VoipMetrics, ...] = ()


def _blocks(data: bytes, at: int, count: int) -> tuple[ReportBlock, ...]:
    blocks = []
    for k in range(count):
        ssrc, lost, highest, jitter, lsr, dlsr = struct.unpack_from("!IIIIII", data, at + 24 * k)
        cumulative = lost & 0xFFFFFF
        cumulative -= (cumulative & 0x800000) << 1  # 24-bit two's complement
        blocks.append(
            ReportBlock(ssrc, (lost >> 24) / 256, cumulative, highest, jitter, lsr, dlsr / 65536)
        )
    return tuple(blocks)


def _level(value: int) -> int | None:
    """A signed 8-bit level in dB, or None for the "unavailable" code."""
    return None if value == _UNAVAILABLE else value - 256 * (value >= 128)


def _voip_metrics(data: bytes, at: int) -> VoipMetrics:
    f = struct.unpack_from("!IBBBBHHHHBBBBBBBBBBHHH", data, at)
    return VoipMetrics(
        source_ssrc=f[0],
        loss_rate=f[1] / 256,
        discard_rate=f[2] / 256,
        burst_density=f[3] / 256,
        gap_density=f[4] / 256,
        burst_duration_ms=f[5],
        gap_duration_ms=f[6],
        round_trip_delay_ms=f[7],
        end_system_delay_ms=f[8],
        signal_level_dbm=_level(f[9]),
        noise_level_dbm=_level(f[10]),
        rerl_db=None if f[11] == _UNAVAILABLE else f[11],
        gmin=f[12],
        r_factor=None if f[13] == _UNAVAILABLE else f[13],
        ext_r_factor=None if f[14] == _UNAVAILABLE else f[14],
        mos_lq=None if f[15] == _UNAVAILABLE else f[15] / 10,
        mos_cq=None if f[16] == _UNAVAILABLE else f[16] / 10,
        jb_nominal_ms=f[19],
        jb_maximum_ms=f[20],
        jb_abs_max_ms=f[21],
    )


def parse_rtcp(data: bytes, *, arrival_s: float, src: str = "", dst: str = "") -> list[RtcpReport]:
    """The SR, RR and XR packets of a compound RTCP packet (other types are stepped over)."""
    reports: list[RtcpReport] = []
    at = 0
    while at < len(data):
        if len(data) - at < 8:
            raise ValueError("RTCP packet is shorter than its 8-byte header")
        first, kind, words, ssrc = struct.unpack_from("!BBHI", data, at)
        size, count = 4 * (words + 1), first & 31
        if first >> 6 != 2:
            raise ValueError(f"RTCP packet has version {first >> 6}, not 2")
        if at + size > len(data):
            raise ValueError(
                f"RTCP packet of type {kind} claims {size} bytes, {len(data) - at} remain"
            )
        if kind == _SR:
            if size < 28 + 24 * count:
                raise ValueError(f"RTCP SR is too short for its {count} report blocks")
            ntp_s, ntp_frac, _, sent, octets = struct.unpack_from("!IIIII", data, at + 8)
            middle = (ntp_s & 0xFFFF) << 16 | ntp_frac >> 16
            blocks = _blocks(data, at + 28, count)
            reports.append(
                RtcpReport("SR", ssrc, arrival_s, src, dst, middle, sent, octets, blocks)
            )
        elif kind == _RR:
            if size < 8 + 24 * count:
                raise ValueError(f"RTCP RR is too short for its {count} report blocks")
            blocks = _blocks(data, at + 8, count)
            reports.append(RtcpReport("RR", ssrc, arrival_s, src, dst, blocks=blocks))
        elif kind == _XR:
            metrics = _xr_blocks(data[at + 8 : at + size])
            reports.append(RtcpReport("XR", ssrc, arrival_s, src, dst, voip_metrics=metrics))
        at += size
    return reports


def _xr_blocks(body: bytes) -> tuple[VoipMetrics, ...]:
    found = []
    at = 0
    while at + 4 <= len(body):
        block_type, _, words = struct.unpack_from("!BBH", body, at)
        if at + 4 + 4 * words > len(body):
            raise ValueError(f"RTCP XR block of type {block_type} runs past its packet")
        if block_type == _VOIP_METRICS:
            if words != 8:
                raise ValueError(f"RTCP XR VoIP metrics block has length {words}, not 8")
            found.append(_voip_metrics(body, at + 4))
        at += 4 + 4 * words
    return tuple(found)


def _ntp_middle(unix_s: float) -> int:
    return round((unix_s + NTP_UNIX_OFFSET_S) * 65536) & 0xFFFFFFFF


def _is_rtcp(data: bytes) -> bool:
    return len(data) >= 8 and data[0] >> 6 == 2 and 200 <= data[1] <= 207


def rtcp_reports(packets: UdpPackets) -> tuple[tuple[RtcpReport, ...], Counter[str]]:
    """Every SR/RR/XR in the capture in arrival order, RTTs filled in; malformed ones counted."""
    reports: list[RtcpReport] = []
    skipped: Counter[str] = Counter()
    found = [(row, data) for row, data in packets.payloads if _is_rtcp(data)]
    rows = np.array([row for row, _ in found], dtype=np.int64)
    columns = (  # as Python numbers at once: one numpy scalar at a time costs more than parsing
        getattr(packets, name)[rows].tolist()
        for name in ("arrival_s", "src_addr", "src_port", "dst_addr", "dst_port")
    )
    for (_, data), arrival_s, src_addr, src_port, dst_addr, dst_port in zip(
        found, *columns, strict=True
    ):
        src = packets.endpoint(src_addr, src_port)
        dst = packets.endpoint(dst_addr, dst_port)
        try:
            reports += parse_rtcp(data, arrival_s=arrival_s, src=src, dst=dst)
        except ValueError:
            skipped["malformed-rtcp"] += 1
    reports.sort(key=lambda r: r.arrival_s)
    sr_seen: dict[tuple[int, int], float] = {}  # (sender SSRC, NTP middle) -> arrival
    timed: list[RtcpReport] = []
    for report in reports:
        if report.ntp_middle is not None:
            sr_seen.setdefault((report.reporter_ssrc, report.ntp_middle), report.arrival_s)
        if not any(block.lsr for block in report.blocks):
            timed.append(report)
            continue
        arrival = _ntp_middle(packets.origin_s + report.arrival_s)
        blocks = tuple(_with_rtt(b, arrival, report.arrival_s, sr_seen) for b in report.blocks)
        timed.append(replace(report, blocks=blocks))
    return tuple(timed), skipped


def _with_rtt(
    block: ReportBlock, arrival_ntp: int, arrival_s: float, sr_seen: dict[tuple[int, int], float]
) -> ReportBlock:
    if not block.lsr:
        return block  # no SR received yet: RFC 3550 says LSR and DLSR are then zero
    units = (arrival_ntp - block.lsr - round(block.dlsr_s * 65536)) & 0xFFFFFFFF
    seen = sr_seen.get((block.source_ssrc, block.lsr))
    capture_units = None if seen is None else (arrival_s - seen - block.dlsr_s) * 65536
    return replace(block, rtt_ms=_plausible_ms(units), capture_rtt_ms=_plausible_ms(capture_units))


def _plausible_ms(units: float | None) -> float | None:
    """A round trip in ms, or None when it is negative or absurd (clocks apart, stale LSR)."""
    if units is None or not 0 <= units < MAX_RTT_S * 65536:
        return None
    return units * 1000 / 65536
