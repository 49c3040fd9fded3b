"""DTMF digits in a call's media: RFC 4733 telephone events and in-band tones.

RFC 4733 (2.5): one event is a run of packets with the same RTP timestamp (the event's
start); each carries the event code, the end bit and the duration so far in timestamp units.
The end packet is usually sent three times, and a far end that reflects packets keeps the
timestamps of one event equal (it shifts them all by the same constant), so grouping by
timestamp finds each digit once, wherever it was seen.

In-band (ITU-T Q.23/Q.24): the Goertzel detector of ``sipprobe.dsp.dtmf`` (shared with the
responder) run over a decoded G.711 stream, each received packet at its place in the stream
and a lost one a gap, not silence (``stream_digits``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sipprobe.analysis.echo import DecodedStream
from sipprobe.dsp.dtmf import ToneDetector, inband_digits, to_dtmf_digits
from sipprobe.model.dtmf import DTMF_SYMBOLS, DtmfDigit
from sipprobe.sip.telephone_event import TelephoneEvent

__all__ = ["EventPacket", "digits_text", "inband_digits", "rfc4733_digits", "stream_digits"]

EVENT_CLOCK_HZ = 8000  # telephone-event/8000, the rate every narrowband call negotiates


@dataclass(frozen=True, slots=True)
class EventPacket:
    """One RTP packet carrying a telephone-event payload."""

    arrival_s: float
    timestamp: int
    payload: bytes


def rfc4733_digits(
    packets: Iterable[EventPacket], clock_hz: int = EVENT_CLOCK_HZ
) -> tuple[DtmfDigit, ...]:
    """The digits of a stream's telephone-event packets, in the order they began.

    Events other than the 16 DTMF ones (RFC 4733 codes 0-15) and malformed payloads are
    skipped. A digit's duration is the longest duration any of its packets carried.
    """
    found: dict[tuple[int, int], tuple[float, int, bool]] = {}
    for packet in packets:
        try:
            event = TelephoneEvent.parse(packet.payload)
        except ValueError:
            continue
        if event.event >= len(DTMF_SYMBOLS):
            continue
        key = (packet.timestamp, event.event)
        first, longest, ended = found.get(key, (packet.arrival_s, 0, False))
        found[key] = (
            min(first, packet.arrival_s),
            max(longest, event.duration),
            ended or event.end,
        )
    return tuple(
        DtmfDigit(DTMF_SYMBOLS[code], first, round(1000.0 * longest / clock_hz, 3), ended)
        for (_ts, code), (first, longest, ended) in sorted(found.items(), key=lambda i: i[1][0])
    )


def stream_digits(stream: DecodedStream) -> tuple[DtmfDigit, ...]:
    """In-band digits of a decoded G.711 stream (8 kHz). Each run of received packets is
    fed as it lies in the stream, lost packets as gaps; a digit starts at the arrival of the
    packet that carried its first sample (the capture clock)."""
    if not len(stream.starts):
        return ()
    detector = ToneDetector()
    heard = np.concatenate(([False], stream.heard, [False]))
    edges = np.flatnonzero(np.diff(heard.astype(np.int8)))
    for first, end in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        detector.feed(stream.samples[first:end], at=first)
    starts, arrivals = stream.starts, stream.arrivals_s

    def time_of(position: int) -> float:
        index = max(0, int(np.searchsorted(starts, position, side="right")) - 1)
        return float(arrivals[index])

    return to_dtmf_digits(detector.finish(), time_of)


def digits_text(digits: Iterable[DtmfDigit]) -> str:
    return "".join(d.digit for d in digits)
