"""In-band DTMF (ITU-T Q.23/Q.24) found in linear audio with Goertzel filters.

Each digit is one row tone (697-941 Hz) plus one column tone (1209-1633 Hz). The power at
each of the 8 frequencies is measured over 205-sample blocks (25.6 ms at 8 kHz) starting
every 102 samples (the blocks overlap by half); as the Goertzel recursion's end state gives
the block's DFT at that frequency, the 8 filters are computed as one matrix product. A block
holds a digit when all of these hold (the usual receiver guards, so that speech and noise
are not taken for digits):

- energy: its RMS is at least ``MIN_RMS`` (about -60 dBFS; quieter is silence);
- purity: the row and column tones carry at least ``MIN_SHARE`` of the block's energy;
- dominance: each tone is ``MIN_DOMINANCE`` times (~8 dB) the next strongest of its group;
- twist: the two tones' powers are within ``MAX_TWIST`` (8 dB, Q.24's widest) either way.

A digit is ``MIN_BLOCKS`` such blocks in a row or more (38.4 ms: a Q.24 minimum tone of
40 ms is found wherever it falls), its length the span of its blocks (a multiple of the
12.75 ms hop, plus a block). ``ToneDetector`` takes the audio piece by piece, so a long call
is never held in memory; audio that is missing (a lost packet) is a gap, not silence: the
blocks on either side are not joined across it, and a digit heard on both sides of a gap of
at most ``MAX_BRIDGE_SAMPLES`` is one digit, not two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from sipprobe.model.dtmf import DtmfDigit

RATE_HZ = 8000
ROW_HZ = (697.0, 770.0, 852.0, 941.0)
COLUMN_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")
BLOCK_SAMPLES = 205
HOP_SAMPLES = 102  # blocks start every half block
MIN_BLOCKS = 2  # consecutive blocks with the same digit
MIN_SHARE = 0.7  # row + column tone power as a share of the block's energy
MIN_DOMINANCE = 6.0  # each tone's power over the next strongest of its group (~8 dB)
MAX_TWIST = 6.3  # row/column power ratio either way (8 dB, Q.24's widest)
MIN_RMS = 32.0  # about -60 dBFS on 16-bit samples: quieter blocks are silence
MAX_BRIDGE_SAMPLES = 480  # a gap up to 60 ms (three lost packets) inside a digit keeps it one


def _basis(rate_hz: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n = np.arange(BLOCK_SAMPLES)[:, None]
    omega = 2.0 * math.pi * np.array(ROW_HZ + COLUMN_HZ) / rate_hz
    return np.cos(omega * n), np.sin(omega * n)


_BASIS = {RATE_HZ: _basis(RATE_HZ)}


def block_symbols(samples: NDArray[np.float64], rate_hz: int = RATE_HZ) -> list[str | None]:
    """The digit each block of ``samples`` holds (blocks every ``HOP_SAMPLES``), or None."""
    if len(samples) < BLOCK_SAMPLES:
        return []
    blocks = sliding_window_view(samples, BLOCK_SAMPLES)[::HOP_SAMPLES]
    cosines, sines = _BASIS.get(rate_hz) or _BASIS.setdefault(rate_hz, _basis(rate_hz))
    power = (blocks @ cosines) ** 2 + (blocks @ sines) ** 2
    energy = np.einsum("ij,ij->i", blocks, blocks)
    # A tone of amplitude A over N samples has power (A N / 2)^2 and energy N A^2 / 2:
    # 2 P / (N E) is its share of the block's energy, 1 for a pure tone on the frequency.
    share = 2.0 * power / (BLOCK_SAMPLES * np.maximum(energy, 1e-9))[:, None]
    rows, columns = np.sort(share[:, :4], axis=1), np.sort(share[:, 4:], axis=1)
    row_top, column_top = rows[:, -1], columns[:, -1]
    tone = (
        (energy >= MIN_RMS * MIN_RMS * BLOCK_SAMPLES)
        & (row_top + column_top >= MIN_SHARE)
        & (row_top >= MIN_DOMINANCE * rows[:, -2])
        & (column_top >= MIN_DOMINANCE * columns[:, -2])
        & (row_top * MAX_TWIST >= column_top)
        & (column_top * MAX_TWIST >= row_top)
    )
    row, column = np.argmax(share[:, :4], axis=1), np.argmax(share[:, 4:], axis=1)
    return [
        KEYPAD[r][c] if t else None
        for r, c, t in zip(row.tolist(), column.tolist(), tone.tolist(), strict=True)
    ]


@dataclass(frozen=True, slots=True)
class ToneDigit:
    """A digit found: its symbol, first sample and length in samples (stream positions)."""

    digit: str
    start: int
    length: int


class ToneDetector:
    """Streaming detection: ``feed`` audio in order, ``finish`` at the end.

    Memory is bounded: less than a block of audio is kept between calls, and at most
    ``max_digits`` digits (later ones are counted in ``dropped``).
    """

    def __init__(self, rate_hz: int = RATE_HZ, max_digits: int = 64) -> None:
        self._rate_hz = rate_hz
        self._max_digits = max_digits
        self._pending: NDArray[np.float64] = np.zeros(0)
        self._pending_start = 0  # stream position of the first pending sample
        self._run: tuple[str, int, int] | None = None  # digit, first and last block start
        self.digits: list[ToneDigit] = []
        self.dropped = 0

    @property
    def position(self) -> int:
        """The stream position the next contiguous audio starts at."""
        return self._pending_start + len(self._pending)

    def feed(self, samples: NDArray[np.float64], at: int | None = None) -> None:
        """Audio starting at stream position ``at`` (None: right after the previous audio).
        A later ``at`` leaves a gap: no block spans it."""
        if at is not None and at != self.position:
            if self._run is not None and at - self.position > MAX_BRIDGE_SAMPLES:
                self._close()
            self._pending, self._pending_start = np.zeros(0), at
        audio = np.concatenate((self._pending, samples)) if len(self._pending) else samples
        symbols = block_symbols(np.asarray(audio, dtype=np.float64), self._rate_hz)
        for index, symbol in enumerate(symbols):
            start = self._pending_start + index * HOP_SAMPLES
            run = self._run
            if run is not None and run[0] == symbol:
                self._run = (run[0], run[1], start)
                continue
            if run is not None:
                self._close()
            if symbol is not None:
                self._run = (symbol, start, start)
        used = len(symbols) * HOP_SAMPLES
        self._pending = np.array(audio[used:], dtype=np.float64)
        self._pending_start += used

    def _close(self) -> None:
        run, self._run = self._run, None
        if run is None:
            return
        digit, first, last = run
        if (last - first) // HOP_SAMPLES + 1 < MIN_BLOCKS:
            return
        if len(self.digits) >= self._max_digits:
            self.dropped += 1
            return
        self.digits.append(ToneDigit(digit, first, last - first + BLOCK_SAMPLES))

    def finish(self) -> list[ToneDigit]:
        """Close a digit still sounding at the end; the digits found, in order."""
        self._close()
        return self.digits


def to_dtmf_digits(
    found: list[ToneDigit], time_of: Callable[[int], float], rate_hz: int = RATE_HZ
) -> tuple[DtmfDigit, ...]:
    """Digits with their start on a clock (``time_of`` a stream position) and length in ms."""
    return tuple(
        DtmfDigit(d.digit, time_of(d.start), round(1000.0 * d.length / rate_hz, 3)) for d in found
    )


def inband_digits(
    samples: NDArray[np.int16] | NDArray[np.float64], start_s: float, rate_hz: int = RATE_HZ
) -> tuple[DtmfDigit, ...]:
    """DTMF digits in contiguous linear audio that begins at ``start_s``."""
    detector = ToneDetector(rate_hz, max_digits=1 << 30)
    detector.feed(np.asarray(samples, dtype=np.float64))
    return to_dtmf_digits(detector.finish(), lambda at: start_s + at / rate_hz, rate_hz)
