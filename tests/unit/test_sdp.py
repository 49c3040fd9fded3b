"""The SDP reader (strict and tolerant), Contact URIs, and what signalling reads from SDP."""

from __future__ import annotations

import pytest

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.results import SipEvent
from sipprobe.run.callmedia import sdp_endpoint
from sipprobe.signalling.dialog import offered_codecs
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.message import parse_message
from sipprobe.sip.sdp import parse_sdp
from sipprobe.sip.uri import contact_endpoint

OFFER = (
    "v=0\r\n"
    "o=- 1 1 IN IP4 192.0.2.1\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.1\r\n"
    "t=0 0\r\n"
    "a=sendonly\r\n"
    "m=audio 4000 RTP/SAVP 0 96 101\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=ptime:30\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2VjcmV0\r\n"
    "m=video 5000 RTP/AVP 31\r\n"
    "c=IN IP6 2001:DB8:0::5\r\n"
    "a=inactive\r\n"
)


def test_parse_sdp_reads_every_field() -> None:
    sdp = parse_sdp(OFFER)
    assert (sdp.origin_address, sdp.connection) == ("192.0.2.1", "192.0.2.1")
    audio, video = sdp.media
    assert sdp.audio is audio
    assert (audio.media, audio.port, audio.proto) == ("audio", 4000, "RTP/SAVP")
    assert audio.payload_types == (0, 96, 101)
    assert [(m.payload_type, m.name, m.clock_rate) for m in audio.rtpmap] == [
        (96, "opus", 48000),
        (101, "telephone-event", 8000),
    ]
    assert (audio.ptime_ms, audio.direction, audio.secure) == (30.0, "sendonly", True)
    assert audio.crypto == ("1 AES_CM_128_HMAC_SHA1_80 inline:c2VjcmV0",)
    assert audio.codec_names() == ("PCMU/8000", "opus/48000", "telephone-event/8000")
    pcmu, opus = audio.codec(0), audio.codec(96)
    assert pcmu is not None and opus is not None
    assert (pcmu.name, opus.name, opus.clock_rate) == ("PCMU", "opus", 48000)
    assert audio.codec(97) is None
    assert audio.receive_endpoint() == Endpoint("192.0.2.1", 4000)
    assert (video.connection, video.direction, video.secure) == ("2001:DB8:0::5", "inactive", False)
    assert video.receive_endpoint() == Endpoint("2001:db8::5", 5000)


def test_parse_sdp_on_hold_rejected_and_named_receivers() -> None:
    held = parse_sdp("c=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n").media[0]
    rejected = parse_sdp("c=IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 0\r\n").media[0]
    named = parse_sdp("c=IN IP4 Media.Example.com/127\r\nm=audio 4000 RTP/AVP 0\r\n").media[0]
    assert held.receive_endpoint() is None
    assert rejected.receive_endpoint() is None
    assert named.receive_endpoint() == Endpoint("media.example.com", 4000)
    assert parse_sdp("v=0\r\n").audio is None


@pytest.mark.parametrize(
    ("line", "problem", "section_port"),
    [
        ("garbage", "is not <type>=<value>", None),
        ("m=audio 4000", "has no media, port and profile", 0),
        ("m=audio 70000 RTP/AVP 0", "no port from 0 to 65535", 0),
        ("m=audio 5000 RTP/AVP 0 x", "payload type outside 0-127", 5000),
        ("c=IN IP4", "has no address", None),
        ("o=- 1 1 IN", "fewer than six fields", None),
        ("a=rtpmap:96 opus", "has no payload type and rate", None),
        ("a=rtpmap:96 /8000", "has no encoding name", None),
        ("a=ptime:0", "is not a packet time", None),
    ],
)
def test_parse_sdp_strict_rejects_with_a_sentence_tolerant_skips(
    line: str, problem: str, section_port: int | None
) -> None:
    text = f"c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n{line}\r\nm=audio 6000 RTP/AVP 8\r\n"
    with pytest.raises(ValueError, match=problem):
        parse_sdp(text)
    media = parse_sdp(text, tolerant=True).media
    # An unreadable m= line still opens a section (port 0), unreadable formats are skipped.
    opened = [] if section_port is None else [section_port]
    assert [m.port for m in media] == [4000, *opened, 6000]
    assert (media[0].payload_types, media[-1].payload_types) == ((0,), (8,))


def test_parse_sdp_non_rtp_formats_are_not_payload_types() -> None:
    (t38,) = parse_sdp("m=image 4000 udptl t38\r\n").media
    assert (t38.formats, t38.payload_types) == (("t38",), ())


def test_sdp_body_plain_multipart_and_none() -> None:
    plain = parse_message("SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n")
    assert plain.sdp_body() == "v=0\n"
    multipart = parse_message(
        "SIP/2.0 200 OK\r\nContent-Type: multipart/mixed;boundary=xx\r\n\r\n"
        "--xx\r\nContent-Type: application/isup\r\n\r\nab\r\n"
        "--xx\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--xx--\r\n"
    )
    assert multipart.sdp_body() == "v=0\n"
    assert parse_message("SIP/2.0 200 OK\r\nContent-Type: text/plain\r\n\r\nx").sdp_body() is None


def test_sdp_endpoint_writes_the_capture_s_endpoint() -> None:
    assert sdp_endpoint("c=IN IP6 2001:db8:0::2\r\nm=audio 4000 RTP/AVP 0\r\n") == (
        "[2001:db8::2]:4000"
    )
    assert sdp_endpoint("c=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n") is None
    assert sdp_endpoint("c=IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 0\r\nm=audio 6 RTP/AVP 0\r\n") == (
        "192.0.2.1:6"
    )


def _event(text: str) -> SipEvent:
    event = Timeline(lambda: 0.0).add("tx", "UDP", "192.0.2.2:5060", text)
    assert event is not None
    return event


def test_offered_codecs_from_the_audio_section() -> None:
    invite = (
        "INVITE sip:b@example.com SIP/2.0\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
        "\r\nv=0\r\nm=audio 4000 RTP/AVP 8 4 18 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    )
    assert offered_codecs(_event(invite)) == (
        "PCMA/8000",
        "G723/8000",
        "G729/8000",
        "telephone-event/8000",
    )
    assert offered_codecs(_event("OPTIONS sip:b@example.com SIP/2.0\r\n\r\n")) == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<sip:alice@10.0.0.1:5070;transport=tcp>;expires=60", Endpoint("10.0.0.1", 5070)),
        ('"A, B" <sip:alice@PBX.example.com>', Endpoint("pbx.example.com", 5060)),
        ("<sips:alice@[2001:DB8::1]>", Endpoint("2001:db8::1", 5061)),
        ("sip:alice@10.0.0.1;expires=60", Endpoint("10.0.0.1", 5060)),
        ("<sip:alice@10.0.0.1:5062?Subject=x>", Endpoint("10.0.0.1", 5062)),
        ("*", None),
        ("<tel:+4420>", None),
        ("<sip:alice@bad host>", None),
    ],
)
def test_contact_endpoint(value: str, expected: Endpoint | None) -> None:
    assert contact_endpoint(value) == expected
