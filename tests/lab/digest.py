"""HTTP digest (RFC 2617, MD5) answers to SIP challenges, computed independently of any peer."""

import hashlib
import re

_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("([^"]*)"|[^,\s]+)')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def parse_challenge(value: str) -> dict[str, str]:
    """The parameters of a `Digest ...` WWW-/Proxy-Authenticate value, names lower-cased."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ValueError(f"challenge scheme is {scheme!r}, not Digest")
    return {
        match[1].lower(): match[3] if match[3] is not None else match[2]
        for match in _PARAM.finditer(rest)
    }


def authorization(
    challenge: str,
    *,
    method: str,
    uri: str,
    user: str,
    password: str,
    cnonce: str = "6c616263",
    nonce_count: int = 1,
) -> str:
    """The Authorization / Proxy-Authorization value answering `challenge` (MD5, qop=auth)."""
    params = parse_challenge(challenge)
    realm, nonce = params["realm"], params["nonce"]
    if params.get("algorithm", "MD5").upper() != "MD5":
        raise ValueError(f"unsupported digest algorithm {params['algorithm']!r}")
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [
        f'username="{user}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        "algorithm=MD5",
    ]
    offered_qop = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    if "auth" in offered_qop:
        nc = f"{nonce_count:08x}"
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    fields.append(f'response="{response}"')
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields)
