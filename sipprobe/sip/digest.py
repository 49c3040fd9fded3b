"""Server side of HTTP digest authentication (RFC 2617 / RFC 3261 22.4) for the responder.

Nonces are stateless: a timestamp signed with a per-process secret, so the responder keeps no
table and a stale nonce is recognised by its age.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]+))')
NONCE_LIFETIME_S = 300


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def make_nonce(secret: bytes, now: float) -> str:
    stamp = str(int(now))
    signature = hmac.new(secret, stamp.encode(), hashlib.sha256).hexdigest()[:20]
    return f"{stamp}.{signature}"


def challenge_header(realm: str, secret: bytes, now: float) -> str:
    """The value of a WWW-Authenticate header asking for MD5 digest with qop=auth."""
    nonce = make_nonce(secret, now)
    return f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth"'


def parse_params(header_value: str) -> dict[str, str]:
    """Parameters of a Digest header value; keys lower-cased."""
    scheme, _, rest = header_value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }


def expected_response(params: dict[str, str], method: str, password: str) -> str:
    ha1 = _md5(f"{params.get('username', '')}:{params.get('realm', '')}:{password}")
    ha2 = _md5(f"{method}:{params.get('uri', '')}")
    nonce = params.get("nonce", "")
    if params.get("qop"):
        return _md5(
            f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:{params['qop']}:{ha2}"
        )
    return _md5(f"{ha1}:{nonce}:{ha2}")


def verify(
    header_value: str,
    method: str,
    username: str,
    password: str,
    realm: str,
    secret: bytes,
    now: float,
) -> bool:
    """True when the Authorization header proves knowledge of the password, with a fresh nonce."""
    params = parse_params(header_value)
    if params.get("username") != username or params.get("realm") != realm:
        return False
    stamp, _, _ = params.get("nonce", "").partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(
        params["nonce"], make_nonce(secret, float(stamp))
    ):
        return False
    if now - int(stamp) > NONCE_LIFETIME_S:
        return False
    return hmac.compare_digest(
        params.get("response", ""), expected_response(params, method, password)
    )
