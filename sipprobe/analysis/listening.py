"""Listening quality of speech that came back from an echoing far end: ITU-T P.862 MOS-LQO.

The probe plays reference speech (``sipprobe/media/speech-8k.wav``); an echoing far end sends
it back. The reference scored against is what the probe sent as the capture saw it (the
decoded G.711 of the sent packets), so any file a scenario plays is scored against itself and
the probe's own encoding is not counted against the path. The received packets are decoded in
sequence order with a lost packet as silence (no concealment: what the stream delivered), the
two signals are aligned by cross-correlation, and the aligned overlap is scored with P.862
narrowband mapped to MOS-LQO by P.862.1, through the ``pesq`` package (the ITU-T reference C
code). docs/measurement.md, "Listening quality", says why this model and what its licence
allows.

The ``pesq`` package is an optional extra (``pip install sipprobe[listening]``) because of
the reference code's licence; without it nothing is scored.

Long calls are scored in equal pieces of at most ``SEGMENT_S`` (P.862 is validated on 8-12 s
samples) and the pieces' mean is the call's score.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.echo import EchoPacket, g711_samples

SAMPLES_PER_S = 8000
MAX_LAG_S = 2.0  # as the echo measurement
SEGMENT_S = 12.0
MIN_SCORED_S = 3.0  # shorter overlaps are not scored: too little speech for P.862
ACTIVE_FRAME_S = 0.02
ACTIVE_BELOW_PEAK_DB = 35.0  # a frame within this of the loudest frame counts as speech
# Below this normalised correlation of the aligned signals the received audio is not taken for
# the sent one. Lower than the echo measurement's 0.6 per window: a lost packet here is a gap
# of silence, which lowers the correlation of a whole call by about the loss rate.
MIN_CORRELATION = 0.5
MAX_DROPOUT = 3000  # RFC 3550 A.1
MODEL = "ITU-T P.862 narrowband, P.862.1 mapping"


@dataclass(frozen=True, slots=True)
class ListeningScore:
    mos_lqo: float
    model: str  # the model and the implementation that scored, e.g. "... (pesq 0.0.4)"
    aligned_delay_ms: float  # where the reference starts in the received audio
    active_speech_s: float  # speech in the scored reference, silence not counted


def decode_stream(packets: list[EchoPacket]) -> NDArray[np.float64]:
    """Samples of one G.711 stream in sequence order; a missing packet is a frame of silence.

    Sequence numbers are extended across a wrap; duplicates are dropped; non-G.711 packets
    (a telephone-event, comfort noise) are left out as if lost; a packet more than
    ``MAX_DROPOUT`` ahead is a jump and is left out too.
    """
    decoded: dict[int, NDArray[np.float64]] = {}
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
            decoded[extended] = samples
    if not decoded:
        return np.zeros(0)
    frame = int(np.median([len(s) for s in decoded.values()]))
    first, last = min(decoded), max(decoded)
    silence = np.zeros(frame)
    return np.concatenate([decoded.get(seq, silence) for seq in range(first, last + 1)])


def align(reference: NDArray[np.float64], received: NDArray[np.float64]) -> int:
    """Lag in samples (negative: the received audio starts later) that best matches the two."""
    size = 1 << int(np.ceil(np.log2(len(reference) + len(received))))
    spectrum = np.fft.rfft(received - received.mean(), size) * np.conj(
        np.fft.rfft(reference - reference.mean(), size)
    )
    correlation = np.fft.irfft(spectrum, size)
    reach = int(MAX_LAG_S * SAMPLES_PER_S)
    ahead = min(reach, len(received) - 1)
    behind = min(reach, len(reference) - 1)
    lags = np.concatenate((np.arange(0, ahead + 1), np.arange(-behind, 0)))
    values = np.concatenate((correlation[: ahead + 1], correlation[size - behind :]))
    return int(lags[int(np.argmax(values))])


def _correlation(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    a, b = a - a.mean(), b - b.mean()
    scale = float(np.sqrt((a**2).sum() * (b**2).sum()))
    return float((a * b).sum()) / scale if scale else 0.0


def active_speech_s(samples: NDArray[np.float64]) -> float:
    """Seconds of 20 ms frames whose level is within ``ACTIVE_BELOW_PEAK_DB`` of the loudest."""
    frame = int(ACTIVE_FRAME_S * SAMPLES_PER_S)
    count = len(samples) // frame
    if not count:
        return 0.0
    power = (samples[: count * frame].reshape(count, frame) ** 2).mean(axis=1)
    if not power.max():
        return 0.0
    active = power >= power.max() * 10 ** (-ACTIVE_BELOW_PEAK_DB / 10)
    return round(float(active.sum()) * ACTIVE_FRAME_S, 3)


def scorer_installed() -> bool:
    """Whether the optional ``pesq`` package (the ``listening`` extra) is installed."""
    return find_spec("pesq") is not None


def _pesq_nb(reference: NDArray[np.float64], degraded: NDArray[np.float64]) -> float | None:
    from pesq import PesqError, pesq

    try:
        return float(pesq(SAMPLES_PER_S, reference, degraded, "nb"))
    except PesqError:  # no utterance found, buffer too short: this piece cannot be scored
        return None


def model_name() -> str:
    return f"{MODEL} (pesq {metadata.version('pesq')})"


def score_listening(
    reference: NDArray[np.float64], received: NDArray[np.float64]
) -> ListeningScore | None:
    """MOS-LQO of ``received`` against ``reference`` (8 kHz samples), aligned first; None when
    the overlap is too short or silent, the aligned signals do not correlate, no piece of it
    could be scored, or the ``listening`` extra is not installed."""
    if not scorer_installed():
        return None
    if len(reference) < MIN_SCORED_S * SAMPLES_PER_S or not reference.std() or not received.std():
        return None
    lag = align(reference, received)
    start = max(0, -lag)
    length = min(len(reference), len(received) - lag) - start
    if length < MIN_SCORED_S * SAMPLES_PER_S:
        return None
    sent = reference[start : start + length]
    heard = received[start + lag : start + lag + length]
    if _correlation(sent, heard) < MIN_CORRELATION:
        return None  # what came back is not the sent audio (a tone, another far end's audio)
    pieces = int(np.ceil(length / (SEGMENT_S * SAMPLES_PER_S)))
    bounds = np.linspace(0, length, pieces + 1).astype(int)
    scores, scored = [], []
    for low, high in pairwise(bounds.tolist()):
        if not sent[low:high].std():
            continue
        score = _pesq_nb(sent[low:high], heard[low:high])
        if score is not None:
            scores.append(score)
            scored.append(sent[low:high])
    if not scores:
        return None
    return ListeningScore(
        mos_lqo=round(float(np.mean(scores)), 3),
        model=model_name(),
        aligned_delay_ms=round(lag * 1000.0 / SAMPLES_PER_S, 3),
        active_speech_s=active_speech_s(np.concatenate(scored)),
    )


def listen_to_echo(sent: list[EchoPacket], received: list[EchoPacket]) -> ListeningScore | None:
    """The call's MOS-LQO: what came back scored against what the probe sent."""
    return score_listening(decode_stream(sent), decode_stream(received))
