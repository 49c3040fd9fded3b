"""The capture reader: every format, link type and address family, field by field."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from data import pcapbuild as pb
from data import sipbuild
from data.rtpcapture import T0, Path4, Rtp, frame, stream, write, write_frames, write_parts
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, fragment6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from sipprobe.analysis import frames
from sipprobe.analysis import packets as packets_module
from sipprobe.analysis.pcap import read_capture
from sipprobe.errors import CaptureError

LINKS = ["ether", "vlan", "qinq", "sll", "sll2", "raw"]
FORMATS = ["pcap", "pcap-ns", "pcapng"]
FAMILIES = [("10.0.0.1", "10.0.0.2"), ("2001:db8::1", "2001:db8::2")]


@pytest.mark.parametrize("link", LINKS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("src", "dst"), FAMILIES)
def test_read_capture_every_link_format_and_family(
    tmp_path: Path, link: str, fmt: str, src: str, dst: str
) -> None:
    sent = stream(40, seq0=65520, ts0=2**32 - 1600)
    sent[3] = Rtp(sent[3].arrival, sent[3].seq, sent[3].ts, pt=8, marker=True)
    path = Path4(src=src, dst=dst, sport=4000, dport=5006, dscp=34, ttl=17, link=link)
    capture = read_capture(write(tmp_path / "c", sent, path, fmt))
    udp = capture.packets
    assert capture.skipped == {}
    assert capture.info.format == ("pcapng" if fmt == "pcapng" else "pcap")
    assert capture.info.records == capture.info.udp_packets == 40
    assert udp.origin_s == int(T0)
    np.testing.assert_allclose(udp.arrival_s, [float(p.arrival - T0) for p in sent], atol=1e-9)
    first = udp.endpoint(int(udp.src_addr[0]), int(udp.src_port[0]))
    assert first == (f"[{src}]:4000" if ":" in src else f"{src}:4000")
    assert {udp.addresses[i] for i in udp.dst_addr} == {dst}
    assert set(udp.dst_port) == {5006}
    assert set(udp.dscp) == {34}
    assert set(udp.ttl) == {17}
    assert list(udp.rtp_seq) == [p.seq for p in sent]
    assert list(udp.rtp_ts) == [p.ts for p in sent]
    assert set(udp.rtp_ssrc) == {0x11223344}
    assert list(udp.rtp_payload_type) == [p.pt for p in sent]
    assert list(np.flatnonzero(udp.rtp_marker)) == [3]
    assert set(udp.rtp_version) == {2}
    assert set(udp.rtp_payload_len) == {160}
    assert set(udp.payload_len) == {172}


@pytest.mark.parametrize("link", ["ether", "sll", "sll2", "raw"])
def test_plain_path_gives_the_general_paths_columns(
    tmp_path: Path, link: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Plain IPv4/UDP frames take a shorter path (one gather, no per-reason accounting, and no
    # CSRC/extension/padding work when no packet has any); it must agree with the general one.
    sip = b"INVITE sip:a@b SIP/2.0\r\n\r\n"
    rtcp = bytes.fromhex("80c80006") + bytes(24)
    odd = [
        Rtp(T0 + 1, 1, 0, size=100, csrc_count=2),
        Rtp(T0 + 2, 2, 0, size=100, extension_words=3, padding=4, marker=True, pt=8),
    ]
    other = [(T0 + 3, sip), (T0 + 4, rtcp), (T0 + 5, b"\x40" * 50), (T0 + 6, b"\x80" + bytes(5))]
    way = Path4(dscp=46, ttl=9, link=link)
    mixed = write_parts(
        tmp_path / "mixed.pcap", [(way, stream(20, seq0=65530)), (way, odd), (way, other)]
    )
    usual = write_parts(tmp_path / "usual.pcap", [(way, stream(20)), (way, other)])
    taken: list[bool] = []
    real = frames._plain_frames

    def spy(*args: Any) -> Any:
        batch = real(*args)
        taken.append(batch is not None)
        return batch

    monkeypatch.setattr(frames, "_plain_frames", spy)
    plain = {path: read_capture(path).packets for path in (mixed, usual)}
    assert taken == [True, True]
    monkeypatch.setattr(frames, "_PLAIN_LINKS", {})  # now every frame takes the general path
    for path, packets in plain.items():
        general = read_capture(path).packets
        for name in packets_module._COLUMNS:
            assert np.array_equal(getattr(packets, name), getattr(general, name)), name
        assert packets.payloads == general.payloads
        assert [data for _, data in packets.payloads] == [sip, rtcp]
        assert packets.addresses == general.addresses


def test_read_capture_nanosecond_resolution_is_kept(tmp_path: Path) -> None:
    step = Decimal("0.020000001")
    sent = [Rtp(T0 + step * k, k, 160 * k) for k in range(5)]
    udp = read_capture(write(tmp_path / "ns.pcap", sent, fmt="pcap-ns")).packets
    np.testing.assert_allclose(np.diff(udp.arrival_s), 0.020000001, rtol=0, atol=1e-12)


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_read_capture_both_byte_orders(tmp_path: Path, endian: str, nano: bool) -> None:
    data = bytes(frame(Rtp(T0, 7, 8).payload(), Path4()))
    fraction = 250_000_000 if nano else 250_000
    body = pb.pcap_header(endian=endian, nano=nano)
    body += pb.pcap_record(100, fraction, data, endian=endian)
    (tmp_path / "c.pcap").write_bytes(body)
    capture = read_capture(tmp_path / "c.pcap")
    assert capture.packets.origin_s == 100
    assert list(capture.packets.arrival_s) == [0.25]
    assert list(capture.packets.rtp_seq) == [7]


def test_read_capture_rtp_csrc_extension_and_padding(tmp_path: Path) -> None:
    sent = [
        Rtp(T0, 1, 0, size=100, csrc_count=2),
        Rtp(T0 + 1, 2, 0, size=100, extension_words=3),
        Rtp(T0 + 2, 3, 0, size=100, padding=4),
        Rtp(T0 + 3, 4, 0, size=100, csrc_count=1, extension_words=1, padding=2),
    ]
    udp = read_capture(write(tmp_path / "x.pcap", sent)).packets
    assert list(udp.rtp_payload_len) == [100, 100, 100, 100]
    assert list(udp.rtp_csrc_count) == [2, 0, 0, 1]
    assert list(udp.rtp_extension) == [False, True, False, True]
    assert list(udp.rtp_padding) == [False, False, True, True]


def test_read_capture_non_rtp_udp_has_no_rtp_layout(tmp_path: Path) -> None:
    payloads = [b"\x80" + b"\x00" * 5, b"\x40" * 50, b"\xbf" + b"\x00" * 20]  # short, v1, overrun
    items = [(T0 + k, p) for k, p in enumerate(payloads)]
    udp = read_capture(write(tmp_path / "u.pcap", items)).packets
    assert list(udp.rtp_payload_len) == [-1, -1, -1]
    assert list(udp.payload_len) == [6, 50, 21]


def test_read_capture_counts_what_it_skips(tmp_path: Path) -> None:
    rtp = Raw(Rtp(T0, 1, 0).payload())
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    frames = [
        eth / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / rtp,
        eth / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1, dport=2),
        eth / ARP(),
        eth / IP(src="10.0.0.1", dst="10.0.0.2", flags="MF") / UDP(sport=1, dport=2) / rtp,
        eth / IP(src="10.0.0.1", dst="10.0.0.2", frag=10) / Raw(b"x" * 40),
        eth / IPv6(src="::1", dst="::2") / IPv6ExtHdrFragment() / UDP(sport=1, dport=2) / rtp,
        eth / IPv6(src="::1", dst="::2") / IPv6ExtHdrHopByHop() / UDP(sport=3, dport=4) / rtp,
    ]
    for k, packet in enumerate(frames):
        packet.time = T0 + k
    write_frames(tmp_path / "s.pcap", frames, 1)
    capture = read_capture(tmp_path / "s.pcap")
    # Two lone IPv4 fragments stay unused; the IPv6 "atomic fragment" (offset 0, no more to
    # come, RFC 6946) is a whole datagram, read after the others.
    assert capture.skipped == {"ip-fragment": 2, "not-ip": 1, "not-udp": 1}
    assert list(capture.packets.src_port) == [1, 3, 1]
    assert capture.packets.addresses == ("10.0.0.1", "10.0.0.2", "::1", "::2")


def test_read_capture_cut_frames_and_zero_length(tmp_path: Path) -> None:
    whole = bytes(frame(Rtp(T0, 1, 0).payload(), Path4()))
    body = pb.pcap_header()
    for cut in (whole, whole[:20], whole[:40], b"", whole[:50]):
        body += pb.pcap_record(1, 0, cut)
    (tmp_path / "cut.pcap").write_bytes(body)
    capture = read_capture(tmp_path / "cut.pcap")
    assert capture.skipped == {"truncated-packet": 2, "zero-length": 1}  # IP, UDP header cut
    assert capture.info.records == 5
    assert list(capture.packets.rtp_payload_len) == [160, -1]  # RTP header cut: not RTP-shaped


def test_read_capture_snaplen_cut_payload_keeps_rtp_header(tmp_path: Path) -> None:
    whole = bytes(frame(Rtp(T0, 9, 0, size=160).payload(), Path4()))
    body = pb.pcap_header() + pb.pcap_record(1, 0, whole[: 42 + 12])
    (tmp_path / "snap.pcap").write_bytes(body)
    udp = read_capture(tmp_path / "snap.pcap").packets
    assert list(udp.rtp_seq) == [9]
    assert list(udp.payload_len) == [172]  # from the UDP header, not from what was captured
    assert list(udp.rtp_payload_len) == [160]


def test_read_capture_file_cut_mid_record_keeps_the_rest(tmp_path: Path) -> None:
    data = write(tmp_path / "w.pcap", stream(10)).read_bytes()
    (tmp_path / "cut.pcap").write_bytes(data[:-30])
    capture = read_capture(tmp_path / "cut.pcap")
    assert capture.info.udp_packets == 9
    assert capture.skipped == {"truncated-record": 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "cut short inside its pcap file header"),
        (b"GIF89a" + bytes(40), "is not a pcap or pcapng capture (it starts with 0x47494638)"),
        (pb.pcap_header() + b"\0" * 8 + b"\xff\xff\xff\x7f" + b"\0" * 40, "claims 2147483647"),
        (pb.shb()[:4] + b"\0" * 24, "no valid byte-order magic"),
    ],
)
def test_read_capture_fatal_problems_are_one_sentence(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "bad").write_bytes(content)
    with pytest.raises(CaptureError, match="bad") as error:
        read_capture(tmp_path / "bad")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_read_capture_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"cannot read .*nothing\.pcap"):
        read_capture(tmp_path / "nothing.pcap")


def test_read_capture_pcapng_interfaces_resolutions_and_odd_blocks(tmp_path: Path) -> None:
    v4 = bytes(frame(Rtp(T0, 1, 0).payload(), Path4(link="raw")))
    eth = bytes(frame(Rtp(T0, 2, 0).payload(), Path4()))
    sll = bytes(frame(Rtp(T0, 3, 0).payload(), Path4(link="sll")))
    body = (
        pb.shb()
        + pb.idb(228, tsresol=9)  # nanoseconds
        + pb.idb(1)  # microseconds by default
        + pb.idb(113, tsresol=0x80 | 10, tsoffset=1000)  # 2^-10 s, plus 1000 s
        + pb.block(0x0BAD, b"custom")
        + pb.block(0x1234, b"unknown")
        + pb.epb(0, 5 * 10**9 + 500, v4)
        + pb.spb(eth)
        + pb.epb(1, 6 * 10**6 + 250_000, eth)
        + pb.opb(2, 7 * 1024 + 512, sll)
        + pb.epb(7, 0, eth)  # no such interface
        + pb.shb(endian=">")  # a new section, other byte order, its own interfaces
        + pb.idb(1, endian=">")
        + pb.epb(0, 9 * 10**6, eth, endian=">")
    )
    (tmp_path / "ng.pcapng").write_bytes(body)
    capture = read_capture(tmp_path / "ng.pcapng")
    udp = capture.packets
    assert capture.skipped == {
        "pcapng-simple-packet-without-timestamp": 1,
        "unknown-interface": 1,
        "unknown-pcapng-block": 1,
    }
    assert capture.info.link_types == (1, 113, 228)
    assert list(udp.rtp_seq) == [1, 2, 3, 2]
    assert udp.origin_s == 5
    np.testing.assert_allclose(udp.arrival_s, [5e-7, 1.25, 1002.5, 4.0], atol=1e-12)


@pytest.mark.parametrize("chunk_bytes", [64, 1000, 4096, 1 << 20])
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_read_capture_chunk_size_does_not_change_the_result(
    tmp_path: Path, chunk_bytes: int, fmt: str
) -> None:
    rng = np.random.default_rng(3)
    sizes = np.where(rng.random(600) < 0.5, 160, rng.integers(1, 400, 600))
    sizes[100:400] = 160  # a long run of equal records, then mixed again
    sent = [Rtp(T0 + Decimal(k) / 50, k, 160 * k, size=int(n)) for k, n in enumerate(sizes)]
    path = write(tmp_path / f"c.{fmt}", sent, fmt=fmt)
    reference = read_capture(path)
    capture = read_capture(path, chunk_bytes=chunk_bytes)
    assert list(reference.packets.rtp_seq) == list(range(600))
    assert list(reference.packets.rtp_payload_len) == list(sizes)
    for name in ("arrival_s", "rtp_seq", "rtp_payload_len", "src_addr", "payload_len"):
        assert np.array_equal(getattr(capture.packets, name), getattr(reference.packets, name))


@pytest.mark.parametrize(
    "pattern",
    [
        "odd-record-every-37",  # RTP of one size with an RTCP-like record now and then
        "two-sizes-alternating",
        "runs-of-three",
        "sizes-change-for-good",
    ],
)
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_read_capture_walks_runs_broken_by_other_sizes(
    tmp_path: Path, pattern: str, fmt: str
) -> None:
    k = np.arange(1200)
    sizes = {
        "odd-record-every-37": np.where(k % 37 == 36, 28, 160),
        "two-sizes-alternating": np.where(k % 2 == 0, 160, 20),
        "runs-of-three": np.where(k % 4 == 3, 20, 160),
        "sizes-change-for-good": np.where(k < 600, 160, np.where(k < 900, 20, 320)),
    }[pattern]
    sent = [
        Rtp(T0 + Decimal(int(i)) / 50, int(i), 160 * int(i), size=int(n))
        for i, n in zip(k, sizes, strict=True)
    ]
    packets = read_capture(write(tmp_path / f"r.{fmt}", sent, fmt=fmt), chunk_bytes=65536).packets
    assert list(packets.rtp_seq) == list(range(1200))
    assert list(packets.rtp_payload_len) == list(sizes)


def test_read_capture_keeps_sip_and_rtcp_payloads_only(tmp_path: Path) -> None:
    sip = b"INVITE sip:a@b SIP/2.0\r\n\r\n"
    rtcp = bytes.fromhex("80c80006") + bytes(24)
    items = [(T0, sip), (T0 + 1, Rtp(T0, 1, 0).payload()), (T0 + 2, rtcp), (T0 + 3, b"hello")]
    udp = read_capture(write(tmp_path / "p.pcap", items)).packets
    assert udp.payloads == ((0, sip), (2, rtcp))


def _invite(size: int) -> bytes:
    """An INVITE whose SDP offers many codecs: ``size`` bytes, more than one packet holds."""
    codecs = tuple(range(96, 127))
    body = sipbuild.sdp("10.0.0.1", 40000, codecs, tuple(f"{pt} X{pt}/8000" for pt in codecs))
    message = sipbuild.sip("INVITE sip:b@example.com SIP/2.0", "big-invite", body)
    return message + b" " * (size - len(message)) if len(message) < size else message


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_read_capture_puts_a_fragmented_invite_back_together(
    tmp_path: Path, family: str, fmt: str
) -> None:
    invite = _invite(3000)
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    if family == "ipv4":
        whole = IP(src="10.0.0.1", dst="10.0.0.2", id=7, tos=46 << 2) / UDP(sport=5060, dport=5060)
        pieces = fragment(whole / Raw(invite), fragsize=1200)
    else:
        whole = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=7)
        pieces = fragment6(whole / UDP(sport=5060, dport=5060) / Raw(invite), 1280)
    assert len(pieces) == 3
    first, middle, last = (eth / piece for piece in pieces)
    rtp = (
        eth
        / IP(src="10.0.0.9", dst="10.0.0.2")
        / UDP(sport=4000, dport=4002)
        / Raw(Rtp(T0, 1, 0).payload())
    )
    frames = [first, rtp, last, middle, middle.copy()]  # out of order, one fragment twice
    for k, packet in enumerate(frames):
        packet.time = T0 + Decimal(k) / 10
    write_frames(tmp_path / f"f.{fmt}", frames, 1, "pcapng" if fmt == "pcapng" else "pcap")
    capture = read_capture(tmp_path / f"f.{fmt}")
    packets = capture.packets
    assert capture.skipped == {"ip-fragment": 1}  # the second copy of the middle one
    assert capture.info.records == 5 and capture.info.udp_packets == 2
    assert list(packets.src_port) == [4000, 5060]  # the INVITE once whole, at its last piece
    assert packets.payload_len[1] == len(invite)
    assert packets.arrival_s[1] == pytest.approx(0.3)  # when the middle piece completed it
    assert packets.payloads == ((1, invite),)
    if family == "ipv4":
        assert packets.dscp[1] == 46


def test_read_capture_leaves_incomplete_or_stale_fragments_unused(tmp_path: Path) -> None:
    invite = _invite(3000)
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    whole = IP(src="10.0.0.1", dst="10.0.0.2", id=9) / UDP(sport=5060, dport=5060) / Raw(invite)
    first, middle, last = (eth / piece for piece in fragment(whole, fragsize=1200))
    # A datagram missing its middle, then the same identification 40 s later, complete: the
    # old pieces must not mix into it (reassembly waits 30 s at most).
    frames = [first.copy(), last.copy(), first, middle, last]
    for k, packet in enumerate(frames):
        packet.time = T0 + (0 if k < 2 else 40 + k)
    write_frames(tmp_path / "g.pcap", frames, 1)
    capture = read_capture(tmp_path / "g.pcap")
    assert capture.skipped == {"ip-fragment": 2}
    assert capture.packets.payloads == ((0, invite),)
    assert capture.packets.arrival_s[0] == pytest.approx(44.0)


@pytest.mark.parametrize("chunk_bytes", [64, 4096, 1 << 20])
def test_read_capture_short_payloads_have_no_rtp_fields(tmp_path: Path, chunk_bytes: int) -> None:
    # A SIP keep-alive (CRLF CRLF) on raw IP has no padding after it: an RTP header read
    # there would be whatever bytes follow in the buffer, which depends on the chunking.
    keep_alive = bytes(frame(b"\r\n\r\n", Path4(link="raw")))
    body = pb.pcap_header(link=101)
    for k in range(30):
        body += pb.pcap_record(1 + k, 0, bytes(frame(Rtp(T0, k, 0).payload(), Path4(link="raw"))))
        body += pb.pcap_record(1 + k, 1, keep_alive)
    (tmp_path / "k.pcap").write_bytes(body)
    udp = read_capture(tmp_path / "k.pcap", chunk_bytes=chunk_bytes).packets
    short = udp.payload_len == 4
    assert short.sum() == 30
    for name in ("rtp_version", "rtp_payload_type", "rtp_seq", "rtp_ts", "rtp_ssrc"):
        assert not getattr(udp, name)[short].any(), name
    assert list(udp.rtp_seq[~short]) == list(range(30))
    assert udp.payloads == ()


def test_read_capture_pcapng_origin_is_the_first_packets_second(tmp_path: Path) -> None:
    # Interface 1 clocks in microseconds, interface 0 in nanoseconds; the first packet is
    # on interface 1. Time counts from its whole second, whichever interface comes first in
    # a chunk (before, the lowest-numbered interface of the first chunk set it).
    data = bytes(frame(Rtp(T0, 1, 0).payload(), Path4(link="raw")))
    body = pb.shb() + pb.idb(101, tsresol=9) + pb.idb(101)
    body += pb.epb(1, 2_000 * 10**6 + 250_000, data)  # 2000.25 s
    body += pb.epb(0, 1_999 * 10**9 + 500_000_000, data)  # 1999.5 s
    (tmp_path / "o.pcapng").write_bytes(body)
    udp = read_capture(tmp_path / "o.pcapng").packets
    assert udp.origin_s == 2000
    np.testing.assert_allclose(udp.arrival_s, [0.25, -0.5], atol=1e-9)
