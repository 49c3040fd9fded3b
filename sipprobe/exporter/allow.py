"""Which targets an exporter may probe: networks and host names from its config.

An exporter reachable by others must not be a SIP-call relay for whoever finds it. A target
is allowed when its host matches a host-name pattern (``sbc.example.com``,
``*.trunks.example.com``), or when the host is an address, or a name whose every address,
resolved here, lies in an allowed network. A name is resolved once, before the probe; the
child resolves it again, so a name an attacker controls belongs in no allow-list (list the
networks of the fleet, or the exact names of its SBCs).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Sequence[str]]


def resolve(host: str) -> tuple[str, ...]:
    """Every address ``host`` resolves to; empty when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
    except (socket.gaierror, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class AllowList:
    """Allowed networks and host-name patterns; ``None`` as a whole means any target."""

    networks: tuple[Network, ...]
    names: tuple[str, ...]  # lower case, fnmatch patterns

    @classmethod
    def parse(cls, entries: Sequence[str]) -> AllowList:
        """Entries are networks (``192.0.2.0/24``, ``2001:db8::/32``), addresses, or host
        names with an optional leading ``*.``. Raises ``ValueError`` naming a bad entry."""
        networks: list[Network] = []
        names: list[str] = []
        for entry in entries:
            text = entry.strip()
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            pattern = text.lower().rstrip(".")
            bare = pattern.removeprefix("*.")
            if not bare or not all(part and _label(part) for part in bare.split(".")):
                raise ValueError(f"not a network, address or host name: {entry!r}")
            names.append(pattern)
        return cls(tuple(networks), tuple(names))

    def refusal(self, host: str, resolver: Resolver = resolve) -> str | None:
        """Why ``host`` may not be probed, or ``None`` when it may."""
        name = host.lower().rstrip(".")
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.names):
            return None
        try:
            addresses: Sequence[str] = (str(ipaddress.ip_address(name)),)
        except ValueError:
            addresses = resolver(name)
            if not addresses:
                return f"{host} is not in the allow-list and does not resolve"
        outside = [a for a in addresses if not self._in_networks(a)]
        if outside:
            return f"{host} ({', '.join(outside)}) is not in the allow-list"
        return None

    def _in_networks(self, address: str) -> bool:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        return any(parsed in network for network in self.networks)


def _label(part: str) -> bool:
    return part.replace("-", "").isalnum() and not part.startswith("-") and len(part) <= 63
