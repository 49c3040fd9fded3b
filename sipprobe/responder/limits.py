"""What one source may ask of the responder, and the accounting that enforces it.

The responder is meant to face the internet, where SIP scanners arrive within minutes. Every
resource a request can make it hold is bounded here: simultaneous calls, new calls per second
and dialogs not yet confirmed by ACK per source address, TCP connections per source and their
idle time, message size. A source is an IP address (ports are free for an attacker to vary).

Pure code: time is passed in, nothing is read from a clock here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

# A source table holds at most this many addresses; past it, unknown sources are refused
# until idle entries can be dropped (a spoofed flood cannot grow the table without bound).
MAX_SOURCES = 20_000


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits with their command-line defaults."""

    max_calls: int = 200  # simultaneous calls; beyond: 486 Busy Here
    calls_per_s_per_source: float = 10.0  # sustained new-call rate per source; beyond: 503
    call_burst_per_source: int = 20  # calls a source may start at once before the rate applies
    unconfirmed_per_source: int = 8  # INVITEs ringing or answered but not ACKed yet; beyond: 503
    max_call_s: float = 600.0  # a call is ended with BYE after this long
    tcp_per_source: int = 8  # TCP/TLS connections per source; beyond: closed at accept
    tcp_total: int = 512  # TCP/TLS connections in all
    tcp_idle_s: float = 30.0  # a connection without traffic (and no call on it) is closed
    max_message_bytes: int = 8192  # larger SIP messages are dropped (TCP: connection closed)
    inband_calls: int = 50  # calls whose G.711 audio is searched for DTMF tones at once
    retry_after_s: int = 5  # Retry-After of a 503 or 486


class Refusal(enum.Enum):
    """Why an INVITE is refused, with the response that says so."""

    BUSY = (486, "Busy Here")
    RATE = (503, "Call Rate Exceeded")
    UNCONFIRMED = (503, "Too Many Unconfirmed Calls")
    SOURCES = (503, "Too Many Sources")
    MEDIA = (503, "No Media Port")
    STOPPING = (503, "Shutting Down")

    @property
    def code(self) -> int:
        return self.value[0]

    @property
    def reason(self) -> str:
        return self.value[1]


class _Source:
    __slots__ = ("stamp", "tcp", "tokens", "unconfirmed")

    def __init__(self, tokens: float, now: float) -> None:
        self.tokens = tokens
        self.stamp = now
        self.unconfirmed = 0
        self.tcp = 0


class SourceTable:
    """Per source address: a token bucket of new calls, unconfirmed dialogs, TCP connections."""

    def __init__(self, limits: Limits, max_sources: int = MAX_SOURCES) -> None:
        self._limits = limits
        self._max_sources = max_sources
        self._sources: dict[str, _Source] = {}

    def __len__(self) -> int:
        return len(self._sources)

    def _get(self, address: str, now: float) -> _Source | None:
        source = self._sources.get(address)
        if source is None:
            if len(self._sources) >= self._max_sources:
                self.prune(now)
                if len(self._sources) >= self._max_sources:
                    return None
            source = _Source(float(self._limits.call_burst_per_source), now)
            self._sources[address] = source
        return source

    def admit_call(self, address: str, now: float) -> Refusal | None:
        """Take a new-call token and check the unconfirmed count; None means admitted."""
        source = self._get(address, now)
        if source is None:
            return Refusal.SOURCES
        limits = self._limits
        source.tokens = min(
            float(limits.call_burst_per_source),
            source.tokens + (now - source.stamp) * limits.calls_per_s_per_source,
        )
        source.stamp = now
        if source.tokens < 1.0:
            return Refusal.RATE
        source.tokens -= 1.0
        if source.unconfirmed >= limits.unconfirmed_per_source:
            return Refusal.UNCONFIRMED
        return None

    def add_unconfirmed(self, address: str, now: float) -> None:
        source = self._get(address, now)
        if source is not None:
            source.unconfirmed += 1

    def remove_unconfirmed(self, address: str) -> None:
        source = self._sources.get(address)
        if source is not None and source.unconfirmed > 0:
            source.unconfirmed -= 1

    def open_tcp(self, address: str, now: float) -> bool:
        """Count a new connection from ``address``; False when it must be refused."""
        source = self._get(address, now)
        if source is None or source.tcp >= self._limits.tcp_per_source:
            return False
        source.tcp += 1
        return True

    def close_tcp(self, address: str) -> None:
        source = self._sources.get(address)
        if source is not None and source.tcp > 0:
            source.tcp -= 1

    def unconfirmed(self, address: str) -> int:
        source = self._sources.get(address)
        return 0 if source is None else source.unconfirmed

    def tcp(self, address: str) -> int:
        source = self._sources.get(address)
        return 0 if source is None else source.tcp

    def prune(self, now: float) -> None:
        """Forget sources that hold nothing and whose bucket has refilled."""
        limits = self._limits
        refill_s = limits.call_burst_per_source / max(limits.calls_per_s_per_source, 1e-9)
        idle = [
            address
            for address, source in self._sources.items()
            if source.unconfirmed == 0 and source.tcp == 0 and now - source.stamp >= refill_s
        ]
        for address in idle:
            del self._sources[address]


@dataclass(slots=True)
class Counters:
    """What happened, as numbers: the responder keeps these, not the messages."""

    requests: int = 0
    not_sip: int = 0
    oversize: int = 0
    calls: int = 0
    refused_busy: int = 0
    refused_rate: int = 0
    refused_unconfirmed: int = 0
    refused_other: int = 0
    challenged: int = 0
    unacked: int = 0
    tcp_refused: int = 0
    tcp_idle_closed: int = 0
    rtp_dropped: int = 0
    dtmf_digits: int = 0  # received, RFC 4733, SIP INFO and in-band
    inband_unchecked: int = 0  # G.711 calls not searched for tones: inband_calls were busy
    session_expired: int = 0  # calls ended because no session refresh came (RFC 4028)

    def refused(self, refusal: Refusal) -> None:
        if refusal is Refusal.BUSY:
            self.refused_busy += 1
        elif refusal is Refusal.RATE:
            self.refused_rate += 1
        elif refusal is Refusal.UNCONFIRMED:
            self.refused_unconfirmed += 1
        else:
            self.refused_other += 1

    def line(self) -> str:
        return " ".join(f"{field.name}={getattr(self, field.name)}" for field in fields(self))
