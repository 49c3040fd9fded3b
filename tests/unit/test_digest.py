"""Responder-side digest authentication against an independently computed answer."""

from __future__ import annotations

import hashlib

from sipprobe.sip import digest

SECRET = b"0123456789abcdef"
NOW = 1_800_000_000.0


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def client_header(nonce: str, password: str, realm: str = "sipprobe") -> str:
    # RFC 2617 3.2.2.1 with qop=auth, computed here step by step.
    ha1 = md5(f"alice:{realm}:{password}")
    ha2 = md5("INVITE:sip:echo@127.0.0.1")
    response = md5(f"{ha1}:{nonce}:00000001:abc123:auth:{ha2}")
    return (
        f'Digest username="alice", realm="{realm}", nonce="{nonce}", '
        f'uri="sip:echo@127.0.0.1", response="{response}", algorithm=MD5, cnonce="abc123", '
        "qop=auth, nc=00000001"
    )


def nonce_from(challenge: str) -> str:
    return digest.parse_params(challenge)["nonce"]


def test_digest_verify_accepts_right_password() -> None:
    nonce = nonce_from(digest.challenge_header("sipprobe", SECRET, NOW))
    assert digest.verify(
        client_header(nonce, "s3cret"), "INVITE", "alice", "s3cret", "sipprobe", SECRET, NOW + 1
    )


def test_digest_verify_rejects_wrong_password_realm_and_forged_nonce() -> None:
    nonce = nonce_from(digest.challenge_header("sipprobe", SECRET, NOW))
    assert not digest.verify(
        client_header(nonce, "wrong"), "INVITE", "alice", "s3cret", "sipprobe", SECRET, NOW
    )
    assert not digest.verify(
        client_header(nonce, "s3cret", realm="other"),
        "INVITE",
        "alice",
        "s3cret",
        "sipprobe",
        SECRET,
        NOW,
    )
    forged = f"{int(NOW)}.00000000000000000000"
    assert not digest.verify(
        client_header(forged, "s3cret"), "INVITE", "alice", "s3cret", "sipprobe", SECRET, NOW
    )


def test_digest_verify_rejects_stale_nonce() -> None:
    nonce = nonce_from(digest.challenge_header("sipprobe", SECRET, NOW))
    assert not digest.verify(
        client_header(nonce, "s3cret"),
        "INVITE",
        "alice",
        "s3cret",
        "sipprobe",
        SECRET,
        NOW + digest.NONCE_LIFETIME_S + 1,
    )


def test_digest_without_qop_rfc2069() -> None:
    params = {"username": "alice", "realm": "r", "nonce": "n", "uri": "sip:x"}
    expected = md5(f"{md5('alice:r:pw')}:n:{md5('REGISTER:sip:x')}")
    assert digest.expected_response(params, "REGISTER", "pw") == expected


def test_parse_params_ignores_other_schemes() -> None:
    assert digest.parse_params("Basic abc") == {}
