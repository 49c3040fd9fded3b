"""Findings of a nat_check step: SIP ALG rewrites, NAT, private addresses, binding lifetime.

What the customer's router does to SIP is on the customer's side of the demarc: an ALG's
rewrites and a binding lifetime shorter than the 2 minutes RFC 4787 (REQ-5) asks for are
``customer-network`` warnings. NAT alone is normal and only noted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.model.nat import NatCheckResult
from sipprobe.model.outcome import Severity, Side

RFC4787_MIN_BINDING_S = 120.0


@dataclass(frozen=True, slots=True)
class NatFinding:
    severity: Severity
    side: Side
    code: str
    summary: str


def nat_findings(result: NatCheckResult, register_expires_s: tuple[int, ...]) -> list[NatFinding]:
    """Findings for one nat_check step; ``register_expires_s``: the refresh intervals of the
    run's registrations, compared with the measured binding lifetime."""
    found: list[NatFinding] = []
    for exchange in result.exchanges:
        where = f"{exchange.method} over {exchange.transport.upper()}"
        for rewrite in exchange.rewrites:
            before = rewrite.before if rewrite.before is not None else "(absent)"
            after = rewrite.after if rewrite.after is not None else "(removed)"
            found.append(
                NatFinding(
                    Severity.WARNING,
                    Side.CUSTOMER_NETWORK,
                    "sip-alg-rewrite",
                    f"SIP ALG rewrote {rewrite.part} ({where}): {before} -> {after}",
                )
            )
        for private in exchange.private_in_answer:
            found.append(
                NatFinding(
                    Severity.INFO,
                    Side.UNKNOWN,
                    "private-address-in-answer",
                    f"the answer to {where} names the private ({private.kind}) address "
                    f"{private.address}",
                )
            )
    found.extend(_nat(result))
    found.extend(_binding(result, register_expires_s))
    return list(dict.fromkeys(found))  # a refresh named twice is one finding


def _nat(result: NatCheckResult) -> list[NatFinding]:
    if not result.nat_detected:
        return []
    seen = next(
        (r for r in result.exchanges if r.status_code is not None and r.transport == "udp"),
        None,
    ) or next((r for r in result.exchanges if r.status_code), None)
    if seen is None:
        return []
    far = seen.seen_by_far_end or f"{seen.via_received or '?'}:{seen.via_rport or '?'}"
    return [
        NatFinding(
            Severity.INFO,
            Side.CUSTOMER_NETWORK,
            "nat-detected",
            f"NAT on the path: the probe sent from {seen.local}, the far end saw {far} "
            f"({seen.transport.upper()})",
        )
    ]


def _binding(result: NatCheckResult, register_expires_s: tuple[int, ...]) -> list[NatFinding]:
    binding = result.binding
    if binding is None:
        return []
    lower, upper = binding.lower_s, binding.upper_s
    found: list[NatFinding] = []
    if binding.error:
        found.append(
            NatFinding(
                Severity.INFO,
                Side.UNKNOWN,
                "binding-lifetime-unmeasured",
                f"UDP binding lifetime not measured: {binding.error}",
            )
        )
    if upper is None:
        if lower is not None:
            found.append(
                NatFinding(
                    Severity.INFO,
                    Side.CUSTOMER_NETWORK,
                    "binding-lifetime",
                    f"the path kept an idle UDP mapping open for at least {lower:g} s "
                    "(the longest idle time tried)",
                )
            )
        return found
    survived = f"survived {lower:g} s idle, " if lower is not None else ""
    short = upper < RFC4787_MIN_BINDING_S
    found.append(
        NatFinding(
            Severity.WARNING if short else Severity.INFO,
            Side.CUSTOMER_NETWORK,
            "binding-lifetime-short" if short else "binding-lifetime",
            f"the path closes an idle UDP mapping within {upper:g} s ({survived}gone after "
            f"{upper:g} s)"
            + (f"; RFC 4787 asks for at least {RFC4787_MIN_BINDING_S:g} s" if short else ""),
        )
    )
    limit = lower if lower is not None else 0.0
    intervals: list[tuple[str, float | None]] = [("keepalive interval", result.keepalive_s)]
    intervals += [("registration refresh", result.register_expires_s)]
    intervals += [("registration refresh", expires) for expires in register_expires_s]
    for name, value in intervals:
        if value is not None and value > limit:
            found.append(
                NatFinding(
                    Severity.WARNING,
                    Side.CUSTOMER_NETWORK,
                    "binding-shorter-than-refresh",
                    f"the {name} of {value:g} s is longer than the UDP binding lifetime "
                    f"(at most {upper:g} s): between refreshes the platform cannot reach the "
                    f"device; keep the interval below {limit:g} s or fix the router's UDP "
                    "timeout",
                )
            )
    return found
