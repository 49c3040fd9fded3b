"""SIP URIs as the probe needs them: where to send, over what, and how to write them back."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sipprobe.errors import UsageError
from sipprobe.model.endpoint import Endpoint
from sipprobe.sip.transports import DEFAULT_PORTS, TRANSPORTS

_URI = re.compile(
    r"^(?P<scheme>sips?):(?:(?P<user>[^@;]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)"
    r"(?::(?P<port>\d{1,5}))?(?P<params>(?:;[^?]*)?)$"
)


@dataclass(frozen=True, slots=True)
class SipUri:
    scheme: str
    user: str | None
    host: str  # IPv6 without brackets
    port: int | None
    params: tuple[tuple[str, str], ...] = ()

    @property
    def is_ipv6(self) -> bool:
        return self.endpoint().is_ipv6

    @property
    def host_for_uri(self) -> str:
        return self.endpoint().host_for_uri

    def param(self, name: str) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return None

    @property
    def transport(self) -> str:
        """The transport the URI asks for: ;transport= wins, sips: means TLS, else UDP."""
        declared = self.param("transport")
        if declared:
            return declared.lower()
        return "tls" if self.scheme == "sips" else "udp"

    def effective_port(self, transport: str | None = None) -> int:
        return self.port or DEFAULT_PORTS[transport or self.transport]

    def with_user(self, user: str | None) -> SipUri:
        return replace(self, user=user)

    def with_transport(self, transport: str) -> SipUri:
        kept = tuple((k, v) for k, v in self.params if k != "transport")
        if transport == "udp" and self.scheme == "sip":
            return replace(self, params=kept)
        return replace(self, params=(*kept, ("transport", transport)))

    def hostport(self) -> str:
        return str(self.endpoint())

    def endpoint(self) -> Endpoint:
        """Host and port as written (``port`` None when the URI has none)."""
        return Endpoint(self.host, self.port)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params)
        return f"{self.scheme}:{user}{self.hostport()}{params}"


def parse_uri(text: str) -> SipUri:
    """Parse ``sip:user@host:port;params``; a bare ``host[:port]`` is taken as ``sip:``."""
    candidate = text.strip()
    if not candidate.lower().startswith(("sip:", "sips:")):
        candidate = f"sip:{candidate}"
    match = _URI.match(candidate)
    if match is None:
        raise UsageError(f"not a SIP URI: {text!r} (expected sip:[user@]host[:port])")
    port = int(match.group("port")) if match.group("port") else None
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"port out of range in SIP URI {text!r}")
    params: list[tuple[str, str]] = []
    for raw in match.group("params").split(";")[1:]:
        key, _, value = raw.partition("=")
        params.append((key.lower(), value))
    uri = SipUri(
        scheme=match.group("scheme").lower(),
        user=match.group("user"),
        host=match.group("host").strip("[]"),
        port=port,
        params=tuple(params),
    )
    if uri.transport not in TRANSPORTS:
        raise UsageError(f"transport {uri.transport!r} in {text!r} is not one of udp, tcp, tls")
    return uri


def contact_endpoint(value: str) -> Endpoint | None:
    """Where the URI of a Contact (or From, To) value points: host lower-cased, port as
    written or the transport's default; None when the value holds no SIP URI.

    ``<sip:a@host:port;uri-params>;header-params`` or a bare ``sip:a@host;header-params``
    (RFC 3261 20.10: without angle brackets every parameter belongs to the header).
    """
    start, end = value.find("<"), value.find(">")
    text = value[start + 1 : end] if 0 <= start < end else value.partition(";")[0]
    text = text.strip().partition("?")[0]  # URI headers say nothing about where it points
    if not text.lower().startswith(("sip:", "sips:")):
        return None
    try:
        uri = parse_uri(text)
    except UsageError:
        return None
    return Endpoint(uri.host.lower(), uri.effective_port())
