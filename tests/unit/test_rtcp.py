"""RTCP SR/RR/XR parsing and round-trip time from LSR/DLSR."""

import contextlib
import struct
from decimal import Decimal
from pathlib import Path

import pytest
from data import sipbuild
from data.rtpcapture import T0, Path4, stream, write_parts
from hypothesis import given
from hypothesis import strategies as st

from sipprobe.analysis.analyze import analyze_file
from sipprobe.analysis.pcap import read_capture
from sipprobe.analysis.rtcp import NTP_UNIX_OFFSET_S, parse_rtcp, rtcp_reports

A_TO_B = Path4(src="10.0.0.1", dst="10.0.0.2", sport=40000, dport=50000)
B_TO_A = Path4(src="10.0.0.2", dst="10.0.0.1", sport=50000, dport=40000)
A_RTCP = Path4(src="10.0.0.1", dst="10.0.0.2", sport=40001, dport=50001)
B_RTCP = Path4(src="10.0.0.2", dst="10.0.0.1", sport=50001, dport=40001)


def test_parse_rtcp_sender_report_every_field() -> None:
    blocks = (
        sipbuild.report_block(
            0xAAAA, fraction=64, lost=-3, highest=70000, jitter=80, lsr=5, dlsr=65536
        ),
        sipbuild.report_block(0xBBBB, fraction=255, lost=0x7FFFFF, lsr=0),
    )
    data = sipbuild.rtcp_sr(0x1234, 0xE1000000, 0x80000000, blocks, packets=500, octets=80000)
    (report,) = parse_rtcp(data, arrival_s=3.5, src="a:1", dst="b:2")
    assert (report.kind, report.reporter_ssrc, report.arrival_s, report.src, report.dst) == (
        "SR",
        0x1234,
        3.5,
        "a:1",
        "b:2",
    )
    assert report.ntp_middle == 0x00008000
    assert (report.sender_packets, report.sender_octets) == (500, 80000)
    first, second = report.blocks
    assert (first.source_ssrc, first.fraction_lost, first.cumulative_lost) == (0xAAAA, 0.25, -3)
    assert (first.highest_seq, first.jitter, first.lsr, first.dlsr_s) == (70000, 80, 5, 1.0)
    assert (second.fraction_lost, second.cumulative_lost) == (255 / 256, 0x7FFFFF)


def test_parse_rtcp_compound_rr_sdes_xr() -> None:
    metrics = struct.pack(
        "!BBBBHHHHbbBBBBBBBBHHH",
        13,
        2,
        30,
        1,
        120,
        5000,
        48,
        70,
        -20,
        -70,
        127,
        16,
        80,
        127,
        41,
        127,
        0,
        0,
        60,
        80,
        200,
    )
    data = (
        sipbuild.rtcp_rr(0x99, (sipbuild.report_block(0x77, fraction=26),))
        + sipbuild.rtcp_sdes(0x99)
        + sipbuild.rtcp_xr_voip(0x99, 0x77, metrics)
    )
    rr, xr = parse_rtcp(data, arrival_s=0.0)
    assert (rr.kind, rr.blocks[0].source_ssrc, rr.blocks[0].fraction_lost) == ("RR", 0x77, 26 / 256)
    (voip,) = xr.voip_metrics
    assert xr.kind == "XR"
    assert (voip.source_ssrc, voip.loss_rate, voip.discard_rate) == (0x77, 13 / 256, 2 / 256)
    assert (voip.burst_duration_ms, voip.gap_duration_ms) == (120, 5000)
    assert (voip.round_trip_delay_ms, voip.end_system_delay_ms) == (48, 70)
    assert (voip.signal_level_dbm, voip.noise_level_dbm, voip.rerl_db) == (-20, -70, None)
    assert (voip.gmin, voip.r_factor, voip.ext_r_factor) == (16, 80, None)
    assert (voip.mos_lq, voip.mos_cq) == (4.1, None)
    assert (voip.jb_nominal_ms, voip.jb_maximum_ms, voip.jb_abs_max_ms) == (60, 80, 200)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\xc9\x00", "shorter than its 8-byte header"),
        (b"\x40\xc9\x00\x01\x00\x00\x00\x01", "has version 1, not 2"),
        (b"\x80\xc9\x00\x05\x00\x00\x00\x01", "type 201 claims 24 bytes, 8 remain"),
        (b"\x82\xc9\x00\x07" + bytes(28), "RR is too short for its 2 report blocks"),
        (b"\x81\xc8\x00\x06" + bytes(24), "SR is too short for its 1 report blocks"),
        (b"\x80\xcf\x00\x03" + bytes(4) + b"\x07\x00\x00\x08" + bytes(4), "runs past its packet"),
        (b"\x80\xcf\x00\x03" + bytes(4) + b"\x07\x00\x00\x01" + bytes(4), "has length 1, not 8"),
    ],
)
def test_parse_rtcp_malformed_is_one_exact_sentence(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rtcp(data, arrival_s=0.0)


def test_parse_rtcp_every_truncated_prefix() -> None:
    data = sipbuild.rtcp_sr(1, 2, 3, (sipbuild.report_block(4),)) + sipbuild.rtcp_xr_voip(1, 4)
    assert len(parse_rtcp(data, arrival_s=0.0)) == 2
    for cut in range(1, len(data)):
        try:
            parse_rtcp(data[:cut], arrival_s=0.0)
        except ValueError:
            continue
        assert cut in (52, 56)  # where a whole packet (SR) ends: a shorter compound is valid


@given(st.binary(max_size=200))
def test_parse_rtcp_garbage_raises_only_value_error(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_rtcp(b"\x80\xc9" + data, arrival_s=0.0)


def _ntp(unix_s: Decimal) -> tuple[int, int]:
    whole = int(unix_s) + NTP_UNIX_OFFSET_S
    return whole, int((unix_s - int(unix_s)) * 2**32)


def _rtt_capture(tmp_path: Path, clock_offset_s: Decimal) -> Path:
    """A sends an SR at T0+10 (its clock off by ``clock_offset_s``); B answers 150 ms later."""
    sent = T0 + 10
    ntp_s, ntp_frac = _ntp(sent + clock_offset_s)
    lsr = ((ntp_s & 0xFFFF) << 16) | (ntp_frac >> 16)
    block = sipbuild.report_block(0x11223344, fraction=0, lost=2, jitter=40, lsr=lsr, dlsr=6554)
    sr = sipbuild.rtcp_sr(0x11223344, ntp_s, ntp_frac) + sipbuild.rtcp_sdes(0x11223344)
    rr = sipbuild.rtcp_rr(0x55667788, (block,))
    return write_parts(
        tmp_path / "rtt.pcap",
        [
            (A_TO_B, stream(600, ssrc=0x11223344)),
            (B_TO_A, stream(600, ssrc=0x55667788)),
            (A_RTCP, [(sent, sr)]),
            (B_RTCP, [(sent + Decimal("0.150"), rr)]),
        ],
    )


@pytest.mark.parametrize(
    ("offset", "rtt_ms"),
    [(Decimal(0), 50.0), (Decimal(3), None), (Decimal(-2), 2050.0)],
)
def test_rtcp_reports_rtt_from_lsr_dlsr(
    tmp_path: Path, offset: Decimal, rtt_ms: float | None
) -> None:
    reports, skipped = rtcp_reports(read_capture(_rtt_capture(tmp_path, offset)).packets)
    assert skipped == {}
    assert [r.kind for r in reports] == ["SR", "RR"]
    (block,) = reports[1].blocks
    assert block.capture_rtt_ms == pytest.approx(50.0, abs=0.02)  # no clock but the capture's
    if rtt_ms is None:
        assert block.rtt_ms is None  # negative: the SR sender's clock runs ahead
    else:
        assert block.rtt_ms == pytest.approx(rtt_ms, abs=0.05)


def test_analyze_uses_rtcp_for_mos_cq_and_far_end(tmp_path: Path) -> None:
    result = analyze_file(_rtt_capture(tmp_path, Decimal(0)))
    forward = next(s for s in result.streams if s.stream.ssrc == 0x11223344)
    assert forward.delay_source == "rtcp"
    assert forward.rtt_ms == pytest.approx(50.0, abs=0.02)
    assert forward.one_way_delay_ms == pytest.approx(25.0, abs=0.01)
    assert forward.metrics.mos_cq is not None
    assert forward.far_end is not None
    assert (forward.far_end.cumulative_lost, forward.far_end.jitter_ms) == (2, 5.0)
    assert "malformed-rtcp" not in result.skipped


def test_rtcp_reports_counts_malformed(tmp_path: Path) -> None:
    items = [(T0, b"\x80\xc8\x00\x09" + bytes(8)), (T0 + 1, sipbuild.rtcp_rr(1))]
    reports, skipped = rtcp_reports(
        read_capture(write_parts(tmp_path / "m.pcap", [(A_RTCP, items)])).packets
    )
    assert [r.kind for r in reports] == ["RR"]
    assert skipped == {"malformed-rtcp": 1}


def test_analyze_far_end_counts_only_reports_from_the_streams_receiver(tmp_path: Path) -> None:
    # An echoing far end (SIPp -rtp_echo) sends A's stream back with A's own SSRC, so A's
    # receiver reports about the echo name the SSRC of A's sent stream too. Only B, the
    # sent stream's destination, reports on it: A's own 9 lost are the echo's, not the far
    # end's view of A's stream.
    ssrc = 0x11223344
    own = sipbuild.rtcp_rr(ssrc, (sipbuild.report_block(ssrc, fraction=26, lost=9),))
    far = sipbuild.rtcp_rr(0x55667788, (sipbuild.report_block(ssrc, fraction=0, lost=2),))
    capture = write_parts(
        tmp_path / "echo.pcap",
        [
            (A_TO_B, stream(600, ssrc=ssrc)),
            (B_TO_A, stream(600, ssrc=ssrc)),
            (A_RTCP, [(T0 + 5, own), (T0 + 10, own)]),
            (B_RTCP, [(T0 + 7, far)]),
        ],
    )
    result = analyze_file(capture)
    by_direction = {s.stream.src.split(":")[0]: s for s in result.streams}
    sent, echoed = by_direction["10.0.0.1"], by_direction["10.0.0.2"]
    assert sent.far_end is not None and echoed.far_end is not None
    assert (sent.far_end.reports, sent.far_end.cumulative_lost) == (1, 2)  # B's report only
    assert (echoed.far_end.reports, echoed.far_end.cumulative_lost) == (2, 9)  # A's reports
    without_b = analyze_file(
        write_parts(
            tmp_path / "no-b.pcap",
            [
                (A_TO_B, stream(600, ssrc=ssrc)),
                (B_TO_A, stream(600, ssrc=ssrc)),
                (A_RTCP, [(T0 + 5, own)]),
            ],
        )
    )
    sent_alone = next(s for s in without_b.streams if s.stream.src.startswith("10.0.0.1:"))
    assert sent_alone.far_end is None  # was A's own report, read as the far end's


def test_analyze_far_end_on_one_host_tells_the_ends_by_port(tmp_path: Path) -> None:
    # Probe and echoing far end on one host (loopback): the sender's own RTCP port is not
    # the receiver's, so its reports about the echo are still not the far end's.
    ssrc = 0x11223344
    a_to_b = Path4(src="127.0.0.1", dst="127.0.0.1", sport=40000, dport=50000)
    b_to_a = Path4(src="127.0.0.1", dst="127.0.0.1", sport=50000, dport=40000)
    a_rtcp = Path4(src="127.0.0.1", dst="127.0.0.1", sport=40001, dport=50001)
    b_rtcp = Path4(src="127.0.0.1", dst="127.0.0.1", sport=50001, dport=40001)
    own = sipbuild.rtcp_rr(ssrc, (sipbuild.report_block(ssrc, fraction=26, lost=9),))
    far = sipbuild.rtcp_rr(0x55667788, (sipbuild.report_block(ssrc, fraction=0, lost=2),))
    parts = [(a_to_b, stream(600, ssrc=ssrc)), (b_to_a, stream(600, ssrc=ssrc))]
    result = analyze_file(
        write_parts(
            tmp_path / "lo.pcap", [*parts, (a_rtcp, [(T0 + 5, own)]), (b_rtcp, [(T0 + 7, far)])]
        )
    )
    by_port = {s.stream.src: s for s in result.streams}
    sent, echoed = by_port["127.0.0.1:40000"], by_port["127.0.0.1:50000"]
    assert sent.far_end is not None and (sent.far_end.reports, sent.far_end.cumulative_lost) == (
        1,
        2,
    )
    assert echoed.far_end is not None and echoed.far_end.cumulative_lost == 9
