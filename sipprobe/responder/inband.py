"""In-band DTMF heard by the responder: a call's G.711 audio through the Goertzel detector.

Bounded per call and in all: payloads are kept in a buffer of at most ``BATCH_BYTES`` (half a
second of G.711) and decoded and searched in one numpy pass when it fills (and at the
caller's BYE), so the detector runs twice a second per call, not per packet; the detector
keeps less than one 205-sample block between passes, and at most twice the probe's digit
limit. Packets are placed by their RTP timestamp: a lost packet is a gap (``ToneDetector``
does not join blocks across it), a late or repeated one is left out. Only calls whose codec is
G.711 and whose media is not SRTP are listened to, and at most ``Limits.inband_calls`` at
once (``--max-inband-calls``); the others say so in ``X-Sipprobe-Dtmf`` (``inband-unchecked``).
A source that sends faster than real time (a flood, or timestamps that jump so that every
packet would be searched alone) gets no more searched than ``MAX_RATE`` times real time: the
packets past that are left out as lost, and a piece of audio between two gaps too short for
one detector block is dropped without being decoded.
"""

from __future__ import annotations

from sipprobe.dsp.dtmf import BLOCK_SAMPLES, ToneDetector
from sipprobe.dsp.g711 import DECODE
from sipprobe.model.dtmf import MAX_DTMF_DIGITS

BATCH_BYTES = 4000  # half a second of 8 kHz G.711
MAX_RATE = 2.0  # audio searched per second of the call's time, in seconds
MAX_JUMP = 8000 * 60  # a timestamp this far ahead is a new timeline, not a gap


def listens_to(codec: str, srtp: bool) -> bool:
    return not srtp and codec.split("/", 1)[0].upper() in DECODE


class InbandListener:
    """One call's in-band DTMF detection (``codec``: PCMU or PCMA)."""

    def __init__(self, codec: str) -> None:
        self._table = DECODE[codec.split("/", 1)[0].upper()]
        self._detector = ToneDetector(max_digits=2 * MAX_DTMF_DIGITS)
        self._buffer = bytearray()
        self._buffer_at = 0  # stream position of the buffer's first sample
        self._next_ts: int | None = None  # RTP timestamp right after the last audio placed
        self._position = 0  # stream position of _next_ts
        self._allowance = float(BATCH_BYTES)  # samples that may still be searched
        self._stamp: float | None = None  # when the allowance was last refilled

    def add(self, payload: bytes | bytearray | memoryview, timestamp: int, now: float) -> None:
        """One packet's G.711 payload with its RTP timestamp, arrived at ``now`` (seconds)."""
        if not payload:
            return
        if self._stamp is not None:
            refill = (now - self._stamp) * MAX_RATE * 8000
            self._allowance = min(float(BATCH_BYTES), self._allowance + refill)
        self._stamp = now
        if self._allowance < len(payload):
            return  # faster than real time: left out, a gap when audio comes again
        self._allowance -= len(payload)
        if self._next_ts is not None:
            ahead = (timestamp - self._next_ts) & 0xFFFFFFFF
            if ahead >= 0x80000000:  # behind: late or repeated
                return
            if ahead:
                self._flush()
                self._position += ahead if ahead <= MAX_JUMP else 0
                self._buffer_at = self._position
        self._buffer += payload
        self._position += len(payload)
        self._next_ts = (timestamp + len(payload)) & 0xFFFFFFFF
        if len(self._buffer) >= BATCH_BYTES:
            self._flush()

    def _flush(self) -> None:
        if len(self._buffer) < BLOCK_SAMPLES:  # audio between two gaps: too short to search
            self._buffer_at += len(self._buffer)
            self._buffer.clear()
            return
        import numpy as np

        samples = self._table[np.frombuffer(bytes(self._buffer), dtype=np.uint8)]
        self._detector.feed(samples.astype(np.float64), at=self._buffer_at)
        self._buffer_at += len(self._buffer)
        self._buffer.clear()

    def digits(self) -> str:
        """The digits heard so far (a digit still sounding counts)."""
        self._flush()
        return "".join(d.digit for d in self._detector.finish())
