"""Listening quality (P.862 MOS-LQO) of echoed speech, on the shipped reference speech."""

from __future__ import annotations

import json
import wave
from dataclasses import replace
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from numpy.typing import NDArray
from report_samples import captured_report

from sipprobe.analysis.echo import EchoPacket, g711_samples
from sipprobe.analysis.listening import (
    active_speech_s,
    align,
    decode_stream,
    listen_to_echo,
    score_listening,
)
from sipprobe.model.media import CallListening
from sipprobe.model.results import RunReport
from sipprobe.report.json_read import read_report
from sipprobe.report.json_report import report_to_json
from sipprobe.report.text import render_run_text

MEDIA = Path(__file__).resolve().parents[2] / "sipprobe" / "media"
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "sipprobe/schema/report.schema.json").read_text()
)
FRAME = 160
MODEL = "ITU-T P.862 narrowband, P.862.1 mapping (pesq 0.0.4)"


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


def packets(codes: NDArray[np.uint8], first_seq: int = 1000) -> list[EchoPacket]:
    return [
        EchoPacket(
            0.02 * i, (first_seq + i) % 0x10000, 0, codes[i * FRAME : (i + 1) * FRAME].tobytes()
        )
        for i in range(len(codes) // FRAME)
    ]


def sent_speech() -> list[EchoPacket]:
    samples = speech()
    return packets(ulaw(samples[: len(samples) // FRAME * FRAME]))


def test_manifest_describes_speech_reference() -> None:
    import hashlib

    manifest = json.loads((MEDIA / "manifest.json").read_text())["speech-8k.wav"]
    data = (MEDIA / "speech-8k.wav").read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["rate_hz"] == 8000
    assert "espeak-ng" in manifest["source"]


def test_score_listening_reference_against_itself_scores_top() -> None:
    reference = decode_stream(sent_speech())
    score = score_listening(reference, reference)
    assert score is not None
    assert score.mos_lqo > 4.4  # P.862.1's ceiling is about 4.55
    assert score.aligned_delay_ms == 0.0
    assert score.model.startswith("ITU-T P.862 narrowband, P.862.1 mapping (pesq ")
    assert 6.0 < score.active_speech_s < len(reference) / 8000


def test_score_listening_degraded_copies_score_lower_in_order() -> None:
    reference = decode_stream(sent_speech())
    rng = np.random.default_rng(7)
    clean = score_listening(reference, reference)
    noisy = score_listening(reference, reference + rng.normal(0, 300, len(reference)))
    frames = reference.reshape(-1, FRAME).copy()
    frames[rng.random(len(frames)) < 0.05] = 0.0  # 5 % of the packets lost, no concealment
    lossy = score_listening(reference, frames.reshape(-1))
    assert clean is not None and noisy is not None and lossy is not None
    assert lossy.mos_lqo < clean.mos_lqo - 0.5
    assert noisy.mos_lqo < clean.mos_lqo - 1.0


@pytest.mark.parametrize("delay", [0, 1, 137, 1234, 8000])
def test_align_finds_a_known_delay_exactly(delay: int) -> None:
    reference = decode_stream(sent_speech())
    received = np.concatenate((np.zeros(delay), reference))
    assert align(reference, received) == delay
    score = score_listening(reference, received)
    assert score is not None
    assert score.aligned_delay_ms == delay * 1000 / 8000
    assert score.mos_lqo > 4.4


def test_align_received_audio_starting_late_is_a_negative_lag() -> None:
    reference = decode_stream(sent_speech())
    assert align(reference, reference[1600:]) == -1600


def test_decode_stream_fills_lost_packets_with_silence_across_a_wrap() -> None:
    codes = ulaw(np.full(FRAME * 6, 1000.0))
    sent = packets(codes, first_seq=0xFFFE)  # 65534, 65535, 0, 1, 2, 3
    arrived = [sent[0], sent[2], sent[1], sent[1], sent[5]]  # reordered, a duplicate, 2 lost
    samples = decode_stream(arrived)
    assert len(samples) == 6 * FRAME
    assert samples[: 3 * FRAME].min() > 900
    assert not samples[3 * FRAME : 5 * FRAME].any()
    assert samples[5 * FRAME :].min() > 900


def test_decode_stream_leaves_out_a_sequence_jump_and_other_payloads() -> None:
    codes = ulaw(np.full(FRAME * 3, 1000.0))
    sent = packets(codes)
    jump = EchoPacket(1.0, 1000 + 5000, 0, sent[0].payload)
    event = EchoPacket(1.0, 1001, 101, b"\x01\x00\x00\xa0")
    samples = decode_stream([sent[0], event, jump, sent[2]])
    assert len(samples) == 3 * FRAME
    assert not samples[FRAME : 2 * FRAME].any()


def test_listen_to_echo_scores_a_lossy_echo_lower() -> None:
    sent = sent_speech()
    rng = np.random.default_rng(3)
    echoed = [EchoPacket(p.arrival_s + 0.05, p.seq + 40, p.payload_type, p.payload) for p in sent]
    clean = listen_to_echo(sent, echoed)
    lossy = listen_to_echo(sent, [p for p in echoed if rng.random() > 0.05])
    assert clean is not None and lossy is not None
    assert clean.mos_lqo > 4.4
    assert lossy.mos_lqo < clean.mos_lqo - 0.5


def test_listen_to_echo_unrelated_audio_is_not_scored() -> None:
    sent = sent_speech()
    tone = 8000 * np.sin(2 * np.pi * 440 * np.arange(len(sent) * FRAME) / 8000)
    assert listen_to_echo(sent, packets(ulaw(tone))) is None
    assert listen_to_echo(sent[:100], sent[:100]) is None  # 2 s: too short to score


def test_active_speech_counts_frames_near_the_peak_level() -> None:
    loud = np.concatenate((np.zeros(8000), 10000 * np.ones(4000), np.zeros(4000)))
    assert active_speech_s(loud) == 0.5
    assert active_speech_s(np.zeros(8000)) == 0.0


def _with_listening() -> tuple[RunReport, CallListening]:
    report = captured_report()
    listening = CallListening(
        3.912, "ITU-T P.862 narrowband, P.862.1 mapping (pesq 0.0.4)", 40.0, 8.5
    )
    call = replace(report.steps[2].call, listening=listening)
    steps = (*report.steps[:2], replace(report.steps[2], call=call), *report.steps[3:])
    return replace(report, steps=steps), listening


def test_listening_json_matches_schema_and_reads_back() -> None:
    report, listening = _with_listening()
    document = report_to_json(report)
    jsonschema.validate(document, SCHEMA)
    (written,) = document["calls"]
    assert written["listening"] == {
        "mos_lqo": 3.912,
        "model": MODEL,
        "aligned_delay_ms": 40.0,
        "active_speech_s": 8.5,
    }
    again = read_report(json.loads(json.dumps(document)))
    call = again.steps[2].call
    assert call is not None and call.listening == listening
    assert report_to_json(again) == document


def test_listening_text_line_sits_beside_mos_lq() -> None:
    report, _ = _with_listening()
    text = render_run_text(report)
    assert (
        "listening: MOS-LQO 3.91 (measured, ITU-T P.862 narrowband, P.862.1 mapping "
        "(pesq 0.0.4)) beside MOS-LQ 4.10 (E-model); 8.5 s of speech, aligned at 40 ms"
    ) in text
