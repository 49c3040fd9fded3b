"""The reflector's SDP answer: the offer's first codec it serves, telephone-event, SDES."""

from __future__ import annotations

import pytest

from sipprobe.responder import sdp

CRYPTO = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"


def offer(proto: str = "RTP/AVP", formats: str = "9 8 0 101", extra: str = "") -> str:
    return (
        "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
        f"m=audio 4000 {proto} {formats}\r\na=rtpmap:101 telephone-event/8000\r\n"
        f"a=fmtp:101 0-15\r\n{extra}"
    )


def test_responder_sdp_first_supported_codec_and_dtmf() -> None:
    negotiated, index = sdp.negotiate(offer(), sdp.ECHO_CODECS, "off")
    assert (negotiated.payload_type, negotiated.codec, negotiated.dtmf_payload_type) == (
        9,
        "G722/8000",
        101,
    )
    assert (index, negotiated.crypto, negotiated.ipv6, negotiated.address) == (
        0,
        None,
        False,
        "192.0.2.10",
    )
    text = sdp.answer(offer(), negotiated, index, "198.51.100.1", 20000, 7)
    assert "c=IN IP4 198.51.100.1\r\n" in text
    assert "m=audio 20000 RTP/AVP 9 101\r\n" in text
    assert "a=fmtp:101 0-15\r\n" in text  # the offer's own events
    assert "192.0.2.10" not in text


def test_responder_sdp_tone_mode_takes_g711_only() -> None:
    negotiated, _ = sdp.negotiate(offer(), sdp.TONE_CODECS, "off")
    assert negotiated.codec == "PCMA/8000"
    with pytest.raises(sdp.OfferError, match="none of the offered codecs"):
        sdp.negotiate(offer(formats="9 18"), sdp.TONE_CODECS, "off")


def test_responder_sdp_srtp_answers_with_the_offers_crypto() -> None:
    secure = offer(
        "RTP/SAVP", extra=f"a=crypto:{CRYPTO}\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:x\r\n"
    )
    negotiated, index = sdp.negotiate(secure, sdp.ECHO_CODECS, "mandatory")
    assert negotiated.crypto == CRYPTO
    text = sdp.answer(secure, negotiated, index, "198.51.100.1", 20000, 7)
    assert f"a=crypto:{CRYPTO}\r\n" in text and "RTP/SAVP" in text
    with pytest.raises(sdp.OfferError, match="--srtp off"):
        sdp.negotiate(secure, sdp.ECHO_CODECS, "off")
    with pytest.raises(sdp.OfferError, match="requires it"):
        sdp.negotiate(offer(), sdp.ECHO_CODECS, "mandatory")
    # Optional SRTP on a plain profile (what pjsua offers with srtp optional): keyed when offered.
    optional = offer(extra=f"a=crypto:{CRYPTO}\r\n")
    assert sdp.negotiate(optional, sdp.ECHO_CODECS, "optional")[0].crypto == CRYPTO
    assert sdp.negotiate(optional, sdp.ECHO_CODECS, "off")[0].crypto is None


def test_responder_sdp_other_streams_refused_with_port_zero() -> None:
    text = offer() + "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    video_first = (
        "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"
        "m=video 5000 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0\r\n"
    )
    negotiated, index = sdp.negotiate(video_first, sdp.ECHO_CODECS, "off")
    assert (index, negotiated.ipv6) == (1, True)
    answer = sdp.answer(video_first, negotiated, index, "2001:db8::2", 20000, 7)
    lines = answer.split("\r\n")
    assert "m=video 0 RTP/AVP 96" in lines and "m=audio 20000 RTP/AVP 0" in lines
    assert "c=IN IP6 2001:db8::2" in lines
    negotiated, index = sdp.negotiate(text, sdp.ECHO_CODECS, "off")
    assert "m=video 0 RTP/AVP 96" in sdp.answer(text, negotiated, index, "192.0.2.1", 2, 1)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "no audio stream"),
        ("v=0\r\nm=audio 0 RTP/AVP 0\r\n", "no audio stream"),
        ("v=0\r\nm=audio x RTP/AVP 0\r\n", "malformed m= line"),
        ("v=0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 0\r\n", "not supported"),
        ("v=0\r\nm=audio 4000 RTP/SAVP 0\r\n", "without an SDES crypto"),
    ],
)
def test_responder_sdp_unanswerable_offers(body: str, message: str) -> None:
    with pytest.raises(sdp.OfferError, match=message):
        sdp.negotiate(body, sdp.ECHO_CODECS, "optional")


def test_responder_sdp_offer_direction_and_answer_direction() -> None:
    from sipprobe.responder.sdp import answer_direction, offer_direction, with_direction

    base = "v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    assert offer_direction(base) == "sendrecv"
    assert offer_direction(base + "a=sendonly\r\n") == "sendonly"
    assert offer_direction(base.replace("t=0 0\r\n", "t=0 0\r\na=inactive\r\n")) == "inactive"
    assert [answer_direction(d) for d in ("sendrecv", "sendonly", "recvonly", "inactive")] == [
        "sendrecv",
        "recvonly",
        "sendonly",
        "inactive",
    ]
    answer = "v=0\r\no=sipprobe 7 7 IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n"
    assert with_direction(answer, "recvonly", 8) == (
        "v=0\r\no=sipprobe 7 8 IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n"
    )
