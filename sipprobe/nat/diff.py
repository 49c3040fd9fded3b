"""What the path did to a request: sent text against the text a mirror got, line by line.

Pure code over SIP text. Headers are paired by name and order of appearance (the n-th Via
sent with the n-th Via received); SDP lines by type letter and order (the n-th ``c=`` with the
n-th ``c=``). ``Content-Length`` is left out: it follows any rewrite of the body by itself.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re

from sipprobe.model.nat import Rewrite
from sipprobe.sip.message import SipMessage, parse_message, split_header_list

_DISPLAY = {"call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate"}
_IGNORED = ("content-length",)
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
_IPV6 = re.compile(r"\[([0-9A-Fa-f:]+)\]|(?<![\w:])((?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4})")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
_ULA = ipaddress.ip_network("fc00::/7")  # RFC 4193
_COMPACT = {"v": "via", "m": "contact"}
_AS_RECEIVED = ("via", "contact")  # the headers a sipprobe responder returns as received
_SDP_LINE = re.compile(r"^[a-z]=")
# Via parameters a proxy on the way adds to the probe's Via (RFC 3261 18.2.1, RFC 3581).
_PATH_PARAMETERS = re.compile(r";\s*(?:received|rport)(?:=[^;,]*)?", re.IGNORECASE)
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def display_name(name: str) -> str:
    return _DISPLAY.get(name, "-".join(word.capitalize() for word in name.split("-")))


def _pair(part: str, sent: list[str], received: list[str], out: list[Rewrite], strip: bool) -> None:
    for index in range(max(len(sent), len(received))):
        before = sent[index] if index < len(sent) else None
        after = received[index] if index < len(received) else None
        if (before.strip() if strip and before else before) != (
            after.strip() if strip and after else after
        ):
            out.append(Rewrite(part, before, after))


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, value in pairs:
        groups.setdefault(name, []).append(value)
    return groups


def _sdp_lines(body: str) -> list[tuple[str, str]]:
    lines = [line for line in body.replace("\r\n", "\n").split("\n") if line.strip()]
    return [(f"SDP {line[:2]}" if line[1:2] == "=" else "SDP", line) for line in lines]


def diff_messages(sent: str, received: str) -> tuple[Rewrite, ...]:
    """Every line of ``sent`` that arrived changed, removed, or was added, in sent order.

    Raises ValueError when either text is not a SIP message.
    """
    before, after = parse_message(sent), parse_message(received)
    rewrites: list[Rewrite] = []
    if before.first_line != after.first_line:
        rewrites.append(Rewrite("Request-Line", before.first_line, after.first_line))
    sent_headers = _grouped([h for h in before.headers if h[0] not in _IGNORED])
    received_headers = _grouped([h for h in after.headers if h[0] not in _IGNORED])
    for name in [*sent_headers, *(n for n in received_headers if n not in sent_headers)]:
        _pair(
            display_name(name),
            sent_headers.get(name, []),
            received_headers.get(name, []),
            rewrites,
            strip=True,
        )
    sent_sdp = _grouped(_sdp_lines(before.body))
    received_sdp = _grouped(_sdp_lines(after.body))
    for part in [*sent_sdp, *(p for p in received_sdp if p not in sent_sdp)]:
        _pair(part, sent_sdp.get(part, []), received_sdp.get(part, []), rewrites, strip=False)
    return tuple(rewrites)


def _received_parts(lines: str) -> tuple[list[tuple[str, str]], str]:
    """Header (name, value) pairs and the body of what a responder returned as received:
    its header lines first, then the body's lines, with no blank line between."""
    headers: list[tuple[str, str]] = []
    body: list[str] = []
    for line in lines.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        if body or _SDP_LINE.match(line):
            body.append(line)
        elif line[:1] in (" ", "\t") and headers:  # a folded header line
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        else:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            headers.append((_COMPACT.get(name, name), value.strip()))
    return headers, "\n".join(body)


def _vias(values: list[str]) -> list[str]:
    return [via.strip() for value in values for via in split_header_list(value)]


def _same_via(sent: str, received: str) -> bool:
    return _PATH_PARAMETERS.sub("", sent).strip() == _PATH_PARAMETERS.sub("", received).strip()


def diff_as_received(sent: str, received_lines: str) -> tuple[tuple[Rewrite, ...], tuple[str, ...]]:
    """What the path changed in a request, from the lines a sipprobe responder says arrived
    (``X-Sipprobe-Received``: Via, Contact and SDP lines); the rewrites, and the Via values
    proxies added in front of the probe's own (top first), which are not rewrites.

    The probe's Vias are compared with the bottom ones received, ignoring the ``received``
    and ``rport`` values a proxy adds to them; Contact and SDP lines as ``diff_messages``
    pairs them. Raises ValueError when ``sent`` is not a SIP message.
    """
    before = parse_message(sent)
    headers, body = _received_parts(received_lines)
    rewrites: list[Rewrite] = []
    sent_vias = _vias([v for n, v in before.headers if n == "via"])
    received_vias = _vias([v for n, v in headers if n == "via"])
    added = max(0, len(received_vias) - len(sent_vias))
    proxies, received_own = received_vias[:added], received_vias[added:]
    for index in range(max(len(sent_vias), len(received_own))):
        was = sent_vias[index] if index < len(sent_vias) else None
        now = received_own[index] if index < len(received_own) else None
        if was is None or now is None or not _same_via(was, now):
            rewrites.append(Rewrite("Via", was, now))
    for name in _AS_RECEIVED[1:]:
        _pair(
            display_name(name),
            [v for n, v in before.headers if n == name],
            [v for n, v in headers if n == name],
            rewrites,
            strip=True,
        )
    sent_sdp, received_sdp = _grouped(_sdp_lines(before.body)), _grouped(_sdp_lines(body))
    for part in [*sent_sdp, *(p for p in received_sdp if p not in sent_sdp)]:
        _pair(part, sent_sdp.get(part, []), received_sdp.get(part, []), rewrites, strip=False)
    return tuple(rewrites), tuple(proxies)


def mirrored_request(response: SipMessage) -> str | None:
    """The request a mirroring far end put into its response (``message/sip`` body, plain or
    base64), or None when the response carries none."""
    content_type = (response.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "message/sip" or not response.body.strip():
        return None
    encoding = (response.header("content-transfer-encoding") or "").strip().lower()
    if encoding != "base64":
        return response.body
    try:
        return base64.b64decode(response.body.strip(), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


def via_parameters(via: str) -> dict[str, str]:
    """The parameters of one Via value, names lower-cased (``rport`` without value: "")."""
    params = {}
    for raw in via.split(";")[1:]:
        name, _, value = raw.strip().partition("=")
        params[name.lower()] = value.strip()
    return params


def address_kind(text: str) -> str | None:
    """``RFC 1918``, ``RFC 6598`` or ``ULA`` for a private address, else None."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        if any(address in network for network in _RFC1918):
            return "RFC 1918"
        return "RFC 6598" if address in _SHARED else None
    return "ULA" if address in _ULA else None


def private_addresses(text: str) -> tuple[tuple[str, str], ...]:
    """Private addresses written in ``text`` with their kind, each once, in order."""
    found: dict[str, str] = {}
    candidates = [m.group(1) for m in _IPV4.finditer(text)]
    candidates += [m.group(1) or m.group(2) for m in _IPV6.finditer(text)]
    for candidate in candidates:
        kind = address_kind(candidate)
        if kind is not None and candidate not in found:
            found[candidate] = kind
    return tuple(found.items())
