"""RFC 4733 events and the in-band Goertzel detector, on exactly generated input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sipprobe.analysis.dtmf import EventPacket, digits_text, inband_digits, rfc4733_digits
from sipprobe.model.dtmf import CallDtmf, DtmfDigit
from sipprobe.sip.telephone_event import TelephoneEvent, far_end_digits, info_digit

RATE = 8000
TONES = {"1": (697, 1209), "5": (770, 1336), "9": (852, 1477), "#": (941, 1477), "D": (941, 1633)}


def _event_packets(
    code: int, timestamp: int, start_s: float, duration: int = 1280
) -> list[EventPacket]:
    """An event as pjmedia sends it: every 20 ms a packet, then the end packet three times."""
    packets = [
        EventPacket(start_s + 0.02 * i, timestamp, bytes(TelephoneEvent(code, False, 10, d)))
        for i, d in enumerate(range(160, duration, 160))
    ]
    end = bytes(TelephoneEvent(code, True, 10, duration))
    last = start_s + 0.02 * len(packets)
    return packets + [EventPacket(last + 0.001 * i, timestamp, end) for i in range(3)]


def test_telephone_event_parse_fields_and_round_trip() -> None:
    data = bytes([11, 0x8A, 0x05, 0x00])
    event = TelephoneEvent.parse(data)
    assert event == TelephoneEvent(event=11, end=True, volume=10, duration=1280)
    assert bytes(event) == data


@pytest.mark.parametrize("length", [0, 1, 2, 3])
def test_telephone_event_parse_truncated(length: int) -> None:
    with pytest.raises(ValueError, match=f"telephone-event payload has {length} bytes, needs 4"):
        TelephoneEvent.parse(bytes(4)[:length])


def test_rfc4733_digits_groups_by_timestamp_and_counts_retransmitted_end_once() -> None:
    packets = [
        *_event_packets(1, 1000, 10.0),
        *_event_packets(5, 3000, 10.5),
        *_event_packets(9, 5000, 11.0, duration=800),
        *_event_packets(11, 7000, 11.5),
    ]
    digits = rfc4733_digits(packets)
    assert digits_text(digits) == "159#"
    assert digits[0] == DtmfDigit("1", 10.0, 160.0, True)
    assert [d.duration_ms for d in digits] == [160.0, 160.0, 100.0, 160.0]
    assert [d.start_s for d in digits] == [10.0, 10.5, 11.0, 11.5]


def test_rfc4733_digits_same_digit_twice_and_reordered_arrival() -> None:
    first = _event_packets(1, 1000, 1.0)
    second = _event_packets(1, 2600, 1.3)
    digits = rfc4733_digits([*second, *reversed(first)])
    assert digits_text(digits) == "11"
    assert [d.start_s for d in digits] == [1.0, 1.3]


def test_rfc4733_digits_without_end_is_marked_cut_off() -> None:
    packets = _event_packets(3, 0, 0.0)[:4]
    assert rfc4733_digits(packets) == (DtmfDigit("3", 0.0, 80.0, False),)


def test_rfc4733_digits_skips_non_dtmf_events_and_malformed_payloads() -> None:
    packets = [
        EventPacket(0.0, 10, bytes(TelephoneEvent(16, True, 0, 800))),  # flash
        EventPacket(0.1, 20, b"\x01\x80"),
        *_event_packets(12, 30, 0.2),
    ]
    assert digits_text(rfc4733_digits(packets)) == "A"


def _tones(sequence: str, tone_s: float = 0.1, gap_s: float = 0.1, amplitude: float = 6000.0):
    parts = []
    for symbol in sequence:
        low, high = TONES[symbol]
        t = np.arange(int(tone_s * RATE)) / RATE
        parts.append(amplitude * (np.sin(2 * math.pi * low * t) + np.sin(2 * math.pi * high * t)))
        parts.append(np.zeros(int(gap_s * RATE)))
    return np.concatenate([np.zeros(int(gap_s * RATE)), *parts])


def test_inband_digits_finds_each_digit_with_its_length() -> None:
    digits = inband_digits(_tones("159#"), start_s=5.0)
    assert digits_text(digits) == "159#"
    # blocks of 205 samples every 102: 100 ms of tone is 7 blocks, 102.125 ms, each starting
    # within a hop (12.75 ms) of the tone
    assert [d.duration_ms for d in digits] == [102.125] * 4
    for number, digit in enumerate(digits):
        assert abs(digit.start_s - (5.1 + 0.2 * number)) <= 0.01275


def test_inband_digits_finds_q24_minimum_40_ms_tones() -> None:
    digits = inband_digits(_tones("159#", tone_s=0.04, gap_s=0.04), start_s=0.0)
    assert digits_text(digits) == "159#"
    assert [d.duration_ms for d in digits] == [38.375, 51.125, 38.375, 38.375]


def test_inband_digits_tolerates_twist_and_noise() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(int(0.2 * RATE)) / RATE
    low, high = TONES["D"]
    signal = 3000 * np.sin(2 * math.pi * low * t) + 6000 * np.sin(2 * math.pi * high * t)
    noisy = signal + rng.normal(0.0, 300.0, signal.shape)
    assert digits_text(inband_digits(noisy, 0.0)) == "D"


def test_inband_digits_rejects_single_tones_speechlike_noise_and_short_bursts() -> None:
    t = np.arange(RATE) / RATE
    rng = np.random.default_rng(3)
    assert inband_digits(8000 * np.sin(2 * math.pi * 697 * t), 0.0) == ()
    assert inband_digits(8000 * np.sin(2 * math.pi * 440 * t), 0.0) == ()
    assert inband_digits(rng.normal(0.0, 3000.0, RATE), 0.0) == ()
    assert inband_digits(np.zeros(RATE), 0.0) == ()
    assert inband_digits(_tones("5", tone_s=0.015), 0.0) == ()  # too short for two blocks


def test_call_dtmf_matched_needs_equal_digits_and_no_send_error() -> None:
    base = CallDtmf("159#", "rfc4733", 160, 1.0, None, "159#", "rfc4733", (), ())
    assert base.matched
    assert not CallDtmf("159#", "rfc4733", 160, 1.0, None, "15#", "rfc4733", (), ()).matched
    refused = CallDtmf("1", "rfc4733", 160, None, "no telephone-event", "", None, (), ())
    assert refused.matched is False
    unmeasured = CallDtmf("1", "rfc4733", 160, 1.0, None, None, None, (), ())
    assert unmeasured.matched is None


@pytest.mark.parametrize(
    ("content_type", "body", "digit"),
    [
        ("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", "5"),
        ("Application/DTMF-Relay; charset=x", "signal= #\r\n", "#"),
        ("application/dtmf-relay", "Signal=a\r\n", "A"),
        ("application/dtmf", "11", "#"),
        ("application/dtmf", "*", "*"),
        ("application/dtmf-relay", "Duration=160\r\n", None),
        ("application/dtmf-relay", "Signal=X\r\n", None),
        ("application/dtmf", "99", None),
        ("text/plain", "Signal=5", None),
    ],
)
def test_info_digit(content_type: str, body: str, digit: str | None) -> None:
    assert info_digit(content_type, body) == digit


def test_far_end_digits_reads_the_responders_header() -> None:
    assert far_end_digits("rfc4733=159#, sip-info=42") == {"rfc4733": "159#", "sip-info": "42"}
    assert far_end_digits("none") == {}
    assert far_end_digits("rfc4733=1x2, =5, sip-info=") == {}
