"""The shipped reference speech as G.711 u-law, for the echo and listening tests."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.echo import g711_samples

MEDIA = Path(__file__).resolve().parents[2] / "sipprobe" / "media"
FRAME = 160


def speech() -> NDArray[np.float64]:
    with wave.open(str(MEDIA / "speech-8k.wav")) as source:
        raw = source.readframes(source.getnframes())
    return np.frombuffer(raw, dtype="<i2").astype(np.float64)


def ulaw(samples: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Nearest G.711 u-law code of each sample (the decoder's table, searched)."""
    table = g711_samples(0, bytes(range(256)))
    assert table is not None
    order = np.argsort(table)
    ordered = table[order]
    index = np.clip(np.searchsorted(ordered, samples), 1, 255)
    lower = np.abs(ordered[index - 1] - samples) < np.abs(ordered[index] - samples)
    return order[np.where(lower, index - 1, index)].astype(np.uint8)


def speech_codes() -> NDArray[np.uint8]:
    """The reference speech, whole packets of it, as u-law codes."""
    samples = speech()
    return ulaw(samples[: len(samples) // FRAME * FRAME])
