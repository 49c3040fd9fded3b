"""The nat_check's pure parts: the sent/received diff, the mirror's answer, the findings."""

import base64
from dataclasses import replace
from typing import Any

import pytest
from media_samples import register_detail

from sipprobe.errors import ScenarioError
from sipprobe.model.nat import (
    BindingMeasurement,
    NatCheckResult,
    NatExchange,
    PrivateAddress,
    Rewrite,
)
from sipprobe.model.results import Severity, Side, StepResult
from sipprobe.model.steps import NatCheckDetail
from sipprobe.nat.check import describe, nat_seen
from sipprobe.nat.diff import (
    address_kind,
    diff_messages,
    mirrored_request,
    private_addresses,
)
from sipprobe.nat.findings import NatFinding, nat_findings
from sipprobe.scenario.loader import parse_scenario
from sipprobe.scenario.model import NatCheckStep
from sipprobe.signalling.options import OptionsOutcome, Request, build_request
from sipprobe.sip.message import parse_message
from sipprobe.sip.mirror import mirror_response, response_address
from sipprobe.sip.uri import parse_uri
from sipprobe.verdict.policy import decide

SENT = (
    "INVITE sip:10.0.0.9:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKabc;rport\r\n"
    "From: <sip:sipprobe@192.168.1.20>;tag=1\r\n"
    "To: <sip:10.0.0.9:5060>\r\n"
    "Call-ID: c1@sipprobe\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:sipprobe@192.168.1.20:5062;transport=udp>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 10\r\n\r\n"
    "v=0\r\no=sipprobe 1 1 IN IP4 192.168.1.20\r\nc=IN IP4 192.168.1.20\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
)
ARRIVED = (
    SENT.replace("192.168.1.20:5062", "203.0.113.7:5062")
    .replace("c=IN IP4 192.168.1.20", "c=IN IP4 203.0.113.7")
    .replace("49170", "1030")
    .replace("Content-Length: 10", "Content-Length: 12")
    .replace("Call-ID: c1@sipprobe\r\n", "Call-ID: c1@sipprobe\r\nX-Alg: 1\r\n")
)


def test_diff_messages_alg_rewrites_exactly() -> None:
    assert diff_messages(SENT, ARRIVED) == (
        Rewrite(
            "Via",
            "SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKabc;rport",
            "SIP/2.0/UDP 203.0.113.7:5062;branch=z9hG4bKabc;rport",
        ),
        Rewrite(
            "Contact",
            "<sip:sipprobe@192.168.1.20:5062;transport=udp>",
            "<sip:sipprobe@203.0.113.7:5062;transport=udp>",
        ),
        Rewrite("X-Alg", None, "1"),
        Rewrite("SDP c=", "c=IN IP4 192.168.1.20", "c=IN IP4 203.0.113.7"),
        Rewrite("SDP m=", "m=audio 49170 RTP/AVP 0", "m=audio 1030 RTP/AVP 0"),
    )


def test_diff_messages_identical_is_empty_and_removed_lines_show() -> None:
    assert diff_messages(SENT, SENT) == ()
    stripped = SENT.replace("Contact: <sip:sipprobe@192.168.1.20:5062;transport=udp>\r\n", "")
    stripped = stripped.replace("c=IN IP4 192.168.1.20\r\n", "")
    assert diff_messages(SENT, stripped) == (
        Rewrite("Contact", "<sip:sipprobe@192.168.1.20:5062;transport=udp>", None),
        Rewrite("SDP c=", "c=IN IP4 192.168.1.20", None),
    )
    assert Rewrite("SDP c=", "c=x", None).describe() == "SDP c=: c=x -> (removed)"


def test_diff_messages_rejects_non_sip() -> None:
    with pytest.raises(ValueError, match="not a SIP start line"):
        diff_messages(SENT, "garbage\r\n\r\n")


def test_mirror_response_carries_request_and_routes_by_rport() -> None:
    raw = SENT.replace("INVITE", "OPTIONS").encode()
    request = parse_message(raw.decode())
    response = parse_message(mirror_response(raw, request, ("198.51.100.1", 40000)).decode())
    assert response.status_code == 200
    assert response.header("via") == (
        "SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKabc;received=198.51.100.1;rport=40000"
    )
    assert response.header("x-sipprobe-source") == "198.51.100.1:40000"
    assert mirrored_request(response) == raw.decode()
    assert response_address(request, ("198.51.100.1", 40000)) == ("198.51.100.1", 40000)
    no_rport = parse_message(raw.decode().replace(";rport", ""))
    assert response_address(no_rport, ("198.51.100.1", 40000)) == ("198.51.100.1", 5062)
    invite = parse_message(SENT)
    answer = parse_message(mirror_response(SENT.encode(), invite, ("1.2.3.4", 5)).decode())
    assert (answer.status_code, answer.method) == (488, "INVITE")
    ack = parse_message(SENT.replace("INVITE", "ACK"))
    assert mirror_response(b"", ack, ("1.2.3.4", 5)) is None


def test_mirrored_request_plain_base64_and_absent() -> None:
    plain = parse_message("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nc: message/sip\r\n\r\nX")
    assert mirrored_request(plain) == "X"
    encoded = base64.b64encode(b"OPTIONS sip:a SIP/2.0\r\n\r\n").decode()
    with_cte = parse_message(
        "SIP/2.0 200 OK\r\nContent-Type: message/sip\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}"
    )
    assert mirrored_request(with_cte) == "OPTIONS sip:a SIP/2.0\r\n\r\n"
    broken = parse_message(
        "SIP/2.0 200 OK\r\nContent-Type: message/sip\r\nContent-Transfer-Encoding: base64"
        "\r\n\r\n!!!"
    )
    assert mirrored_request(broken) is None
    assert mirrored_request(parse_message("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n")) is None


def test_private_addresses_kinds() -> None:
    text = "c=IN IP4 10.1.2.3 via 100.64.0.9 and 8.8.8.8 and [fd00::1] and 192.168.0.1:5060"
    assert private_addresses(text) == (
        ("10.1.2.3", "RFC 1918"),
        ("100.64.0.9", "RFC 6598"),
        ("192.168.0.1", "RFC 1918"),
        ("fd00::1", "ULA"),
    )
    assert address_kind("172.31.255.255") == "RFC 1918"
    assert address_kind("172.32.0.1") is None


def _outcome(received: str, local: str = "192.168.1.20:5062") -> OptionsOutcome:
    return OptionsOutcome(
        200, "OK", 1.0, 0, True, None, None, None, (), (), (), SENT, received, local
    )


def test_describe_finds_nat_from_via_and_private_answer_addresses() -> None:
    answer = (
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKabc;"
        "received=203.0.113.7;rport=1024\r\nCSeq: 1 OPTIONS\r\n"
        "Contact: <sip:pbx@172.16.5.5:5060>\r\n\r\n"
    )
    exchange = describe("udp", "OPTIONS", _outcome(answer))
    assert (exchange.via_received, exchange.via_rport) == ("203.0.113.7", 1024)
    assert exchange.private_in_answer == (PrivateAddress("172.16.5.5", "RFC 1918"),)
    assert nat_seen(exchange) is True
    same = answer.replace("received=203.0.113.7;rport=1024", "received=192.168.1.20;rport=5062")
    assert nat_seen(describe("udp", "OPTIONS", _outcome(same))) is False


def _exchange() -> NatExchange:
    return NatExchange(
        transport="udp",
        method="OPTIONS",
        status_code=200,
        reason="OK",
        error=None,
        local="192.168.1.20:5062",
        via_received=None,
        via_rport=None,
        seen_by_far_end="203.0.113.7:5062",
        mirrored=True,
        rewrites=(Rewrite("Via", "A", "B"),),
        private_in_answer=(),
        sent=SENT,
        received="",
        mirrored_request=None,
    )


def _binding(lower_s: float | None, upper_s: float | None) -> BindingMeasurement:
    return BindingMeasurement(lower_s, upper_s, None, (), 60.0, (20.0, 40.0), 180.0)


def _detail(**overrides: Any) -> NatCheckResult:
    result = NatCheckResult(
        nat_detected=True,
        alg_detected=True,
        mirror=True,
        binding_lifetime_s=20.0,
        binding_lifetime_upper_s=40.0,
        keepalive_s=30.0,
        register_expires_s=None,
        exchanges=(_exchange(),),
        binding=_binding(20.0, 40.0),
    )
    return replace(result, **overrides)


def test_nat_findings_exact() -> None:
    assert nat_findings(_detail(), (3600, 3600)) == [
        NatFinding(
            Severity.WARNING,
            Side.UNKNOWN,  # "B" does not carry the address the mirror saw
            "sip-alg-rewrite",
            "SIP ALG rewrote 1 line of the probe's requests: Via (OPTIONS over UDP): A -> B; "
            "the rewritten values do not carry the address the far end saw the request come "
            "from (203.0.113.7), so the evidence does not say which device on the path "
            "rewrote it",
        ),
        NatFinding(
            Severity.INFO,
            Side.CUSTOMER_NETWORK,
            "nat-detected",
            "NAT on the path: the probe sent from 192.168.1.20:5062, the far end saw "
            "203.0.113.7:5062 (UDP)",
        ),
        NatFinding(
            Severity.WARNING,
            Side.CUSTOMER_NETWORK,
            "binding-lifetime-short",
            "the path closes an idle UDP mapping within 40 s (survived 20 s idle, gone after "
            "40 s); RFC 4787 asks for at least 120 s",
        ),
        NatFinding(
            Severity.WARNING,
            Side.CUSTOMER_NETWORK,
            "binding-shorter-than-refresh",
            "the keepalive interval of 30 s is longer than the UDP binding lifetime (at most "
            "40 s): between refreshes the platform cannot reach the device; keep the interval "
            "below 20 s or fix the router's UDP timeout",
        ),
        NatFinding(
            Severity.WARNING,
            Side.CUSTOMER_NETWORK,
            "binding-shorter-than-refresh",
            "the registration refresh of 3600 s is longer than the UDP binding lifetime (at "
            "most 40 s): between refreshes the platform cannot reach the device; keep the "
            "interval below 20 s or fix the router's UDP timeout",
        ),
    ]


def test_nat_findings_one_alg_is_one_grouped_finding() -> None:
    options = replace(
        _exchange(),
        rewrites=diff_messages(SENT, ARRIVED)[:2],  # Via and Contact
    )
    invite = replace(
        _exchange(),
        method="INVITE",
        status_code=488,
        rewrites=(Rewrite("SDP c=", "c=IN IP4 192.168.1.20", "c=IN IP4 203.0.113.7"),),
    )
    found = nat_findings(_detail(exchanges=(options, invite), binding=None, keepalive_s=None), ())
    assert [f.code for f in found] == ["sip-alg-rewrite", "nat-detected"]
    assert found[0] == NatFinding(
        Severity.WARNING,
        Side.CUSTOMER_NETWORK,
        "sip-alg-rewrite",
        "SIP ALG rewrote 3 lines of the probe's requests: Via (OPTIONS over UDP): "
        "SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bKabc;rport -> SIP/2.0/UDP "
        "203.0.113.7:5062;branch=z9hG4bKabc;rport; Contact (OPTIONS over UDP): "
        "<sip:sipprobe@192.168.1.20:5062;transport=udp> -> "
        "<sip:sipprobe@203.0.113.7:5062;transport=udp>; SDP c= (INVITE over UDP): "
        "c=IN IP4 192.168.1.20 -> c=IN IP4 203.0.113.7; the rewritten values carry "
        "203.0.113.7, the address the far end saw the request come from, so the NAT that "
        "owns that address rewrote it: the customer's router",
    )


def test_nat_findings_long_binding_is_only_noted() -> None:
    detail = _detail(
        nat_detected=False, exchanges=(), binding=_binding(60.0, None), keepalive_s=None
    )
    assert nat_findings(detail, ()) == [
        NatFinding(
            Severity.INFO,
            Side.CUSTOMER_NETWORK,
            "binding-lifetime",
            "the path kept an idle UDP mapping open for at least 60 s (the longest idle time "
            "tried)",
        )
    ]


def test_policy_nat_check_step_feeds_the_verdict() -> None:
    step = StepResult(
        0, "nat_check", "NAT", True, 200, "OK", "network", {}, NatCheckDetail(_detail())
    )
    register = StepResult(
        1,
        "register",
        "REGISTER",
        True,
        200,
        "OK",
        "network",
        {},
        register_detail(expires_s=300, requested_expires_s=300),
    )
    verdict = decide((step, register))
    assert verdict.messaging.value == "degraded"
    summaries = [f.summary for f in verdict.findings if f.code == "binding-shorter-than-refresh"]
    assert any("registration refresh of 300 s" in s for s in summaries)
    nothing = NatCheckDetail(_detail(exchanges=(), binding=None, nat_detected=False))
    silent = StepResult(0, "nat_check", "NAT", False, None, "no response", "none", {}, nothing)
    assert decide((silent,)).findings[0].code == "nat-check-no-answer"


def test_scenario_nat_check_step_and_its_errors() -> None:
    text = (
        "target: sip:pbx.example.com\nsteps:\n"
        "  - nat_check: {transports: [udp], binding_intervals_s: [2, 4], binding_max_s: 10,"
        " keepalive_s: 25}\n"
        "  - nat_check\n"
    )
    scenario = parse_scenario(text, "s.yaml", {})
    assert scenario.steps == (
        NatCheckStep(
            transports=("udp",), binding_intervals_s=(2.0, 4.0), binding_max_s=10, keepalive_s=25
        ),
        NatCheckStep(),
    )
    # the step's default is a short binding measurement (spec: binding_max_s 30)
    assert (NatCheckStep().binding_max_s, NatCheckStep().binding_intervals_s) == (
        30.0,
        (5.0, 10.0, 15.0),
    )
    bad = "target: sip:pbx.example.com\nsteps:\n  - nat_check: {transports: [tls]}\n"
    with pytest.raises(ScenarioError, match=r"s.yaml:3: steps\[0\].nat_check.transports: 'tls'"):
        parse_scenario(bad, "s.yaml", {})


@pytest.mark.parametrize(
    ("via", "port"),
    [
        ("SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bK1", 5070),
        ("SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1", 5060),
        ("SIP/2.0/UDP 2001:db8::1;branch=z9hG4bK1", 5060),  # no brackets: no port either
        ("SIP/2.0/UDP host.example:99999;branch=z9hG4bK1", 5060),
    ],
)
def test_response_address_reads_the_sent_by_port(via: str, port: int) -> None:
    request = parse_message(f"OPTIONS sip:x SIP/2.0\r\nVia: {via}\r\nCSeq: 1 OPTIONS\r\n\r\n")
    assert response_address(request, ("2001:db8::9", 4000)) == ("2001:db8::9", port)


def test_build_request_writes_ipv6_sent_by_and_contact_in_brackets() -> None:
    text, _ = build_request(
        parse_uri("sip:[2001:db8::2]:5060"), "udp", ("2001:db8::1", 4000), Request()
    )
    assert "Via: SIP/2.0/UDP [2001:db8::1]:4000;branch=" in text
    assert "Contact: <sip:sipprobe@[2001:db8::1]:4000;transport=udp>" in text
    asked, _ = build_request(
        parse_uri("sip:192.0.2.2"), "udp", ("10.0.0.1", 4000), Request(), via=("2001:db8::7", 9)
    )
    assert "Via: SIP/2.0/UDP [2001:db8::7]:9;branch=" in asked
