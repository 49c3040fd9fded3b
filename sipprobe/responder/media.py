"""Media of one call: a packet reflector or a tone, on a UDP port pair (RTP even, RTCP odd).

Nothing is ever sent to an address that an SDP names. Packets are sent only after the
dialog is confirmed by ACK, and only to the address RTP came from (symmetric RTP, RFC 4961):
the first source heard after the ACK is latched, and another source replaces it only after
the latched one fell silent for ``RELATCH_S``. So a request naming a third party's address
makes the responder send that party nothing, and no packet is sent that did not answer one
received from the same address.

Echo mode reflects each RTP packet of the latched source with the responder's own SSRC,
consecutive sequence numbers and the caller's timestamps shifted by a constant: a packet lost
on the way in leaves a pause, not a gap the caller would count as loss on the way back. SRTP
packets are reflected byte for byte (their authentication covers the header), and no RTCP is
sent with SRTP (it would have to be SRTCP). Tone mode sends a 440 Hz G.711 tone every 20 ms.
While the caller holds the call (a re-INVITE answered recvonly or inactive) nothing is sent.
RTCP: a sender report with one report block about the caller's stream, computed from what
arrived (``rtcp.ReceptionStats``), every ``RTCP_INTERVAL_S`` and with a BYE at the end.
RTP and RTCP are marked DSCP EF.
"""

from __future__ import annotations

import contextlib
import math
import random
import socket
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipprobe.model.dtmf import DTMF_SYMBOLS, MAX_DTMF_DIGITS
from sipprobe.responder import rtcp
from sipprobe.responder.limits import Counters
from sipprobe.sip.telephone_event import TelephoneEvent

if TYPE_CHECKING:
    from sipprobe.responder.inband import InbandListener

RTP_DSCP = 46
RTCP_INTERVAL_S = 5.0
RELATCH_S = 2.0
FRAME_S = 0.02
SAMPLES_PER_FRAME = 160
CLOCK_RATE = 8000  # RTP clock of PCMU, PCMA and (by RFC 3551's exception) G722
TONE_HZ = 440
_RTP_HEADER = 12
_BUFFER = 2048
_CNAME = "sipprobe-responder"
# One receive buffer for every session: the loop is one thread, and a buffer per call was
# 2 KiB of allocator churn per call.
_RECEIVED = bytearray(_BUFFER)


def _ulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _alaw(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample), 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> (exponent)) & 0x0F)
    return (sign | code) ^ 0x55


def tone_frames(codec: str) -> tuple[bytes, ...]:
    """One second of a 440 Hz tone at -10 dBFS in 20 ms G.711 frames (it loops seamlessly)."""
    encode = _ulaw if codec.startswith("PCMU") else _alaw
    amplitude = 0.316 * 32767
    samples = [
        encode(int(amplitude * math.sin(2 * math.pi * TONE_HZ * n / CLOCK_RATE)))
        for n in range(CLOCK_RATE)
    ]
    return tuple(
        bytes(samples[i : i + SAMPLES_PER_FRAME]) for i in range(0, CLOCK_RATE, SAMPLES_PER_FRAME)
    )


def _payload_offset(data: bytearray, size: int) -> int:
    """Where an RTP packet's payload begins: after the CSRCs and a header extension."""
    offset = _RTP_HEADER + 4 * (data[0] & 0x0F)
    if data[0] & 0x10 and size >= offset + 4:
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    return offset


def _mark(sock: socket.socket, family: int) -> None:
    with contextlib.suppress(OSError):
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, RTP_DSCP << 2)
        else:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, RTP_DSCP << 2)


@dataclass(frozen=True, slots=True)
class PortRange:
    low: int = 16384
    high: int = 32767

    def open_pair(self, host: str, attempts: int = 32) -> tuple[socket.socket, socket.socket]:
        """RTP and RTCP sockets bound to an even port and the odd one above it, marked EF."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(attempts):
            port = random.randrange(self.low + self.low % 2, self.high, 2)
            pair: list[socket.socket] = []
            try:
                for offset in (0, 1):
                    sock = socket.socket(family, socket.SOCK_DGRAM)
                    pair.append(sock)
                    sock.bind((host, port + offset))
                    sock.setblocking(False)
                    _mark(sock, family)
            except OSError:
                for sock in pair:
                    sock.close()
                continue
            return pair[0], pair[1]
        raise OSError("no free RTP port pair")


class MediaSession:
    """The media of one call; the server's loop calls its methods."""

    def __init__(
        self,
        rtp: socket.socket,
        rtcp_sock: socket.socket,
        payload_type: int,
        dtmf_payload_type: int | None,
        tone: tuple[bytes, ...] | None,
        srtp: bool,
        counters: Counters,
        inband: InbandListener | None = None,
    ) -> None:
        self.rtp = rtp
        self.rtcp = rtcp_sock
        self.port = int(rtp.getsockname()[1])
        self._payload_type = payload_type
        self._reflected = frozenset({payload_type, dtmf_payload_type} - {None})
        self._dtmf_payload_type = dtmf_payload_type
        self.digits = ""  # RFC 4733 DTMF digits received, in order (at most 2 x the probe's)
        self._event_timestamp: int | None = None
        self.inband = inband  # in-band DTMF detection of the call's audio, when listened to
        self._tone = tone
        self._srtp = srtp
        self._counters = counters
        self.ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts_offset = random.getrandbits(32)
        self._tone_ts = random.getrandbits(32)
        self._tone_index = 0
        self.confirmed = False
        self.sending = True  # False while the caller holds the call (recvonly or inactive)
        self.peer: tuple[str, int] | None = None
        self._peer_heard_s = 0.0
        self._rtcp_peer: tuple[str, int] | None = None
        self.stats = rtcp.ReceptionStats(CLOCK_RATE)
        self._last_sr: tuple[int, float] | None = None  # (NTP middle, arrival)
        self.sent_packets = 0
        self._sent_octets = 0
        self._last_sent: tuple[int, float] | None = None  # (RTP timestamp, time)
        self.next_tone_s = 0.0
        self.next_rtcp_s = 0.0
        self.closed = False

    def confirm(self, now: float) -> None:
        """The ACK arrived: from now on the session may answer what it hears."""
        self.confirmed = True
        self.next_rtcp_s = now + RTCP_INTERVAL_S / 2

    def _latch(self, source: tuple[str, int], now: float) -> bool:
        if self.peer == source:
            self._peer_heard_s = now
            return True
        if self.peer is None or now - self._peer_heard_s >= RELATCH_S:
            self.peer = source
            self._peer_heard_s = now
            self.next_tone_s = now
            return True
        return False

    def rtp_readable(self, now: float) -> None:
        for _ in range(16):
            try:
                size, address = self.rtp.recvfrom_into(_RECEIVED)
            except BlockingIOError:
                return
            except OSError:
                if self.closed:
                    return
                continue
            source = (address[0], address[1])
            data = _RECEIVED
            if not self.confirmed or size < _RTP_HEADER or data[0] >> 6 != 2:
                self._counters.rtp_dropped += 1
                continue
            if not self._latch(source, now):
                self._counters.rtp_dropped += 1
                continue
            payload_type = data[1] & 0x7F
            seq, timestamp, ssrc = struct.unpack_from("!HII", data, 2)
            self.stats.add(ssrc, seq, timestamp, now)
            if payload_type == self._dtmf_payload_type and not self._srtp:
                self._telephone_event(data, size, timestamp)
            elif payload_type == self._payload_type and self.inband is not None:
                self.inband.add(data[_payload_offset(data, size) : size], timestamp, now)
            if not self.sending or self._tone is not None or payload_type not in self._reflected:
                continue
            packet = bytearray(data[:size])
            if not self._srtp:
                out_ts = (timestamp + self._ts_offset) & 0xFFFFFFFF
                struct.pack_into("!HII", packet, 2, self._seq, out_ts, self.ssrc)
                self._seq = (self._seq + 1) & 0xFFFF
                self._last_sent = (out_ts, now)
            self._send_rtp(packet, now)

    def _telephone_event(self, data: bytearray, size: int, timestamp: int) -> None:
        """Note a DTMF digit when an event with a new timestamp begins (RFC 4733 2.5)."""
        try:
            event = TelephoneEvent.parse(bytes(data[_payload_offset(data, size) : size]))
        except ValueError:
            return
        if timestamp == self._event_timestamp or event.event >= len(DTMF_SYMBOLS):
            return
        self._event_timestamp = timestamp
        if len(self.digits) < 2 * MAX_DTMF_DIGITS:
            self.digits += DTMF_SYMBOLS[event.event]
            self._counters.dtmf_digits += 1

    def _send_rtp(self, packet: bytes | bytearray, now: float) -> None:
        assert self.peer is not None
        try:
            self.rtp.sendto(packet, self.peer)
        except OSError:
            return
        self.sent_packets += 1
        self._sent_octets += len(packet) - _RTP_HEADER

    def tone_due(self, now: float) -> None:
        """Send the tone frames due by ``now`` (none before a source is latched)."""
        if self._tone is None or self.peer is None or self.closed:
            return
        if not self.sending:
            self.next_tone_s = now
            return
        sent = 0
        while self.next_tone_s <= now and sent < 5:
            frame = self._tone[self._tone_index]
            marker = 0x80 if self.sent_packets == 0 else 0
            header = struct.pack(
                "!BBHII",
                0x80,
                marker | self._payload_type,
                self._seq,
                self._tone_ts,
                self.ssrc,
            )
            self._send_rtp(header + frame, now)
            self._last_sent = (self._tone_ts, now)
            self._seq = (self._seq + 1) & 0xFFFF
            self._tone_ts = (self._tone_ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF
            self._tone_index = (self._tone_index + 1) % len(self._tone)
            self.next_tone_s += FRAME_S
            sent += 1
        if self.next_tone_s <= now:  # fell behind (a stalled loop): skip, do not burst
            self.next_tone_s = now + FRAME_S

    def rtcp_readable(self, now: float) -> None:
        for _ in range(8):
            try:
                size, address = self.rtcp.recvfrom_into(_RECEIVED)
            except (BlockingIOError, OSError):
                return
            if not self.confirmed or (self.peer is not None and address[0] != self.peer[0]):
                continue
            self._rtcp_peer = (address[0], address[1])
            found = rtcp.sender_report_middle(bytes(_RECEIVED[:size]))
            if found is not None and found[0] == self.stats.ssrc:
                self._last_sr = (found[1], now)

    def _report(self, now: float, wallclock: float, final: bool) -> bytes:
        lsr = dlsr = 0
        if self._last_sr is not None:
            lsr, dlsr = self._last_sr[0], rtcp.delay_units(now - self._last_sr[1])
        block = self.stats.report_block(lsr, dlsr)
        sender = None
        if self._last_sent is not None:
            timestamp, at = self._last_sent
            rtp_now = timestamp + int((now - at) * CLOCK_RATE)
            sender = rtcp.SenderInfo(wallclock, rtp_now, self.sent_packets, self._sent_octets)
        packet = rtcp.report(self.ssrc, block, sender) + rtcp.sdes_cname(self.ssrc, _CNAME)
        return packet + rtcp.bye(self.ssrc) if final else packet

    def rtcp_due(self, now: float, wallclock: float) -> None:
        if not self.confirmed or now < self.next_rtcp_s or self.closed:
            return
        self.next_rtcp_s = now + RTCP_INTERVAL_S
        self._send_rtcp(self._report(now, wallclock, final=False))

    def _send_rtcp(self, packet: bytes) -> None:
        if self._srtp or self.peer is None:
            return
        destination = self._rtcp_peer or (self.peer[0], self.peer[1] + 1)
        with contextlib.suppress(OSError):
            self.rtcp.sendto(packet, destination)

    def close(self, now: float, wallclock: float) -> None:
        """A last report with an RTCP BYE, then the sockets are closed."""
        if self.closed:
            return
        if self.confirmed:
            self._send_rtcp(self._report(now, wallclock, final=True))
        self.closed = True
        self.rtp.close()
        self.rtcp.close()
