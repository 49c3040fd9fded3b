"""Echo round trip from decoded G.711, on synthetic calls whose delay is known."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from speech_samples import speech_codes

from sipprobe.analysis.echo import (
    WINDOW_FRAMES,
    EchoPacket,
    decode_g711_stream,
    measure_echo,
)
from sipprobe.dsp.g711 import alaw_table as _alaw_table
from sipprobe.dsp.g711 import ulaw_table as _ulaw_table

FRAME = 160


def call(
    lag: int, delay_s: float, packets: int = 200, seed: int = 1
) -> tuple[list[EchoPacket], list[EchoPacket]]:
    """Sent packets of random G.711 codes, and an echo running ``lag`` samples behind."""
    codes = np.random.default_rng(seed).integers(0, 256, FRAME * packets, dtype=np.uint8)
    sent = [
        EchoPacket(10.0 + 0.02 * i, 1000 + i, 0, codes[i * FRAME : (i + 1) * FRAME].tobytes())
        for i in range(packets)
    ]
    echoed = np.concatenate([np.full(lag, 0xFF, dtype=np.uint8), codes])
    received = [
        EchoPacket(
            10.0 + 0.02 * j + delay_s + lag / 8000,
            7 + j,
            0,
            echoed[j * FRAME : (j + 1) * FRAME].tobytes(),
        )
        for j in range(packets)
    ]
    return sent, received


def test_measure_echo_reflector_gives_network_rtt() -> None:
    sent, received = call(lag=0, delay_s=0.035)
    result = measure_echo(sent, received)
    assert result is not None
    assert result.lag_ms == 0.0
    assert result.correlation == pytest.approx(1.0)
    assert result.packets == 200
    assert result.rtt_ms_min == pytest.approx(35.0, abs=1e-6)
    assert result.rtt_ms_max == pytest.approx(35.0, abs=1e-6)


def test_measure_echo_reframing_far_end_counts_position() -> None:
    sent, received = call(lag=80, delay_s=0.010)  # half a frame behind
    result = measure_echo(sent, received)
    assert result is not None
    assert result.lag_ms == 10.0
    # received packet i leaves 10 ms + 10 ms (waiting for half a frame) after sent packet i,
    # and the sent packet's first sample sits half a frame (10 ms) into it
    assert result.rtt_ms_median == pytest.approx(30.0, abs=1e-6)


def test_measure_echo_rejects_unrelated_audio() -> None:
    sent, _ = call(lag=0, delay_s=0.0, seed=1)
    _, other = call(lag=0, delay_s=0.0, seed=2)
    assert measure_echo(sent, other) is None
    assert measure_echo(sent[:10], sent[:10]) is None


def test_g711_tables_match_reference_values() -> None:
    ulaw, alaw = _ulaw_table(), _alaw_table()
    # ITU-T G.711 reference points: silence, extremes and sign symmetry
    assert (ulaw[0xFF], ulaw[0x7F], ulaw[0x00], ulaw[0x80]) == (0, 0, -32124, 32124)
    assert (alaw[0xD5], alaw[0x55], alaw[0xAA], alaw[0x2A]) == (8, -8, 32256, -32256)
    assert np.all(ulaw[:128] == -ulaw[128:])


def test_measure_echo_follows_a_jitter_buffer_that_grows_mid_call() -> None:
    """Half-way through, the far end's buffer grows by one frame: each window finds its lag."""
    codes = np.random.default_rng(3).integers(0, 256, FRAME * 200, dtype=np.uint8)
    sent = [
        EchoPacket(10.0 + 0.02 * i, i, 0, codes[i * FRAME : (i + 1) * FRAME].tobytes())
        for i in range(200)
    ]
    silence = np.full(FRAME, 0xFF, dtype=np.uint8)
    echoed = np.concatenate(
        [silence[:80], codes[: 100 * FRAME], silence, codes[100 * FRAME :], silence]
    )
    received = [
        EchoPacket(10.005 + 0.02 * j, j, 0, echoed[j * FRAME : (j + 1) * FRAME].tobytes())
        for j in range(len(echoed) // FRAME)
    ]
    result = measure_echo(sent, received)
    assert result is not None
    assert result.correlation == pytest.approx(1.0)
    assert result.packets == 200
    # lag 80 samples: 5 ms network + 10 ms into the packet; one frame more after the switch
    assert result.rtt_ms_min == pytest.approx(15.0, abs=1e-6)
    assert result.rtt_ms_max == pytest.approx(35.0, abs=1e-6)
    assert sum(count for bucket, count in result.histogram_ms if bucket < 25) == 100  # before


def speech_call(
    lag: int, delay_s: float, loss: float, seed: int = 5
) -> tuple[list[EchoPacket], list[EchoPacket], NDArray[np.bool_]]:
    """The reference speech sent, an echo ``lag`` samples behind with ``loss`` of its packets
    dropped at random, and which echoed packets arrived. Both streams carry RTP timestamps,
    the echo's wrapping through 2**32 mid-call."""
    codes = speech_codes()
    count = len(codes) // FRAME
    sent = [
        EchoPacket(
            10.0 + 0.02 * i,
            1000 + i,
            0,
            codes[i * FRAME : (i + 1) * FRAME].tobytes(),
            5000 + FRAME * i,
        )
        for i in range(count)
    ]
    echoed = np.concatenate([np.full(lag, 0xFF, dtype=np.uint8), codes])
    total = -(-len(echoed) // FRAME)
    echoed = np.concatenate([echoed, np.full(total * FRAME - len(echoed), 0xFF, dtype=np.uint8)])
    arrived = np.random.default_rng(seed).random(total) >= loss
    received = [
        EchoPacket(
            10.0 + 0.02 * j + delay_s + lag / 8000,
            (65000 + j) % 0x10000,
            0,
            echoed[j * FRAME : (j + 1) * FRAME].tobytes(),
            (0xFFFFF000 + FRAME * j) % 0x100000000,
        )
        for j in range(total)
        if arrived[j]
    ]
    return sent, received, arrived


def uncut_packets(lag: int, packets: int, arrived: NDArray[np.bool_]) -> int:
    """Sent packets in whole windows whose echo (at ``lag``) no lost packet cuts into."""
    width = WINDOW_FRAMES * FRAME
    matched = 0
    for start in range(0, packets * FRAME - width + 1, width):
        carriers = range((start + lag) // FRAME, (start + lag + width - 1) // FRAME + 1)
        matched += WINDOW_FRAMES if all(arrived[j] for j in carriers) else 0
    return matched


@pytest.mark.parametrize(("lag", "delay_s", "rtt_ms"), [(0, 0.035, 35.0), (80, 0.010, 30.0)])
def test_measure_echo_of_speech_with_5_percent_loss(
    lag: int, delay_s: float, rtt_ms: float
) -> None:
    """5 % of the echo lost: the windows it cuts into are skipped, the rest give the round
    trip exactly, and the matched packets are those of the uncut windows."""
    sent, received, arrived = speech_call(lag, delay_s, loss=0.05)
    assert 0.03 < 1 - arrived.mean() < 0.08  # about 5 % lost, as asked
    result = measure_echo(sent, received)
    assert result is not None
    assert result.lag_ms == lag / 8
    assert result.correlation == pytest.approx(1.0)
    expected = uncut_packets(lag, len(sent), arrived)
    assert 0 < expected < len(sent) - 100  # loss did cut windows, and some were whole
    assert result.packets == expected
    assert result.windows_cut == len(sent) // WINDOW_FRAMES - expected // WINDOW_FRAMES
    assert result.rtt_ms_min == pytest.approx(rtt_ms, abs=1e-6)
    assert result.rtt_ms_max == pytest.approx(rtt_ms, abs=1e-6)
    clean = measure_echo(*speech_call(lag, delay_s, loss=0.0)[:2])
    assert clean is not None
    assert clean.packets == len(sent) // WINDOW_FRAMES * WINDOW_FRAMES
    assert clean.windows_cut == 0
    assert (clean.rtt_ms_min, clean.rtt_ms_max) == (result.rtt_ms_min, result.rtt_ms_max)


def test_measure_echo_with_every_window_cut_is_none() -> None:
    sent, received, _ = speech_call(0, 0.035, loss=0.0)
    result = measure_echo(sent, [p for i, p in enumerate(received) if i % 20 != 10])
    assert result is None  # one packet in 20 lost: every window of 25 is cut


def test_decode_g711_stream_places_packets_at_their_timestamps() -> None:
    """A far end that stops sending in a pause (silence suppression) keeps its sequence
    numbers running and jumps its timestamp: the pause is silence, as long as it was."""
    sound = bytes([0x80]) * FRAME
    stream = [
        EchoPacket(0.00, 1, 0, sound, 0xFFFFFF00),
        EchoPacket(0.02, 2, 0, sound, 0xFFFFFF00 + FRAME),  # wraps through 2**32
        EchoPacket(0.04, 4, 0, sound, 0xFFFFFF00 + 10 * FRAME),  # seq 3 lost in a pause
    ]
    decoded = decode_g711_stream(stream)
    assert len(decoded.samples) == 11 * FRAME
    assert decoded.starts.tolist() == [0, FRAME, 10 * FRAME]
    assert decoded.heard.sum() == 3 * FRAME
    assert not decoded.samples[2 * FRAME : 10 * FRAME].any()
    # timestamps that do not advance with the sequence numbers are not trusted
    shuffled = [EchoPacket(p.arrival_s, p.seq, 0, sound, 7 - p.seq) for p in stream]
    assert decode_g711_stream(shuffled).starts.tolist() == [0, FRAME, 3 * FRAME]
    # without timestamps, the sequence numbers place the packets
    untimed = [EchoPacket(p.arrival_s, p.seq, 0, sound) for p in stream]
    assert decode_g711_stream(untimed).starts.tolist() == [0, FRAME, 3 * FRAME]
