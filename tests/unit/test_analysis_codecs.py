"""Codec table: RFC 3551 static payload types, SDP names and G.113 planning values."""

from __future__ import annotations

import pytest

from sipprobe.analysis.codecs import PlanningValues, no_planning_value_reason, planning_values
from sipprobe.sip.codecs import CodecInfo, codec_by_name, codec_for_payload_type


@pytest.mark.parametrize(
    ("pt", "name", "clock_rate"),
    [
        (0, "PCMU", 8000),
        (3, "GSM", 8000),
        (4, "G723", 8000),
        (6, "DVI4", 16000),
        (8, "PCMA", 8000),
        (9, "G722", 8000),
        (10, "L16", 44100),
        (13, "CN", 8000),
        (18, "G729", 8000),
        (26, "JPEG", 90000),
        (34, "H263", 90000),
    ],
)
def test_codec_for_payload_type_follows_rfc3551(pt: int, name: str, clock_rate: int) -> None:
    codec = codec_for_payload_type(pt)
    assert codec is not None
    assert (codec.name, codec.clock_rate) == (name, clock_rate)


@pytest.mark.parametrize("pt", [1, 2, 19, 20, 24, 35, 96, 101, 127])
def test_codec_for_payload_type_unassigned_or_dynamic(pt: int) -> None:
    assert codec_for_payload_type(pt) is None


def test_codec_by_name_is_case_insensitive_and_keeps_the_sdp_clock() -> None:
    assert codec_by_name("pcma", 8000) == CodecInfo("PCMA", 8000, 0.0, 25.1, 20.0, 64000)
    assert codec_by_name("OPUS", 48000).name == "opus"
    assert codec_by_name("speex", 16000).clock_rate == 16000


def test_codec_by_name_unknown_keeps_spelling_and_has_no_planning_values() -> None:
    assert codec_by_name("X-Fancy", 24000) == CodecInfo("X-Fancy", 24000, None, None, None)


@pytest.mark.parametrize(
    ("name", "plc", "values"),
    [
        ("PCMU", True, PlanningValues(0.0, 25.1)),
        ("PCMA", False, PlanningValues(0.0, 4.3)),
        ("G729", True, PlanningValues(11.0, 19.0)),
        ("G729", False, PlanningValues(11.0, 19.0)),
        ("G723", True, PlanningValues(15.0, 16.1)),
        ("GSM-EFR", True, PlanningValues(5.0, 10.0)),
    ],
)
def test_planning_values_from_measurement_table(
    name: str, plc: bool, values: PlanningValues
) -> None:
    assert planning_values(codec_by_name(name, 8000), plc=plc) == values


@pytest.mark.parametrize("name", ["GSM", "G722", "iLBC", "speex", "opus", "AMR", "X-Fancy"])
def test_planning_values_absent_rather_than_borrowed(name: str) -> None:
    codec = codec_by_name(name, 8000)
    assert planning_values(codec, plc=True) is None
    assert name in no_planning_value_reason(codec) or "G.722" in no_planning_value_reason(codec)


def test_no_planning_value_reason_for_g722_names_g107_1() -> None:
    assert "G.107.1" in no_planning_value_reason(codec_by_name("G722", 8000))


def test_codec_info_rejects_a_zero_clock_rate() -> None:
    with pytest.raises(ValueError, match="clock rate"):
        codec_by_name("PCMU", 0)
