"""How long the path keeps an idle UDP mapping open (the NAT binding lifetime).

A NAT that re-creates an expired mapping usually gives it the same public port again (Linux
does), so asking again from the same socket after the idle time proves nothing: the new
mapping answers as well as the old one would have. Instead, as RFC 5780 does with STUN, the
probe asks from a second socket and has the answer sent to the first socket's mapping:

1. socket A sends OPTIONS (with ``rport``); the answer's Via ``received``/``rport`` is A's
   public address and port, the mapping;
2. A stays idle for the interval;
3. socket B sends OPTIONS whose Via sent-by is A's mapping, without ``rport``: the far end
   answers to the source address and the Via port (RFC 3261 18.2.2), i.e. to A's mapping;
4. the answer reaches A only while the mapping is open.

Intervals grow until the mapping is gone or the idle time would exceed the bound. A far end
that answers B's own source instead (a forced ``rport``) cannot be used this way; the result
says so. Any SIP server that follows RFC 3261 in its response routing will do.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.nat import BindingProbe
from sipprobe.signalling.options import (
    Request,
    build_request,
    udp_transaction,
)
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.message import parse_message
from sipprobe.sip.uri import SipUri

ANSWER_WAIT_S = 2.0
_RETRANSMIT_S = 0.5


@dataclass(frozen=True, slots=True)
class BindingOutcome:
    lower_s: float | None  # the longest idle time the mapping survived
    upper_s: float | None  # the shortest idle time after which it was gone
    probes: tuple[BindingProbe, ...]
    error: str | None  # why the measurement stopped early or could not start
    events: tuple[int, ...]


def _mapping(via: str, local: tuple[str, int]) -> tuple[str, int]:
    params = {}
    for raw in via.split(";")[1:]:
        name, _, value = raw.strip().partition("=")
        params[name.lower()] = value
    host = params.get("received") or local[0]
    rport = params.get("rport", "")
    return host, int(rport) if rport.isdigit() else local[1]


def measure_binding(
    target: SipUri,
    intervals_s: tuple[float, ...],
    max_total_s: float,
    timeline: Timeline,
    sleep: Callable[[float], None] = time.sleep,
) -> BindingOutcome:
    """Measure the UDP binding lifetime towards ``target`` (see the module docstring)."""
    first_event = len(timeline)
    try:
        infos = socket.getaddrinfo(
            target.host, target.effective_port("udp"), socket.AF_UNSPEC, socket.SOCK_DGRAM
        )
    except socket.gaierror as exc:
        return BindingOutcome(None, None, (), f"cannot resolve {target.host}: {exc}", ())
    family, _, _, _, raw_address = infos[0]
    address = (str(raw_address[0]), int(raw_address[1]))
    peer = str(Endpoint(*address))
    probes: list[BindingProbe] = []
    lower: float | None = None
    upper: float | None = None
    error: str | None = None
    idle_total = 0.0
    with socket.socket(family, socket.SOCK_DGRAM) as held:
        held.connect(address)
        local = held.getsockname()[:2]
        for interval in intervals_s:
            if idle_total + interval > max_total_s:
                break
            text, branch = build_request(target, "udp", local, Request())
            refresh = udp_transaction(
                held, peer, text, branch, "OPTIONS", time.monotonic() + 4.0, timeline
            )
            if refresh.status_code is None:
                error = f"the far end stopped answering: {refresh.error}"
                break
            via = parse_message(refresh.received).header("via") or ""
            mapping = _mapping(via, local)
            sleep(interval)
            idle_total += interval
            reached = _answer_via_mapping(held, target, family, address, mapping, peer, timeline)
            if reached == "other":
                error = (
                    "the far end answers the source of a request whatever its Via says "
                    "(forced rport): the binding lifetime cannot be measured against it"
                )
                break
            alive = reached == "held"
            probes.append(BindingProbe(interval, f"{mapping[0]}:{mapping[1]}", alive))
            if not alive:
                upper = interval
                break
            lower = interval
    return BindingOutcome(
        lower, upper, tuple(probes), error, tuple(range(first_event, len(timeline)))
    )


def _answer_via_mapping(
    held: socket.socket,
    target: SipUri,
    family: int,
    address: tuple[str, int],
    mapping: tuple[str, int],
    peer: str,
    timeline: Timeline,
) -> str:
    """Ask from a fresh socket for an answer to ``mapping``; which socket got it:
    ``held``, ``other`` or ``none``."""
    with socket.socket(family, socket.SOCK_DGRAM) as asker:
        asker.connect(address)
        text, branch = build_request(
            target, "udp", asker.getsockname()[:2], Request(), via=mapping, rport=False
        )
        payload = text.encode()
        deadline = time.monotonic() + ANSWER_WAIT_S
        next_send = time.monotonic()
        while (now := time.monotonic()) < deadline:
            if now >= next_send:
                asker.send(payload)
                timeline.add("tx", "UDP", peer, text, now)
                next_send = now + _RETRANSMIT_S
            for sock, name in ((held, "held"), (asker, "other")):
                if _received(sock, branch, peer, timeline):
                    return name
            time.sleep(0.02)
    return "none"


def _received(sock: socket.socket, branch: str, peer: str, timeline: Timeline) -> bool:
    sock.setblocking(False)
    try:
        while True:
            try:
                data = sock.recv(65535)
            except (BlockingIOError, ConnectionRefusedError):
                return False
            reply = data.decode("utf-8", "replace")
            timeline.add("rx", "UDP", peer, reply)
            if branch in reply.split("\r\n\r\n", 1)[0]:
                return True
    finally:
        sock.setblocking(True)
