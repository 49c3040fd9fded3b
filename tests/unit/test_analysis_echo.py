"""Echo round trip from decoded G.711, on synthetic calls whose delay is known."""

from __future__ import annotations

import numpy as np
import pytest

from sipprobe.analysis.echo import EchoPacket, _alaw_table, _ulaw_table, measure_echo

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
