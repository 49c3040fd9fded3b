"""The shared in-band DTMF detector (sipprobe/dsp/dtmf.py) on tones at the probe's sending
levels, through G.711, with noise, with lost packets, streamed, and on the reference speech,
where it must find nothing: a false digit would be a false alarm in every clean call."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from sipprobe.analysis.dtmf import stream_digits
from sipprobe.analysis.echo import DecodedStream
from sipprobe.dsp.dtmf import (
    COLUMN_HZ,
    KEYPAD,
    ROW_HZ,
    ToneDetector,
    ToneDigit,
    block_symbols,
    inband_digits,
)
from sipprobe.dsp.g711 import alaw_table, ulaw_table
from sipprobe.model.dtmf import DtmfDigit
from sipprobe.responder.inband import BATCH_BYTES, InbandListener, listens_to

RATE = 8000
DBM0 = 22656.0  # amplitude of a 0 dBm0 sine in 16-bit G.711 (mu-law overload +3.17 dBm0)
SPEECH = Path(__file__).resolve().parents[2] / "sipprobe" / "media" / "speech-8k.wav"


def _frequencies(symbol: str) -> tuple[float, float]:
    row = next(r for r, keys in enumerate(KEYPAD) if symbol in keys)
    return ROW_HZ[row], COLUMN_HZ[KEYPAD[row].index(symbol)]


def tones(
    sequence: str,
    on_s: float = 0.16,
    off_s: float = 0.09,
    row_dbm0: float = -8.6,  # what the probe sends (signalling/inband.py, measured)
    column_dbm0: float = -7.8,
    lead_s: float = 0.1,
) -> NDArray[np.float64]:
    parts = [np.zeros(int(lead_s * RATE))]
    for symbol in sequence:
        low, high = _frequencies(symbol)
        t = np.arange(int(on_s * RATE)) / RATE
        parts.append(
            DBM0 * 10 ** (row_dbm0 / 20) * np.sin(2 * math.pi * low * t)
            + DBM0 * 10 ** (column_dbm0 / 20) * np.sin(2 * math.pi * high * t)
        )
        parts.append(np.zeros(int(off_s * RATE)))
    return np.concatenate(parts)


def g711(samples: NDArray[np.float64], table: NDArray[np.int16]) -> NDArray[np.uint8]:
    """Encode by the nearest code of ``table`` (a decoder's table): exact G.711 quantisation."""
    values = table.astype(np.float64)
    order = np.argsort(values)
    ordered = values[order]
    index = np.clip(np.searchsorted(ordered, samples), 1, 255)
    nearer_left = np.abs(samples - ordered[index - 1]) <= np.abs(ordered[index] - samples)
    return order[np.where(nearer_left, index - 1, index)].astype(np.uint8)


def speech() -> NDArray[np.float64]:
    with wave.open(str(SPEECH)) as audio:
        assert audio.getframerate() == RATE
        return np.frombuffer(audio.readframes(audio.getnframes()), np.int16).astype(np.float64)


# The first tone starts at sample 800; its first block at 816 (8 hops: the block at 714 is
# only 58% tone), so it is found at 0.102 s.
EXPECTED = [(0.102, 165.875), (0.34425, 165.875), (0.59925, 165.875), (0.85425, 153.125)]


def test_probe_levels_through_mu_law_found_with_lengths_within_a_hop() -> None:
    coded = ulaw_table()[g711(tones("159#"), ulaw_table())]
    digits = inband_digits(coded, start_s=0.0)
    assert [(d.digit, d.start_s, d.duration_ms) for d in digits] == [
        (digit, start, length) for digit, (start, length) in zip("159#", EXPECTED, strict=True)
    ]
    # 160 ms tones: each length is a whole number of 12.75 ms hops plus a 25.625 ms block
    assert all(abs(d.duration_ms - 160) < 12.75 for d in digits)


@pytest.mark.parametrize("snr_db", [20, 10, 6])
def test_probe_levels_with_white_noise(snr_db: int) -> None:
    signal = tones("*0#D")
    power = float(np.mean(signal[signal != 0] ** 2))
    sigma = math.sqrt(power / 10 ** (snr_db / 10))
    noisy = signal + np.random.default_rng(snr_db).normal(0.0, sigma, signal.shape)
    assert "".join(d.digit for d in inband_digits(noisy, 0.0)) == "*0#D"


@pytest.mark.parametrize("gain_db", [-20, -10, 0, 6, 10])
@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_reference_speech_has_no_digit_not_even_one_block(gain_db: int, law: str) -> None:
    table = ulaw_table() if law == "ulaw" else alaw_table()
    loud = np.clip(speech() * 10 ** (gain_db / 20), -32767, 32767)
    coded = table[g711(loud, table)].astype(np.float64)
    for offset in (0, 37, 71):  # the blocks fall elsewhere in the speech
        symbols = block_symbols(coded[offset:])
        assert len(symbols) > 900 and set(symbols) == {None}
    assert inband_digits(coded, 0.0) == ()


def test_streaming_in_pieces_equals_one_pass() -> None:
    audio = tones("1234567890*#ABCD", on_s=0.05, off_s=0.05)
    whole = inband_digits(audio, 0.0)
    detector = ToneDetector()
    rng = np.random.default_rng(5)
    at = 0
    while at < len(audio):
        size = int(rng.integers(1, 400))
        detector.feed(audio[at : at + size])
        at += size
    found = detector.finish()
    assert "".join(d.digit for d in found) == "1234567890*#ABCD"
    assert [(d.start / RATE, 1000 * d.length / RATE) for d in found] == [
        (d.start_s, d.duration_ms) for d in whole
    ]


def test_a_lost_packet_inside_a_digit_keeps_it_one_and_a_pause_makes_two() -> None:
    audio = tones("77", on_s=0.2, off_s=0.1, lead_s=0.0)
    detector = ToneDetector()
    detector.feed(audio[:800])
    detector.feed(audio[960:2400], at=960)  # 20 ms (one packet) missing in the first 7
    detector.feed(audio[2560:], at=2560)  # and the first packet of the second 7
    # The first 7 (samples 0-1600): blocks from 0 to 1368 (the next, at 1470, is 63% tone:
    # below the 70% share), 1368 + 205 long; the second (2400-4000) from the first block
    # after its gap, 2560, to 3784 (the next is 56% tone).
    assert detector.finish() == [ToneDigit("7", 0, 1573), ToneDigit("7", 2560, 1429)]
    # A gap longer than 60 ms ends the digit before it.
    detector = ToneDetector()
    detector.feed(audio[:700])
    detector.feed(audio[1200:1600], at=1200)
    assert [d.digit for d in detector.finish()] == ["7", "7"]


def test_detector_bounds_its_digits() -> None:
    detector = ToneDetector(max_digits=3)
    detector.feed(tones("12345", on_s=0.05, off_s=0.05))
    assert "".join(d.digit for d in detector.finish()) == "123"
    assert detector.dropped == 2


def test_stream_digits_start_at_the_arrival_of_their_first_packet() -> None:
    audio = tones("9", lead_s=0.1)  # 2800 samples: 17 whole packets and a part
    frames = len(audio) // 160
    heard = np.ones(frames * 160, dtype=np.bool_)
    heard[1120:1280] = False  # packet 7 lost, inside the tone
    samples = np.where(heard, audio[: frames * 160], 0.0)
    starts = np.array([i * 160 for i in range(frames) if i != 7], dtype=np.int64)
    arrivals = 50.0 + starts / RATE + 0.003
    stream = DecodedStream(samples, heard, starts, arrivals, 160)
    # The tone is samples 800-2080: its first block starts at 816 (8 hops), in packet 5
    # (800-960, arrived at 50.103 s); its last at 1892 (after the gap, 1280 + 6 hops), so
    # 1892 + 205 - 816 = 1281 samples.
    assert stream_digits(stream) == (DtmfDigit("9", 50.103, 160.125),)


def _packets(audio: NDArray[np.float64]) -> list[tuple[bytes, int]]:
    coded = g711(audio, alaw_table())
    return [(coded[i : i + 160].tobytes(), 1000 + i) for i in range(0, len(coded) - 159, 160)]


def test_responder_listener_places_packets_by_timestamp() -> None:
    assert listens_to("PCMA/8000", srtp=False) and listens_to("PCMU/8000", srtp=False)
    assert not listens_to("G722/8000", srtp=False) and not listens_to("PCMU/8000", srtp=True)
    packets = _packets(tones("159#", lead_s=0.0))
    listener = InbandListener("PCMA/8000")
    for index, (payload, timestamp) in enumerate(packets):
        if index == 10:  # lost inside '5': a gap, the digit stays one
            continue
        listener.add(payload, timestamp, now=index * 0.02)
        if index == 20:
            listener.add(*packets[3], now=index * 0.02)  # late and repeated: left out
    assert listener.digits() == "159#"
    assert BATCH_BYTES == 4000  # half a second of audio is the most a call holds back


def test_responder_listener_across_a_timestamp_wrap() -> None:
    packets = _packets(tones("0", lead_s=0.0))
    listener = InbandListener("PCMA")
    for index, (payload, timestamp) in enumerate(packets):
        listener.add(payload, (timestamp + 0xFFFFFFFF - 1500) & 0xFFFFFFFF, now=index * 0.02)
    assert listener.digits() == "0"


def test_responder_listener_searches_at_most_twice_real_time() -> None:
    packets = _packets(tones("0" * 10, lead_s=0.0))  # 2.5 s of audio
    listener = InbandListener("PCMA")
    for payload, timestamp in packets:  # all at once: a flood
        listener.add(payload, timestamp, now=7.0)
    # Half a second's allowance (25 packets, 4000 samples) is searched: the first two 0s
    # (each 160 ms tone and 90 ms pause); the third begins where the allowance ends.
    assert listener.digits() == "00"
    listener = InbandListener("PCMA")
    for index, (payload, timestamp) in enumerate(packets):  # at twice real time: all searched
        listener.add(payload, timestamp, now=index * 0.01)
    assert listener.digits() == "0" * 10
