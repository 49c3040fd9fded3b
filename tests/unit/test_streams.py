"""Stream discovery: SDP labels, the --rtp-port hint, RTP heuristics, and the SDP it reads."""

import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
from data import sipbuild
from data.rtpcapture import T0, Items, Path4, stream, write_parts
from hypothesis import given
from hypothesis import strategies as st

from sipprobe.analysis.announced import announced_media, codec_for, media_of_sdp
from sipprobe.analysis.pcap import UdpPackets, read_capture
from sipprobe.analysis.streams import MIN_PACKETS, find_streams

A = Path4(src="10.0.0.1", dst="10.0.0.2", sport=40000, dport=50000)
SIP = Path4(src="10.0.0.1", dst="10.0.0.2", sport=5060, dport=5060)


def _capture(tmp_path: Path, parts: list[tuple[Path4, Items]]) -> UdpPackets:
    return read_capture(write_parts(tmp_path / "c.pcap", parts)).packets


def test_find_streams_heuristic_finds_rtp_and_keys_by_ssrc(tmp_path: Path) -> None:
    first = stream(50, ssrc=1)
    second = stream(30, ssrc=2, t0=T0 + Decimal("0.005"), pt=8)
    back = stream(40, ssrc=3, t0=T0 + Decimal("0.007"))
    packets = _capture(
        tmp_path,
        [
            (A, first + second),
            (replace(A, src="10.0.0.2", dst="10.0.0.1", sport=50000, dport=40000), back),
        ],
    )
    found = find_streams(packets)
    assert [(s.src, s.dst, s.ssrc, len(s.rows), s.payload_type, s.found_by) for s in found] == [
        ("10.0.0.1:40000", "10.0.0.2:50000", 1, 50, 0, "heuristic"),
        ("10.0.0.1:40000", "10.0.0.2:50000", 2, 30, 8, "heuristic"),
        ("10.0.0.2:50000", "10.0.0.1:40000", 3, 40, 0, "heuristic"),
    ]
    assert found[0].codec is not None and found[0].codec.name == "PCMU"
    assert found[1].codec is not None and found[1].codec.name == "PCMA"
    assert found[0].dscp == (46,)
    assert all(np.all(np.diff(packets.arrival_s[s.rows]) >= 0) for s in found)


def test_find_streams_rejects_random_udp_and_short_groups(tmp_path: Path) -> None:
    rng = random.Random(5)
    noise = [(T0 + Decimal(k) / 100, bytes([0x80]) + rng.randbytes(60)) for k in range(200)]
    same_ssrc_noise = [
        (T0 + Decimal(k) / 100, b"\x80\x00" + rng.randbytes(2) + b"\0\0\0\0\0\0\0\7" + bytes(20))
        for k in range(50)
    ]
    short = stream(MIN_PACKETS - 1, ssrc=9)
    packets = _capture(
        tmp_path,
        [(A, noise), (replace(A, dport=50002), same_ssrc_noise), (replace(A, dport=50004), short)],
    )
    assert find_streams(packets) == ()
    hinted = find_streams(packets, rtp_ports=[50004])
    assert [(s.ssrc, len(s.rows), s.found_by) for s in hinted] == [(9, MIN_PACKETS - 1, "rtp-port")]


def test_find_streams_rtcp_on_the_rtp_port_is_not_a_stream(tmp_path: Path) -> None:
    rtcp = [
        (T0 + k, sipbuild.rtcp_sr(5, 1, 2, (sipbuild.report_block(1),)) + sipbuild.rtcp_sdes(5))
        for k in range(20)
    ]
    xr = [(T0 + k + Decimal("0.5"), sipbuild.rtcp_xr_voip(5, 1)) for k in range(20)]
    packets = _capture(tmp_path, [(A, stream(20, ssrc=1)), (A, rtcp + xr)])
    assert [(s.ssrc, len(s.rows)) for s in find_streams(packets, rtp_ports=[50000])] == [(1, 20)]


def test_find_streams_sdp_labels_call_codec_and_ptime(tmp_path: Path) -> None:
    offer = sipbuild.sdp(
        "10.0.0.1", 40000, (96, 101), ("96 PCMA/8000", "101 telephone-event/8000"), 30
    )
    answer = sipbuild.sdp("10.0.0.2", 50000, (96,), ("96 PCMA/8000",), 30)
    signalling = [
        (T0, sipbuild.sip("INVITE sip:b@example.com SIP/2.0", "call-1@host", offer)),
        (T0 + Decimal("0.2"), sipbuild.sip("SIP/2.0 200 OK", "call-1@host", answer, compact=True)),
    ]
    forward = stream(3, t0=T0 + 1, pt=96, ssrc=7)  # too short for the heuristics
    backward = stream(40, t0=T0 + 1, pt=96, ssrc=8)
    back = replace(A, src="10.0.0.2", dst="10.0.0.1", sport=50000, dport=40000)
    packets = _capture(tmp_path, [(SIP, signalling), (A, forward), (back, backward)])
    sdp = announced_media((float(packets.arrival_s[r]), d) for r, d in packets.payloads)
    assert [(m.call_id, m.endpoint, m.ptime_ms) for m in sdp] == [
        ("call-1@host", ("10.0.0.1", 40000), 30.0),
        ("call-1@host", ("10.0.0.2", 50000), 30.0),
    ]
    found = find_streams(packets, sdp)
    assert [(s.ssrc, s.found_by, s.call_id) for s in found] == [
        (7, "sdp", "call-1@host"),
        (8, "sdp", "call-1@host"),
    ]
    for s in found:
        assert s.codec is not None
        assert (s.codec.name, s.codec.clock_rate, s.codec.ptime_ms) == ("PCMA", 8000, 30.0)


def test_find_streams_sdp_ipv6_and_on_hold(tmp_path: Path) -> None:
    six = Path4(src="2001:db8::1", dst="2001:db8::2", sport=40000, dport=50000)
    body = sipbuild.sdp("2001:db8:0::2", 50000, (97,), ("97 iLBC/8000",), session_level=True)
    held = sipbuild.sdp("0.0.0.0", 50000)
    signalling = [
        (T0, sipbuild.sip("SIP/2.0 200 OK", "v6", body)),
        (T0, sipbuild.sip("SIP/2.0 200 OK", "held", held)),
    ]
    packets = _capture(
        tmp_path,
        [
            (replace(SIP, src="2001:db8::2", dst="2001:db8::1"), signalling),
            (six, stream(2, t0=T0 + 1, pt=97)),
        ],
    )
    sdp = announced_media((float(packets.arrival_s[r]), d) for r, d in packets.payloads)
    assert [m.address for m in sdp] == ["2001:db8::2"]
    (found,) = find_streams(packets, sdp)
    assert (found.dst, found.call_id) == ("[2001:db8::2]:50000", "v6")
    assert found.codec is not None and found.codec.name == "iLBC"


def test_find_streams_sorts_each_stream_by_arrival(tmp_path: Path) -> None:
    sent = stream(20)
    shuffled = sent[10:] + sent[:10]  # file order is not time order (a merged capture)
    path = write_parts(tmp_path / "m.pcap", [(A, shuffled)], sort=False)
    packets = read_capture(path).packets
    (found,) = find_streams(packets)
    assert list(packets.rtp_seq[found.rows]) == [p.seq for p in sent]


def test_announced_media_multipart_and_rejected_media() -> None:
    body = sipbuild.sdp("192.0.2.5", 30000, (0, 18), ("18 G729/8000",))
    body += "m=video 0 RTP/AVP 31\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.6\r\n"
    multipart = (
        "--b1\r\nContent-Type: application/isup\r\n\r\nxx\r\n"
        f"--b1\r\nContent-Type: application/sdp\r\n\r\n{body}--b1--\r\n"
    )
    raw = sipbuild.sip("SIP/2.0 183 Session Progress", "mp", multipart).replace(
        b"Content-Type: application/sdp", b'Content-Type: multipart/mixed;boundary="b1"', 1
    )
    media = announced_media([(1.0, raw)])
    assert [(m.endpoint, m.payload_types) for m in media] == [
        (("192.0.2.5", 30000), (0, 18)),
        (("192.0.2.6", 4000), (0,)),
    ]
    assert codec_for(media[0], 18) is not None
    assert codec_for(media[0], 96) is None
    assert (
        media_of_sdp("m=\r\nm=audio x RTP/AVP\r\nc=IN\r\n", call_id="", message="", arrival_s=0)
        == []
    )


@given(st.binary(max_size=600))
def test_announced_media_never_raises_on_garbage(data: bytes) -> None:
    announced_media([(0.0, data)])
    announced_media([(0.0, b"SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\n" + data)])
    text = data.decode("utf-8", "replace")
    media_of_sdp(text, call_id="x", message="x", arrival_s=0.0)
    media_of_sdp(
        "c=IN IP4 10.0.0.1\r\nm=audio 1 RTP/AVP 0\r\na=" + text,
        call_id="",
        message="",
        arrival_s=0,
    )
