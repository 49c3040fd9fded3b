"""What a nat_check step measured: each request and its answer, and the UDP binding lifetime.

The records are the evidence of docs/demarc.md's NAT rules: the request as sent and as the
mirror received it, the lines a SIP ALG rewrote, the far end's view of the probe's address,
and each idle interval tried on a UDP mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BindingMeasurement",
    "BindingProbe",
    "CallAlgCheck",
    "NatCheckResult",
    "NatExchange",
    "PrivateAddress",
    "Rewrite",
]


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One line that differs: ``before`` None when the path added it, ``after`` None when it
    removed it. ``part`` names a header (``Via``) or an SDP line type (``SDP c=``)."""

    part: str
    before: str | None
    after: str | None

    def describe(self) -> str:
        before = self.before if self.before is not None else "(absent)"
        after = self.after if self.after is not None else "(removed)"
        return f"{self.part}: {before} -> {after}"


@dataclass(frozen=True, slots=True)
class PrivateAddress:
    """A private address named in an answer, and which kind (``rfc1918``, ``cgnat``...)."""

    address: str
    kind: str


@dataclass(frozen=True, slots=True)
class NatExchange:
    """One request with the probe's SDP offer, and what its answer says about the path."""

    transport: str
    method: str
    status_code: int | None
    reason: str
    error: str | None
    local: str  # the probe's address and port, "addr:port"
    via_received: str | None
    via_rport: int | None
    seen_by_far_end: str | None  # the mirror's X-Sipprobe-Source
    mirrored: bool
    rewrites: tuple[Rewrite, ...]
    private_in_answer: tuple[PrivateAddress, ...]
    sent: str  # the request exactly as it went out ("" when none did)
    received: str  # the final response exactly as it came in ("" when none came)
    mirrored_request: str | None


@dataclass(frozen=True, slots=True)
class BindingProbe:
    """One idle interval tried: was the mapping still open after ``idle_s``?"""

    idle_s: float
    mapping: str  # the public address and port before the idle time
    alive: bool


@dataclass(frozen=True, slots=True)
class BindingMeasurement:
    """The UDP binding lifetime: survived ``lower_s`` idle, gone after ``upper_s``."""

    lower_s: float | None
    upper_s: float | None
    error: str | None
    probes: tuple[BindingProbe, ...]
    elapsed_s: float
    intervals_s: tuple[float, ...]
    max_total_s: float


@dataclass(frozen=True, slots=True)
class NatCheckResult:
    """Every exchange, the binding measurement and the summary flags of one nat_check."""

    nat_detected: bool
    alg_detected: bool
    mirror: bool
    binding_lifetime_s: float | None
    binding_lifetime_upper_s: float | None
    keepalive_s: float | None
    register_expires_s: int | None
    exchanges: tuple[NatExchange, ...]
    binding: BindingMeasurement | None


@dataclass(frozen=True, slots=True)
class CallAlgCheck:
    """A call's INVITE as a sipprobe responder received it, against the INVITE the probe sent.

    The responder's 200 OK carries the INVITE's Via, Contact and SDP lines as they arrived
    (``X-Sipprobe-Received``) and the address the INVITE came from (``X-Sipprobe-Source``);
    ``rewrites`` are the lines a device on the way changed (nat/diff.py, ``diff_as_received``).
    Via headers that proxies put in front of the probe's own are ``proxies``, not rewrites.
    """

    seen_from: str | None  # X-Sipprobe-Source: where the responder saw the INVITE come from
    public_address: str | None  # the address the platform saw the probe at (host only)
    proxies: tuple[str, ...]  # Via values added in front of the probe's own, top first
    rewrites: tuple[Rewrite, ...]
    evidence: tuple[int, ...]  # SIP timeline indexes: the INVITE sent and the 200 OK
    error: str | None  # why the received lines could not be compared
