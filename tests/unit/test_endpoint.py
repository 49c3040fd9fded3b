"""Endpoint: one parse and one format of host:port."""

from __future__ import annotations

import pytest

from sipprobe.cli.responder import parse_listen
from sipprobe.errors import UsageError
from sipprobe.model.endpoint import Endpoint


@pytest.mark.parametrize(
    ("text", "host", "port", "written"),
    [
        ("192.0.2.1:5060", "192.0.2.1", 5060, "192.0.2.1:5060"),
        ("192.0.2.1", "192.0.2.1", None, "192.0.2.1"),
        ("[2001:db8::1]:5062", "2001:db8::1", 5062, "[2001:db8::1]:5062"),
        ("[::1]", "::1", None, "[::1]"),
        ("2001:db8::1", "2001:db8::1", None, "[2001:db8::1]"),
        ("sip.example.net:5061", "sip.example.net", 5061, "sip.example.net:5061"),
        (" 10.0.0.1:0 ", "10.0.0.1", 0, "10.0.0.1:0"),
    ],
)
def test_endpoint_parse_and_format(text: str, host: str, port: int | None, written: str) -> None:
    endpoint = Endpoint.parse(text)
    assert (endpoint.host, endpoint.port) == (host, port)
    assert str(endpoint) == written
    assert Endpoint.parse(str(endpoint)) == endpoint


def test_endpoint_default_port_only_when_none_is_written() -> None:
    assert Endpoint.parse("example.net", 5060) == Endpoint("example.net", 5060)
    assert Endpoint.parse("example.net:5080", 5060) == Endpoint("example.net", 5080)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no host"),
        (":5060", "no host"),
        ("[::1", "does not close"),
        ("[::1]x", "after the bracket"),
        ("host:port", "not a number"),
        ("host:70000", "not a number"),
        ("host:-1", "not a number"),
    ],
)
def test_endpoint_parse_rejects_with_a_sentence(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Endpoint.parse(text)


@pytest.mark.parametrize(
    ("text", "listen"),
    [
        ("127.0.0.1:5062", ("127.0.0.1", 5062)),
        ("[::1]:5062", ("::1", 5062)),
        (":5062", ("0.0.0.0", 5062)),
    ],
)
def test_parse_listen_host_and_port(text: str, listen: tuple[str, int]) -> None:
    assert parse_listen(text) == listen


@pytest.mark.parametrize("text", ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:x", "[::1", "::1"])
def test_parse_listen_rejects_what_is_not_host_and_port(text: str) -> None:
    with pytest.raises(UsageError, match="--listen takes HOST:PORT"):
        parse_listen(text)
