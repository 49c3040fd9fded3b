"""The responder's RTCP: reception statistics by RFC 3550's appendix, with exact values, and
packets the project's own RTCP reader reads back."""

from __future__ import annotations

import struct

import pytest

from sipprobe.analysis.rtcp import parse_rtcp
from sipprobe.responder import rtcp

SSRC = 0x11223344


def feed(
    stats: rtcp.ReceptionStats, seqs: list[int], late_ms: dict[int, float] | None = None
) -> None:
    late = late_ms or {}
    for seq in seqs:
        arrival = seq / 50 + late.get(seq, 0.0) / 1000
        stats.add(SSRC, seq % 65536, (seq * 160) % (1 << 32), arrival)


def test_responder_rtcp_loss_and_jitter_exact() -> None:
    stats = rtcp.ReceptionStats(8000)
    feed(stats, [0, 1, 2, 4, 5, 6, 8, 9], late_ms={5: 5.0})
    block = stats.report_block(lsr=0x12345678, dlsr=0x10000)
    assert block is not None
    # 10 expected (0..9), 8 arrived; 5 ms late is 40 timestamp units: J = 2.5, 4.84375,
    # 4.541015625, 4.2572021484375 after packets 5, 6, 8, 9
    assert (block.fraction_lost, block.cumulative_lost, block.highest_seq) == (51, 2, 9)
    assert block.jitter == 4
    assert (block.lsr, block.dlsr, block.ssrc) == (0x12345678, 0x10000, SSRC)
    # The next interval has no loss: the fraction starts again, the cumulative count stays.
    feed(stats, list(range(10, 20)))
    block = stats.report_block()
    assert block is not None
    assert (block.fraction_lost, block.cumulative_lost, block.highest_seq) == (0, 2, 19)


def test_responder_rtcp_sequence_wrap_is_extended() -> None:
    stats = rtcp.ReceptionStats(8000)
    feed(stats, [65530 + n for n in range(12)])  # 65530..65541: wraps after 65535
    block = stats.report_block()
    assert block is not None
    assert (block.highest_seq, block.cumulative_lost) == (65536 + 5, 0)


def test_responder_rtcp_duplicates_and_late_packets_counted() -> None:
    stats = rtcp.ReceptionStats(8000)
    feed(stats, [0, 1, 3, 2, 3, 4])  # 2 late, 3 twice
    assert (stats.expected, stats.received, stats.lost) == (5, 6, -1)
    block = stats.report_block()
    assert block is not None and block.cumulative_lost == -1 and block.fraction_lost == 0


def test_responder_rtcp_wild_jump_needs_two_packets_to_restart() -> None:
    stats = rtcp.ReceptionStats(8000)
    feed(stats, [0, 1, 2])
    stats.add(SSRC, 30000, 0, 1.0)  # one stray packet: ignored
    assert stats.received == 3
    stats.add(SSRC, 30001, 160, 1.02)  # the next in line: the sender restarted its numbering
    assert (stats.received, stats.expected) == (1, 1)


def test_responder_rtcp_new_ssrc_restarts() -> None:
    stats = rtcp.ReceptionStats(8000)
    feed(stats, [0, 1, 2])
    stats.add(0x99, 500, 0, 1.0)
    assert (stats.ssrc, stats.received, stats.expected) == (0x99, 1, 1)


def test_responder_rtcp_no_packet_no_block() -> None:
    assert rtcp.ReceptionStats(8000).report_block() is None


def test_responder_rtcp_packets_read_back_by_the_analysis() -> None:
    stats = rtcp.ReceptionStats(8000)
    feed(stats, [0, 1, 2, 4])
    block = stats.report_block(lsr=0xABCD0123, dlsr=rtcp.delay_units(0.5))
    sender = rtcp.SenderInfo(1_700_000_000.25, 123456, 40, 6400)
    compound = (
        rtcp.report(0x55, block, sender)
        + rtcp.sdes_cname(0x55, "sipprobe-responder")
        + rtcp.bye(0x55)
    )
    assert len(compound) % 4 == 0
    (sr,) = parse_rtcp(compound, arrival_s=0.0)
    assert (sr.kind, sr.reporter_ssrc, sr.sender_packets, sr.sender_octets) == (
        "SR",
        0x55,
        40,
        6400,
    )
    assert sr.ntp_middle == rtcp.ntp_middle(1_700_000_000.25)
    (read,) = sr.blocks
    assert (read.source_ssrc, read.cumulative_lost, read.highest_seq) == (SSRC, 1, 4)
    assert read.fraction_lost == pytest.approx(51 / 256)
    assert (read.lsr, read.dlsr_s) == (0xABCD0123, 0.5)
    (rr,) = parse_rtcp(rtcp.report(0x55, block, None), arrival_s=0.0)
    assert rr.kind == "RR" and rr.blocks[0].source_ssrc == SSRC


def test_responder_rtcp_sender_report_middle() -> None:
    packet = rtcp.report(0x77, None, rtcp.SenderInfo(1_700_000_000.5, 0, 0, 0))
    assert rtcp.sender_report_middle(packet) == (0x77, rtcp.ntp_middle(1_700_000_000.5))
    assert rtcp.sender_report_middle(rtcp.report(0x77, None, None)) is None  # an RR
    assert rtcp.sender_report_middle(packet[:20]) is None


def test_responder_rtcp_cumulative_lost_clamped_to_24_bits() -> None:
    block = rtcp.ReportBlock(1, 0, -(1 << 30), 0, 0, 0, 0)
    lost_field = struct.unpack("!I", bytes(block)[4:8])[0] & 0xFFFFFF
    assert lost_field == 0x800000
