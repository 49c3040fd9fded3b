"""DTMF digits in a call's media: RFC 4733 telephone events and in-band tones.

RFC 4733 (2.5): one event is a run of packets with the same RTP timestamp (the event's
start); each carries the event code, the end bit and the duration so far in timestamp units.
The end packet is usually sent three times, and a far end that reflects packets keeps the
timestamps of one event equal (it shifts them all by the same constant), so grouping by
timestamp finds each digit once, wherever it was seen.

In-band (ITU-T Q.23/Q.24): each digit is one row tone (697-941 Hz) plus one column tone
(1209-1633 Hz). A Goertzel filter per tone over 205-sample blocks (25.6 ms at 8 kHz, every
12.8 ms: the blocks overlap by half) measures each tone's share of the block's energy; a block
holds a digit when one row and one column tone carry most of it, each dominates its group and
their levels are within the twist limits; a digit is two such blocks in a row or more, so a
tone of 40 ms (Q.24's minimum) is found wherever it falls.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sipprobe.model.dtmf import DTMF_SYMBOLS, DtmfDigit
from sipprobe.sip.telephone_event import TelephoneEvent

EVENT_CLOCK_HZ = 8000  # telephone-event/8000, the rate every narrowband call negotiates
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


def _goertzel_powers(blocks: NDArray[np.float64], rate_hz: int) -> NDArray[np.float64]:
    """Power at each of the 8 DTMF frequencies, per block: shape (blocks, 8)."""
    frequencies = np.array(ROW_HZ + COLUMN_HZ)
    coefficients = 2.0 * np.cos(2.0 * math.pi * frequencies / rate_hz)
    s1 = np.zeros((blocks.shape[0], 8))
    s2 = np.zeros((blocks.shape[0], 8))
    for n in range(blocks.shape[1]):
        s0 = blocks[:, n : n + 1] + coefficients * s1 - s2
        s2, s1 = s1, s0
    return np.asarray(s1 * s1 + s2 * s2 - coefficients * s1 * s2)


def _block_symbols(samples: NDArray[np.float64], rate_hz: int) -> list[str | None]:
    if len(samples) < BLOCK_SAMPLES:
        return []
    count = 1 + (len(samples) - BLOCK_SAMPLES) // HOP_SAMPLES
    starts = np.arange(count)[:, None] * HOP_SAMPLES
    blocks = samples[starts + np.arange(BLOCK_SAMPLES)]
    energy = np.sum(blocks * blocks, axis=1)
    # A tone of amplitude A over N samples has Goertzel power (A N / 2)^2 and energy N A^2 / 2:
    # 2 P / (N E) is its share of the block's energy, 1 for a pure tone on the frequency.
    share = (
        2.0
        * _goertzel_powers(blocks, rate_hz)
        / (BLOCK_SAMPLES * np.maximum(energy, 1e-9))[:, None]
    )
    symbols: list[str | None] = []
    for index in range(count):
        rows, columns = np.sort(share[index, :4]), np.sort(share[index, 4:])
        row, column = int(np.argmax(share[index, :4])), int(np.argmax(share[index, 4:]))
        tone = (
            math.sqrt(energy[index] / BLOCK_SAMPLES) >= MIN_RMS
            and rows[-1] + columns[-1] >= MIN_SHARE
            and rows[-1] >= MIN_DOMINANCE * rows[-2]
            and columns[-1] >= MIN_DOMINANCE * columns[-2]
            and 1.0 / MAX_TWIST <= rows[-1] / max(columns[-1], 1e-12) <= MAX_TWIST
        )
        symbols.append(KEYPAD[row][column] if tone else None)
    return symbols


def inband_digits(
    samples: NDArray[np.int16] | NDArray[np.float64], start_s: float, rate_hz: int = 8000
) -> tuple[DtmfDigit, ...]:
    """DTMF digits in linear audio that begins at ``start_s`` on the capture clock."""
    symbols = _block_symbols(np.asarray(samples, dtype=np.float64), rate_hz)
    hop_s, block_s = HOP_SAMPLES / rate_hz, BLOCK_SAMPLES / rate_hz
    digits: list[DtmfDigit] = []
    run_start = 0
    for index in range(1, len(symbols) + 1):
        if index < len(symbols) and symbols[index] == symbols[run_start]:
            continue
        symbol, blocks = symbols[run_start], index - run_start
        if symbol is not None and blocks >= MIN_BLOCKS:
            length_s = (blocks - 1) * hop_s + block_s
            digits.append(DtmfDigit(symbol, start_s + run_start * hop_s, round(1000 * length_s, 3)))
        run_start = index
    return tuple(digits)


def digits_text(digits: Iterable[DtmfDigit]) -> str:
    return "".join(d.digit for d in digits)
