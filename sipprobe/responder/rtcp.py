"""RTCP of the responder (RFC 3550): reception statistics of one stream and the packets built
from them.

``ReceptionStats`` follows the RFC's appendix: A.1 (extended sequence numbers), A.3
(expected, lost, fraction lost per interval) and A.8 (interarrival jitter), fed with arrival
times that the caller passes in. The packets are sender or receiver reports with one report
block, an SDES CNAME and, at the end of a call, a BYE.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000
MAX_MISORDER = 100
NTP_EPOCH_OFFSET_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
_SR, _RR, _SDES, _BYE = 200, 201, 202, 203
_CUMULATIVE_MAX = 0x7FFFFF
_CUMULATIVE_MIN = -0x800000


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """One RFC 3550 6.4.1 report block about the stream of ``ssrc``."""

    ssrc: int
    fraction_lost: int  # of 256, since the previous report
    cumulative_lost: int  # may be negative (duplicates)
    highest_seq: int  # extended: cycles << 16 | max seq
    jitter: int  # timestamp units
    lsr: int  # middle 32 bits of the NTP time of the last SR received, 0 if none
    dlsr: int  # delay since that SR, 1/65536 s

    def __bytes__(self) -> bytes:
        lost = max(_CUMULATIVE_MIN, min(_CUMULATIVE_MAX, self.cumulative_lost)) & 0xFFFFFF
        return struct.pack(
            "!IIIIII",
            self.ssrc,
            (self.fraction_lost << 24) | lost,
            self.highest_seq & 0xFFFFFFFF,
            self.jitter & 0xFFFFFFFF,
            self.lsr,
            self.dlsr,
        )


class ReceptionStats:
    """Statistics of the RTP packets received from one source (RFC 3550 A.1, A.3, A.8)."""

    def __init__(self, clock_rate: int) -> None:
        self._clock_rate = clock_rate
        self.ssrc: int | None = None
        self.received = 0
        self._base_seq = 0
        self._max_seq = 0
        self._cycles = 0
        self._bad_seq = SEQ_MOD + 1
        self._expected_prior = 0
        self._received_prior = 0
        self._transit: float | None = None
        self._jitter = 0.0

    def add(self, ssrc: int, seq: int, timestamp: int, arrival_s: float) -> None:
        """Count one packet that arrived at ``arrival_s`` (seconds on any steady clock)."""
        if self.ssrc != ssrc:
            self._restart(ssrc, seq)
        elif not self._update_seq(seq):
            return
        self.received += 1
        transit = arrival_s * self._clock_rate - timestamp
        if self._transit is not None:
            delta = abs(transit - self._transit)
            self._jitter += (delta - self._jitter) / 16.0
        self._transit = transit

    def _restart(self, ssrc: int, seq: int) -> None:
        self.ssrc = ssrc
        self.received = 0
        self._base_seq = self._max_seq = seq
        self._cycles = 0
        self._bad_seq = SEQ_MOD + 1
        self._expected_prior = self._received_prior = 0
        self._transit = None
        self._jitter = 0.0

    def _update_seq(self, seq: int) -> bool:
        delta = (seq - self._max_seq) % SEQ_MOD
        if delta < MAX_DROPOUT:
            if seq < self._max_seq:
                self._cycles += SEQ_MOD
            self._max_seq = seq
        elif delta <= SEQ_MOD - MAX_MISORDER:
            if seq == self._bad_seq:  # two in a row: the sender restarted its numbering
                ssrc = self.ssrc
                assert ssrc is not None
                self._restart(ssrc, seq)
            else:
                self._bad_seq = (seq + 1) % SEQ_MOD
                return False
        return True  # in order, or a duplicate or late packet within MAX_MISORDER

    @property
    def extended_max(self) -> int:
        return self._cycles + self._max_seq

    @property
    def expected(self) -> int:
        return 0 if self.ssrc is None else self.extended_max - self._base_seq + 1

    @property
    def lost(self) -> int:
        return self.expected - self.received

    @property
    def jitter(self) -> int:
        return int(self._jitter)

    def report_block(self, lsr: int = 0, dlsr: int = 0) -> ReportBlock | None:
        """The block for a report sent now; starts a new interval for ``fraction_lost``."""
        if self.ssrc is None:
            return None
        expected, received = self.expected, self.received
        expected_interval = expected - self._expected_prior
        lost_interval = expected_interval - (received - self._received_prior)
        self._expected_prior, self._received_prior = expected, received
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = min(255, (lost_interval << 8) // expected_interval)
        return ReportBlock(
            self.ssrc, fraction, self.lost, self.extended_max, self.jitter, lsr, dlsr
        )


def ntp_timestamp(unix_s: float) -> tuple[int, int]:
    """NTP seconds and fraction of a Unix time."""
    seconds = int(unix_s)
    fraction = int((unix_s - seconds) * (1 << 32)) & 0xFFFFFFFF
    return (seconds + NTP_EPOCH_OFFSET_S) & 0xFFFFFFFF, fraction


def ntp_middle(unix_s: float) -> int:
    seconds, fraction = ntp_timestamp(unix_s)
    return ((seconds & 0xFFFF) << 16) | (fraction >> 16)


def delay_units(delay_s: float) -> int:
    """A delay in the 1/65536 s units of DLSR."""
    return max(0, min(0xFFFFFFFF, int(delay_s * 65536)))


@dataclass(frozen=True, slots=True)
class SenderInfo:
    ntp_unix_s: float
    rtp_timestamp: int
    packets: int
    octets: int


def _header(count: int, packet_type: int, body_len: int) -> bytes:
    return struct.pack("!BBH", 0x80 | count, packet_type, (body_len + 4) // 4 - 1)


def report(ssrc: int, block: ReportBlock | None, sender: SenderInfo | None) -> bytes:
    """An SR (when ``sender`` is given) or an RR, with at most one block."""
    blocks = b"" if block is None else bytes(block)
    count = 0 if block is None else 1
    if sender is None:
        body = struct.pack("!I", ssrc) + blocks
        return _header(count, _RR, len(body)) + body
    seconds, fraction = ntp_timestamp(sender.ntp_unix_s)
    info = struct.pack(
        "!IIIIII",
        ssrc,
        seconds,
        fraction,
        sender.rtp_timestamp & 0xFFFFFFFF,
        sender.packets & 0xFFFFFFFF,
        sender.octets & 0xFFFFFFFF,
    )
    body = info + blocks
    return _header(count, _SR, len(body)) + body


def sdes_cname(ssrc: int, cname: str) -> bytes:
    text = cname.encode()[:255]
    item = struct.pack("!IBB", ssrc, 1, len(text)) + text + b"\x00"
    item += b"\x00" * (-len(item) % 4)
    return _header(1, _SDES, len(item)) + item


def bye(ssrc: int) -> bytes:
    body = struct.pack("!I", ssrc)
    return _header(1, _BYE, len(body)) + body


def sender_report_middle(data: bytes) -> tuple[int, int] | None:
    """The sender's SSRC and the middle 32 bits of the NTP time of the SR a compound RTCP
    packet starts with, or None when it does not start with a well-formed SR."""
    if len(data) < 28 or data[0] >> 6 != 2 or data[1] != _SR:
        return None
    ssrc, seconds, fraction = struct.unpack_from("!III", data, 4)
    return ssrc, ((seconds & 0xFFFF) << 16) | (fraction >> 16)
