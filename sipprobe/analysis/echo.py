"""Round trip through an echoing far end, measured on the audio itself.

A far end that echoes (SIPp ``-rtp_echo`` reflects packets; the responder and most platform
echo tests decode and re-encode through a conference bridge, so their bytes differ) sends
the probe's audio back. Cross-correlating the decoded G.711 the probe sent with what came
back gives the lag in samples; each sent packet's round trip is then the arrival of the
received packet carrying its audio minus its own send time, both on the capture clock. This
is the audio's round trip, far end's jitter buffer included: the delay a talker hears. With a
packet reflector it is the network round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sipprobe.sip.codecs import codec_for_payload_type

SAMPLES_PER_S = 8000
MAX_LAG_S = 2.0
MIN_CORRELATION = 0.6  # below this the received audio is not an echo of the sent audio
WINDOW_FRAMES = 25  # half a second of 20 ms packets: each window finds its own lag
WINDOW_SEARCH_S = 0.2  # how far a window's lag may stray from the call's


def _ulaw_table() -> NDArray[np.int16]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    value = np.where(code & 0x80, 0x84 - magnitude, magnitude - 0x84)
    return value.astype(np.int16)


def _alaw_table() -> NDArray[np.int16]:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    value = np.where(code & 0x80, magnitude, -magnitude)
    return value.astype(np.int16)


_DECODE = {"PCMU": _ulaw_table(), "PCMA": _alaw_table()}
# The static payload types the decoders above read, as the codec table assigns them.
_G711 = {
    pt: codec.name
    for pt in range(128)
    if (codec := codec_for_payload_type(pt)) is not None and codec.name in _DECODE
}


def g711_samples(payload_type: int, payload: bytes) -> NDArray[np.float64] | None:
    """Linear samples of one G.711 payload; None for any other payload type."""
    codec = _G711.get(payload_type)
    if codec is None:
        return None
    return _DECODE[codec][np.frombuffer(payload, dtype=np.uint8)].astype(np.float64)


@dataclass(frozen=True, slots=True)
class EchoPacket:
    """One G.711 RTP packet of the call: when it passed the probe, and its audio bytes."""

    arrival_s: float
    seq: int
    payload_type: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class EchoResult:
    lag_ms: float  # offset of the echoed audio in the received stream (0: a reflector)
    correlation: float  # normalised peak of the cross-correlation (1 = identical)
    packets: int  # sent packets with a round trip
    rtt_ms_min: float
    rtt_ms_median: float
    rtt_ms_p95: float
    rtt_ms_max: float
    histogram_ms: tuple[tuple[int, int], ...]  # (1 ms bucket, count)


def _signal(packets: list[EchoPacket]) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """Decoded samples in sequence order, each packet's time, and samples per packet."""
    ordered = sorted(packets, key=lambda p: p.seq)  # seq wrap inside one call is not expected
    codec = _G711[ordered[0].payload_type]
    frame = len(ordered[0].payload)
    usable = [p for p in ordered if len(p.payload) == frame and p.payload_type in _G711]
    raw = np.frombuffer(b"".join(p.payload for p in usable), dtype=np.uint8)
    samples = _DECODE[codec][raw].astype(np.float64)
    times = np.array([p.arrival_s for p in usable])
    return samples, times, frame


def _window_lags(
    tx: NDArray[np.float64], rx: NDArray[np.float64], coarse: int, frame: int
) -> list[tuple[int, int, int, float]]:
    """(first packet, packets, lag, correlation) of each window of sent audio.

    A far end's adaptive jitter buffer shifts the echo by whole frames during a call, so one
    lag for the whole call understates the match; each window looks for its own lag near the
    call's (within ``WINDOW_SEARCH_S``).
    """
    search = int(WINDOW_SEARCH_S * SAMPLES_PER_S)
    width = WINDOW_FRAMES * frame
    windows = []
    for start in range(0, len(tx) - width + 1, width):
        sent = tx[start : start + width]
        low = max(0, start + coarse - search)
        high = min(len(rx), start + coarse + search + width)
        if high - low < width or not sent.std():
            continue
        segment = rx[low:high]
        size = 1 << int(np.ceil(np.log2(len(segment) + width)))
        product = np.fft.rfft(segment, size) * np.conj(np.fft.rfft(sent - sent.mean(), size))
        raw = np.fft.irfft(product, size)[: len(segment) - width + 1]
        energy = np.concatenate(([0.0], np.cumsum(segment**2)))
        sums = np.concatenate(([0.0], np.cumsum(segment)))
        totals = sums[width:] - sums[:-width]
        spread = np.sqrt(np.maximum(energy[width:] - energy[:-width] - totals**2 / width, 1e-9))
        normalised = raw / (spread * np.sqrt(float(((sent - sent.mean()) ** 2).sum())))
        best = int(np.argmax(normalised))
        windows.append((start // frame, WINDOW_FRAMES, low + best - start, float(normalised[best])))
    return windows


def measure_echo(sent: list[EchoPacket], received: list[EchoPacket]) -> EchoResult | None:
    """Round trips of the sent audio, or None when the received audio is not its echo."""
    sent = [p for p in sent if p.payload_type in _G711]
    received = [p for p in received if p.payload_type in _G711]
    if len(sent) < 50 or len(received) < 50:
        return None
    tx, tx_times, frame = _signal(sent)
    rx, rx_times, rx_frame = _signal(received)
    if frame != rx_frame or not tx.std() or not rx.std():
        return None
    size = 1 << int(np.ceil(np.log2(len(tx) + len(rx))))
    spectrum = np.fft.rfft(rx - rx.mean(), size) * np.conj(np.fft.rfft(tx - tx.mean(), size))
    coarse = int(np.argmax(np.fft.irfft(spectrum, size)[: int(MAX_LAG_S * SAMPLES_PER_S)]))
    windows = _window_lags(tx, rx, coarse, frame)
    matched = [w for w in windows if np.isfinite(w[3]) and w[3] >= MIN_CORRELATION]
    if not windows or len(matched) * 2 < len(windows) or len(matched) * WINDOW_FRAMES < 25:
        return None
    sent_index = np.concatenate([np.arange(first, first + count) for first, count, _, _ in matched])
    lags = np.concatenate([np.full(count, lag) for _, count, lag, _ in matched])
    received_index = (sent_index * frame + lags) // frame
    keep = (received_index >= 0) & (received_index < len(rx_times))
    # The first sample of sent packet i comes back inside received packet j, at a position;
    # counting that position makes a re-framing far end (a bridge) comparable to a reflector.
    position_ms = ((sent_index[keep] * frame + lags[keep]) % frame) * 1000.0 / SAMPLES_PER_S
    rtts = (rx_times[received_index[keep]] - tx_times[sent_index[keep]]) * 1000.0 + position_ms
    if not rtts.size:
        return None
    buckets = np.unique(np.floor(rtts).astype(np.int64), return_counts=True)
    return EchoResult(
        lag_ms=round(coarse * 1000.0 / SAMPLES_PER_S, 3),
        correlation=round(float(np.median([w[3] for w in matched])), 4),
        packets=int(keep.sum()),
        rtt_ms_min=round(float(rtts.min()), 3),
        rtt_ms_median=round(float(np.median(rtts)), 3),
        rtt_ms_p95=round(float(np.percentile(rtts, 95)), 3),
        rtt_ms_max=round(float(rtts.max()), 3),
        histogram_ms=tuple(zip(buckets[0].tolist(), buckets[1].tolist(), strict=True)),
    )
