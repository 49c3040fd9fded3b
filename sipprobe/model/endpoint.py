"""``Endpoint``: a transport address (host and port), parsed and written in one place.

IPv6 hosts are written in brackets (``[2001:db8::1]:5060``), as in SIP URIs and Via headers,
so an address and its port can always be told apart again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """A host (IPv4, IPv6 without brackets, or a name) and a port (``None``: not given)."""

    host: str
    port: int | None = None

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    @property
    def host_for_uri(self) -> str:
        """The host as written before a port: IPv6 in brackets."""
        return f"[{self.host}]" if self.is_ipv6 else self.host

    def __str__(self) -> str:
        if self.port is None:
            return self.host_for_uri
        return f"{self.host_for_uri}:{self.port}"

    @classmethod
    def parse(cls, text: str, default_port: int | None = None) -> Endpoint:
        """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address.

        Raises ``ValueError`` with a sentence for an empty host, a bracket left open, or a
        port that is not a number from 0 to 65535.
        """
        text = text.strip()
        if text.startswith("["):
            host, bracket, rest = text[1:].partition("]")
            if not bracket:
                raise ValueError(f"address {text!r} opens a bracket it does not close")
            if rest and not rest.startswith(":"):
                raise ValueError(f"address {text!r} has {rest!r} after the bracket")
            port_text = rest[1:] if rest else ""
        elif text.count(":") > 1:  # a bare IPv6 address has no port
            host, port_text = text, ""
        else:
            host, _, port_text = text.partition(":")
        if not host:
            raise ValueError(f"address {text!r} has no host")
        if not port_text:
            return cls(host, default_port)
        if not port_text.isdigit() or int(port_text) > 65535:
            raise ValueError(f"port {port_text!r} of {text!r} is not a number from 0 to 65535")
        return cls(host, int(port_text))
