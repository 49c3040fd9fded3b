"""The nat_check step: what the customer's router does to SIP, measured from the probe.

Per transport, one OPTIONS with an SDP offer (the probe's own address in ``c=``/``o=`` and an
RTP port in ``m=``, so an ALG has something to rewrite). Any SIP server tells NAT apart from
no NAT (its Via ``received``/``rport`` against the probe's address and port); a mirroring
responder (``sipprobe responder --mirror``) also returns the request as it arrived, which is
compared line by line with what was sent. A mirror also gets an INVITE with the same offer:
the kernel's ALG rewrites SDP only in INVITE-family requests, and the mirror never sets up a
call (it answers 488, which the probe ACKs). Then the UDP binding lifetime (binding.py).
"""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass, replace

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.nat import (
    BindingMeasurement,
    NatCheckResult,
    NatExchange,
    PrivateAddress,
)
from sipprobe.nat.diff import (
    diff_messages,
    mirrored_request,
    private_addresses,
    via_parameters,
)
from sipprobe.signalling.binding import measure_binding
from sipprobe.signalling.options import OptionsOutcome, Request, TlsSettings, send_request
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.message import parse_message
from sipprobe.sip.mirror import SOURCE_HEADER
from sipprobe.sip.uri import SipUri

RTP_PORT_OFFERED = 49170


@dataclass(frozen=True, slots=True)
class NatCheckSettings:
    transports: tuple[str, ...] = ("udp", "tcp")
    timeout_s: float = 5.0
    binding_intervals_s: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0, 60.0, 90.0, 120.0)
    binding_max_s: float = 180.0  # total idle time; 0: no binding measurement
    keepalive_s: float | None = None  # the keepalive interval the customer's device uses
    register_expires_s: int | None = None  # its registration refresh


def sdp_offer(local_host: str) -> str:
    family = "IP6" if ":" in local_host else "IP4"
    session = secrets.randbelow(10**9)
    return (
        "v=0\r\n"
        f"o=sipprobe {session} 1 IN {family} {local_host}\r\n"
        "s=sipprobe nat-check\r\n"
        f"c=IN {family} {local_host}\r\n"
        "t=0 0\r\n"
        f"m=audio {RTP_PORT_OFFERED} RTP/AVP 0 8\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=sendrecv\r\n"
    )


def _local(text: str) -> Endpoint:
    """The probe's own address of an exchange ("" when it never had a socket)."""
    return Endpoint.parse(text) if text else Endpoint("")


def exchange(
    target: SipUri, transport: str, method: str, settings: NatCheckSettings, timeline: Timeline
) -> NatExchange:
    """One request with the SDP offer, and what its answer says about the path."""
    local_host = _local_host(target, transport)
    request = Request(method=method, body=sdp_offer(local_host))
    outcome = send_request(
        target.with_transport(transport),
        transport,
        settings.timeout_s,
        timeline,
        TlsSettings(verify=False),
        request,
    )
    return describe(transport, method, outcome)


def _local_host(target: SipUri, transport: str) -> str:
    """The address the kernel would send from towards the target (no packet is sent)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(
            target.host, target.effective_port(transport), socket.AF_UNSPEC, socket.SOCK_DGRAM
        )[0]
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            return str(sock.getsockname()[0])
    except OSError:  # the request itself will fail and say why
        return "0.0.0.0"


def describe(transport: str, method: str, outcome: OptionsOutcome) -> NatExchange:
    """The evidence of one exchange (pure: from the outcome's texts)."""
    exchange = NatExchange(
        transport=transport,
        method=method,
        status_code=outcome.status_code,
        reason=outcome.reason,
        error=outcome.error,
        local=outcome.local,
        via_received=None,
        via_rport=None,
        seen_by_far_end=None,
        mirrored=False,
        rewrites=(),
        private_in_answer=(),
        sent=outcome.sent,
        received=outcome.received,
        mirrored_request=None,
    )
    if outcome.status_code is None or not outcome.received:
        return exchange
    response = parse_message(outcome.received)
    params = via_parameters(response.header("via") or "")
    local_host = _local(outcome.local).host
    answer_text = "\n".join(f"{n}: {v}" for n, v in response.headers) + "\n" + response.body
    exchange = replace(
        exchange,
        via_received=params.get("received") or None,
        via_rport=int(params["rport"]) if params.get("rport", "").isdigit() else None,
        seen_by_far_end=response.header(SOURCE_HEADER.lower()),
        private_in_answer=tuple(
            PrivateAddress(address, kind)
            for address, kind in private_addresses(answer_text)
            if address != local_host
        ),
    )
    mirrored = mirrored_request(response)
    if mirrored is None:
        return exchange
    # the mirror's body is our own request: its private addresses are the probe's
    exchange = replace(exchange, mirrored=True, mirrored_request=mirrored, private_in_answer=())
    try:
        return replace(exchange, rewrites=diff_messages(outcome.sent, mirrored))
    except ValueError as exc:
        return replace(exchange, error=f"the mirrored request does not parse: {exc}")


def nat_seen(exchange: NatExchange) -> bool:
    """Did the far end see another address or port than the probe's own?"""
    local = _local(exchange.local)
    if exchange.seen_by_far_end:
        return exchange.seen_by_far_end != str(local)
    received, rport = exchange.via_received, exchange.via_rport
    return (received is not None and received != local.host) or (
        rport is not None and rport != local.port
    )


def run_nat_check(target: SipUri, settings: NatCheckSettings, timeline: Timeline) -> NatCheckResult:
    """Every exchange, the binding measurement and the summary flags."""
    exchanges: list[NatExchange] = []
    for transport in settings.transports:
        first = exchange(target, transport, "OPTIONS", settings, timeline)
        exchanges.append(first)
        if first.mirrored:
            exchanges.append(exchange(target, transport, "INVITE", settings, timeline))
    binding: BindingMeasurement | None = None
    answered = any(r.status_code is not None for r in exchanges)
    if settings.binding_max_s > 0 and "udp" in settings.transports and answered:
        started = time.monotonic()
        outcome = measure_binding(
            target, settings.binding_intervals_s, settings.binding_max_s, timeline
        )
        binding = BindingMeasurement(
            lower_s=outcome.lower_s,
            upper_s=outcome.upper_s,
            error=outcome.error,
            probes=outcome.probes,
            elapsed_s=round(time.monotonic() - started, 3),
            intervals_s=settings.binding_intervals_s,
            max_total_s=settings.binding_max_s,
        )
    alg = any(r.rewrites for r in exchanges)
    return NatCheckResult(
        nat_detected=alg or any(nat_seen(r) for r in exchanges if r.status_code),
        alg_detected=alg,
        mirror=any(r.mirrored for r in exchanges),
        binding_lifetime_s=binding.lower_s if binding else None,
        binding_lifetime_upper_s=binding.upper_s if binding else None,
        keepalive_s=settings.keepalive_s,
        register_expires_s=settings.register_expires_s,
        exchanges=tuple(exchanges),
        binding=binding,
    )
