"""SIP URI parsing."""

from __future__ import annotations

import pytest

from sipprobe.errors import UsageError
from sipprobe.sip.uri import parse_uri


def test_parse_uri_full() -> None:
    uri = parse_uri("sip:alice@pbx.example.com:5080;transport=TCP;lr")
    assert (uri.user, uri.host, uri.port, uri.transport) == (
        "alice",
        "pbx.example.com",
        5080,
        "tcp",
    )
    assert uri.param("lr") == ""
    assert str(uri) == "sip:alice@pbx.example.com:5080;transport=TCP;lr"


def test_parse_uri_bare_host_and_defaults() -> None:
    uri = parse_uri("pbx.example.com")
    assert uri.scheme == "sip"
    assert uri.effective_port() == 5060
    assert parse_uri("sips:pbx.example.com").transport == "tls"
    assert parse_uri("sips:pbx.example.com").effective_port() == 5061


def test_parse_uri_ipv6() -> None:
    uri = parse_uri("sip:echo@[::1]:5062")
    assert uri.host == "::1"
    assert uri.is_ipv6
    assert uri.hostport() == "[::1]:5062"
    assert str(uri.with_transport("tcp")) == "sip:echo@[::1]:5062;transport=tcp"


def test_with_transport_udp_drops_parameter() -> None:
    assert str(parse_uri("sip:h;transport=tcp").with_transport("udp")) == "sip:h"


@pytest.mark.parametrize(
    "text", ["sip:", "sip:host:99999", "sip:host;transport=sctp", "http://x", "sip:a b"]
)
def test_parse_uri_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_uri(text)
