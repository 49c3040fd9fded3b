"""Round trip through an echoing far end, measured on the audio itself.

A far end that echoes (SIPp ``-rtp_echo`` reflects packets; the responder and most platform
echo tests decode and re-encode through a conference bridge, so their bytes differ) sends
the probe's audio back. Cross-correlating the decoded G.711 the probe sent with what came
back gives the lag in samples; each sent packet's round trip is then the arrival of the
received packet carrying its audio minus its own send time, both on the capture clock. This
is the audio's round trip, far end's jitter buffer included: the delay a talker hears. With a
packet reflector it is the network round trip.

Both directions are decoded with each packet at its place in the stream and a lost one as
silence (``decode_g711_stream``, which the listening score decodes with too), and a window
of the per-packet matching that a lost packet cuts into is skipped rather than judged, so
random loss costs matched packets, not the measurement (docs/measurement.md, "Echo round
trip").
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from sipprobe.dsp.g711 import DECODE as _DECODE
from sipprobe.sip.codecs import codec_for_payload_type

SAMPLES_PER_S = 8000
MAX_LAG_S = 2.0
MIN_CORRELATION = 0.6  # below this the received audio is not an echo of the sent audio
WINDOW_FRAMES = 25  # half a second of 20 ms packets: each window finds its own lag
WINDOW_SEARCH_S = 0.2  # how far a window's lag may stray from the call's
MAX_DROPOUT = 3000  # RFC 3550 A.1
MAX_TIMESTAMP_GAP_S = 60.0  # more silence than this between packets: the timestamps jumped


# The static payload types the decoders (sipprobe.dsp.g711) read, as the codec table assigns them.
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
    timestamp: int | None = None  # RTP timestamp; None: placed by its sequence number


@dataclass(frozen=True, slots=True)
class DecodedStream:
    """A G.711 stream decoded onto its own timeline, silence where no packet arrived."""

    samples: NDArray[np.float64]
    heard: NDArray[np.bool_]  # per sample: carried by a packet that arrived
    starts: NDArray[np.int64]  # first sample of each packet that arrived, in stream order
    arrivals_s: NDArray[np.float64]  # that packet's arrival
    frame: int  # samples per packet (the median)


def _extended_timestamps(timestamps: list[int]) -> NDArray[np.int64]:
    """RTP timestamps (in stream order) extended across a 32-bit wrap."""
    steps = [(b - a + 0x80000000) % 0x100000000 - 0x80000000 for a, b in pairwise(timestamps)]
    return np.concatenate(([0], np.cumsum(steps, dtype=np.int64))).astype(np.int64)


def decode_g711_stream(packets: list[EchoPacket]) -> DecodedStream:
    """One G.711 stream's samples, each packet at its place in the stream, silence between.

    A packet's place is its RTP timestamp (8 kHz: one tick a sample) when every packet has
    one and they advance with the sequence numbers, within ``MAX_TIMESTAMP_GAP_S`` of what
    the sequence numbers imply; otherwise the sequence number times the median packet size.
    Sequence numbers are extended across a wrap; duplicates are dropped (the first copy's
    arrival is kept); non-G.711 packets (a telephone-event, comfort noise) are left out as if
    lost; a packet more than ``MAX_DROPOUT`` ahead is a jump and is left out too.
    """
    decoded: dict[int, tuple[EchoPacket, NDArray[np.float64]]] = {}
    highest: int | None = None
    for packet in packets:
        if highest is None:
            extended = packet.seq
        else:
            delta = (packet.seq - highest + 0x8000) % 0x10000 - 0x8000
            if delta > MAX_DROPOUT:  # a jump, not loss: RFC 3550 A.1 would not count it
                continue
            extended = highest + delta
        highest = extended if highest is None else max(highest, extended)
        samples = g711_samples(packet.payload_type, packet.payload)
        if samples is not None and extended not in decoded:
            decoded[extended] = (packet, samples)
    if not decoded:
        empty = np.zeros(0, dtype=np.int64)
        return DecodedStream(np.zeros(0), np.zeros(0, dtype=np.bool_), empty, np.zeros(0), 0)
    order = sorted(decoded)
    chunks = [decoded[seq][1] for seq in order]
    frame = int(np.median([len(c) for c in chunks]))
    starts = (np.array(order, dtype=np.int64) - order[0]) * frame
    stamps = [decoded[seq][0].timestamp for seq in order]
    if all(t is not None for t in stamps):
        placed = _extended_timestamps([t for t in stamps if t is not None])
        placed -= placed.min()
        steps = np.diff(placed)
        if (steps >= 0).all() and placed[-1] <= starts[-1] + MAX_TIMESTAMP_GAP_S * SAMPLES_PER_S:
            starts = placed
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    samples = np.zeros(int((starts + lengths).max()))
    heard = np.zeros(len(samples), dtype=np.bool_)
    for first, chunk in zip(starts.tolist(), chunks, strict=True):
        samples[first : first + len(chunk)] = chunk
        heard[first : first + len(chunk)] = True
    arrivals = np.array([decoded[seq][0].arrival_s for seq in order])
    return DecodedStream(samples, heard, starts, arrivals, frame)


@dataclass(frozen=True, slots=True)
class EchoResult:
    lag_ms: float  # offset of the echoed audio in the received stream (0: a reflector)
    correlation: float  # normalised peak of the cross-correlation (1 = identical)
    packets: int  # sent packets matched: those with a round trip
    rtt_ms_min: float
    rtt_ms_median: float
    rtt_ms_p95: float
    rtt_ms_max: float
    histogram_ms: tuple[tuple[int, int], ...]  # (1 ms bucket, count)
    windows_cut: int = 0  # windows not judged: a lost packet cut into the sent or echoed audio


def _window_lags(
    tx: NDArray[np.float64], rx: NDArray[np.float64], coarse: int, frame: int
) -> list[tuple[int, int, float]]:
    """(first sample, lag, correlation) of each window of sent audio.

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
        windows.append((start, low + best - start, float(normalised[best])))
    return windows


def measure_echo(sent: list[EchoPacket], received: list[EchoPacket]) -> EchoResult | None:
    """Round trips of the sent audio, or None when the received audio is not its echo."""
    sent = [p for p in sent if p.payload_type in _G711]
    received = [p for p in received if p.payload_type in _G711]
    if len(sent) < 50 or len(received) < 50:
        return None
    tx, rx = decode_g711_stream(sent), decode_g711_stream(received)
    frame = tx.frame
    if frame != rx.frame or not tx.samples.std() or not rx.samples.std():
        return None
    size = 1 << int(np.ceil(np.log2(len(tx.samples) + len(rx.samples))))
    spectrum = np.fft.rfft(rx.samples - rx.samples.mean(), size) * np.conj(
        np.fft.rfft(tx.samples - tx.samples.mean(), size)
    )
    coarse = int(np.argmax(np.fft.irfft(spectrum, size)[: int(MAX_LAG_S * SAMPLES_PER_S)]))
    width = WINDOW_FRAMES * frame
    windows = _window_lags(tx.samples, rx.samples, coarse, frame)
    # A lost packet, sent or echoed, is silence inside the window at the lag found: it lowers
    # the window's correlation for reasons that are not the echo's, so the window is not
    # judged at all (neither matched nor failed) and the rest of the call still counts.
    judged = [
        w
        for w in windows
        if tx.heard[w[0] : w[0] + width].all() and rx.heard[w[0] + w[1] : w[0] + w[1] + width].all()
    ]
    matched = [w for w in judged if np.isfinite(w[2]) and w[2] >= MIN_CORRELATION]
    if not matched or len(matched) * 2 < len(judged):
        return None
    # Each sent packet whose first sample lies in a matched window, and that window's lag.
    window_of = np.searchsorted([w[0] for w in matched], tx.starts, side="right") - 1
    inside = (window_of >= 0) & (
        tx.starts < np.array([w[0] for w in matched])[np.maximum(window_of, 0)] + width
    )
    lags = np.array([w[1] for w in matched], dtype=np.int64)[window_of[inside]]
    echoed = tx.starts[inside] + lags  # where the packet's first sample is in the received audio
    carrier = np.searchsorted(rx.starts, echoed, side="right") - 1
    keep = (carrier >= 0) & (echoed < len(rx.samples))
    keep[keep] = rx.heard[echoed[keep]]
    # The first sample of sent packet i comes back inside received packet j, at a position;
    # counting that position makes a re-framing far end (a bridge) comparable to a reflector.
    position_ms = (echoed[keep] - rx.starts[carrier[keep]]) * 1000.0 / SAMPLES_PER_S
    rtts = (rx.arrivals_s[carrier[keep]] - tx.arrivals_s[inside][keep]) * 1000.0 + position_ms
    if not rtts.size:
        return None
    buckets = np.unique(np.floor(rtts).astype(np.int64), return_counts=True)
    return EchoResult(
        lag_ms=round(coarse * 1000.0 / SAMPLES_PER_S, 3),
        correlation=round(float(np.median([w[2] for w in matched])), 4),
        packets=int(keep.sum()),
        rtt_ms_min=round(float(rtts.min()), 3),
        rtt_ms_median=round(float(np.median(rtts)), 3),
        rtt_ms_p95=round(float(np.percentile(rtts, 95)), 3),
        rtt_ms_max=round(float(rtts.max()), 3),
        histogram_ms=tuple(zip(buckets[0].tolist(), buckets[1].tolist(), strict=True)),
        windows_cut=len(windows) - len(judged),
    )
