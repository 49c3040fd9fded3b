"""SIP message reading (strict and tolerant) and credential redaction."""

from __future__ import annotations

import pytest
from data import sipbuild

from sipprobe.sip.message import parse_message, redact, split_header_list
from sipprobe.sip.sdp import parse_sdp

RESPONSE = (
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport=5060\r\n"
    "v: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKdef\r\n"
    "f: <sip:alice@example.com>;tag=1\r\n"
    "To: <sip:alice@example.com>;tag=2\r\n"
    "i: abc@host\r\n"
    "CSeq: 42 REGISTER\r\n"
    'm: <sip:alice@10.0.0.1:5060>;expires=120, "Bob, Jr" <sip:alice@10.0.0.9>;expires=60\r\n'
    "Allow: INVITE, ACK,\r\n BYE\r\n"
    "Content-Length: 0\r\n\r\n"
)


def test_parse_message_response_fields() -> None:
    message = parse_message(RESPONSE)
    assert message.status_code == 200
    assert message.reason == "OK"
    assert message.method == "REGISTER"
    assert message.cseq_number == 42
    assert message.call_id == "abc@host"
    assert message.request_uri is None
    assert message.header("VIA") == "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport=5060"
    assert len(message.header_values("via")) == 2


def test_parse_message_compact_contact_list_keeps_quoted_commas() -> None:
    contacts = parse_message(RESPONSE).header_values("contact")
    assert contacts == (
        "<sip:alice@10.0.0.1:5060>;expires=120",
        '"Bob, Jr" <sip:alice@10.0.0.9>;expires=60',
    )


def test_parse_message_folded_header_joined() -> None:
    assert parse_message(RESPONSE).header_values("allow") == ("INVITE", "ACK", "BYE")


def test_parse_message_request_line() -> None:
    message = parse_message("INVITE sip:bob@b.example SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\nv=0")
    assert message.method == "INVITE"
    assert message.status_code is None
    assert message.request_uri == "sip:bob@b.example"
    assert message.body == "v=0"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty start line"),
        ("HELLO WORLD\r\n\r\n", "not a SIP start line"),
        ("SIP/2.0 200 OK\r\nno colon here\r\n\r\n", "has no name"),
    ],
)
def test_parse_message_rejects_garbage(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_message(text)


def test_split_header_list_angle_brackets() -> None:
    assert split_header_list("<sip:a@b;x=1,2>, <sip:c@d>") == ["<sip:a@b;x=1,2>", "<sip:c@d>"]


def test_redact_digest_response_and_cnonce() -> None:
    text = (
        "INVITE sip:x SIP/2.0\n"
        'Proxy-Authorization: Digest username="alice", realm="r", nonce="n1", uri="sip:x", '
        'response="0123456789abcdef0123456789abcdef", cnonce="c0ffee", qop=auth, nc=00000001\n'
        'authorization: Digest username="alice", response=deadbeef\n'
        "Authorization: Basic YWxpY2U6c2VjcmV0\n"
        "Subject: response=keep-me\n"
    )
    redacted = redact(text)
    assert "0123456789abcdef" not in redacted
    assert "c0ffee" not in redacted
    assert "deadbeef" not in redacted
    assert "YWxpY2U6c2VjcmV0" not in redacted
    assert 'username="alice"' in redacted
    assert 'realm="r"' in redacted
    assert "Authorization: <redacted>" in redacted
    assert "Subject: response=keep-me" in redacted
    assert redacted.count('"<redacted>"') == 3


def test_sdp_codecs_from_rtpmap_and_static_table() -> None:
    body = (
        "v=0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
        "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    )
    audio = parse_sdp(body).audio
    assert audio is not None
    assert audio.codec_names() == ("PCMU/8000", "PCMA/8000", "telephone-event/8000")


def test_parse_message_tolerant_headers_and_body() -> None:
    raw = sipbuild.sip("INVITE sip:b@x SIP/2.0", "abc", "v=0\r\n", compact=True)
    message = parse_message(raw, tolerant=True)
    assert message.first_line == "INVITE sip:b@x SIP/2.0"
    assert message.call_id == "abc"
    assert message.header("content-type") == "application/sdp"
    assert message.body == "v=0\n"
    for not_sip in (b"\x80\x00garbage", b"HTTP/1.1 200 OK\r\n\r\n"):
        with pytest.raises(ValueError, match="not a SIP message"):
            parse_message(not_sip, tolerant=True)
