"""Findings of a nat_check step (SIP ALG rewrites, NAT, private addresses, binding lifetime),
and the SIP ALG finding of a call answered by a sipprobe responder.

A SIP ALG is one finding per device, with every line it rewrote as evidence. Its side is
named only from evidence: when the rewritten values carry the public address the far end saw
the request come from, the rewriting device is the NAT that owns that address, the
customer's router: ``customer-network`` (the location pass, verdict/attribution.py, turns it
into ``unknown`` when no customer network was on the path); otherwise ``unknown``. A binding
lifetime shorter than the 2 minutes RFC 4787 (REQ-5) asks for is a ``customer-network``
warning. NAT alone is normal and only noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.nat import CallAlgCheck, NatCheckResult, Rewrite
from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import Finding, StepResult

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
    alg = _nat_check_alg(result)
    if alg is not None:
        found.append(alg)
    for exchange in result.exchanges:
        where = f"{exchange.method} over {exchange.transport.upper()}"
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


def carries_address(rewrites: tuple[Rewrite, ...], host: str | None) -> bool:
    """Whether a rewrite put ``host`` where the probe had written something else."""
    if not host:
        return False
    written = re.compile(rf"(?<![\w.:]){re.escape(host)}(?![\w]|\.\d)")
    return any(
        r.after is not None and written.search(r.after) and not written.search(r.before or "")
        for r in rewrites
    )


def _alg_side(rewrites: tuple[Rewrite, ...], public: str | None) -> tuple[Side, str]:
    if carries_address(rewrites, public):
        return Side.CUSTOMER_NETWORK, (
            f"the rewritten values carry {public}, the address the far end saw the request "
            "come from, so the NAT that owns that address rewrote it: the customer's router"
        )
    seen = f" ({public})" if public else ""
    return Side.UNKNOWN, (
        f"the rewritten values do not carry the address the far end saw the request come "
        f"from{seen}, so the evidence does not say which device on the path rewrote it"
    )


def _nat_check_alg(result: NatCheckResult) -> NatFinding | None:
    """One finding for every line the mirror saw rewritten, across the check's requests."""
    rewritten = [(e, r) for e in result.exchanges for r in e.rewrites]
    if not rewritten:
        return None
    lines = "; ".join(
        f"{r.part} ({e.method} over {e.transport.upper()}): {_describe(r)}" for e, r in rewritten
    )
    public = next(
        (_host(e.seen_by_far_end) or e.via_received for e, _ in rewritten if e.seen_by_far_end),
        None,
    ) or next((e.via_received for e, _ in rewritten if e.via_received), None)
    side, why = _alg_side(tuple(r for _, r in rewritten), public)
    count = f"{len(rewritten)} line{'s' if len(rewritten) != 1 else ''}"
    return NatFinding(
        Severity.WARNING,
        side,
        "sip-alg-rewrite",
        f"SIP ALG rewrote {count} of the probe's requests: {lines}; {why}",
    )


def _describe(rewrite: Rewrite) -> str:
    before = rewrite.before if rewrite.before is not None else "(absent)"
    after = rewrite.after if rewrite.after is not None else "(removed)"
    return f"{before} -> {after}"


def _host(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return Endpoint.parse(address).host or None
    except ValueError:
        return None


def call_alg_findings(step: StepResult) -> list[Finding]:
    """The ``sip-alg`` finding of a call whose far end returned the INVITE as received."""
    call = step.call
    check: CallAlgCheck | None = call.sip_alg if call is not None else None
    if check is None or not check.rewrites:
        return []
    side, why = _alg_side(check.rewrites, check.public_address)
    lines = "; ".join(f"{r.part}: {_describe(r)}" for r in check.rewrites)
    count = len(check.rewrites)
    proxies = (
        f" (behind {len(check.proxies)} prox{'ies' if len(check.proxies) > 1 else 'y'})"
        if check.proxies
        else ""
    )
    summary = (
        f"SIP ALG: {count} line{'s' if count != 1 else ''} of the INVITE reached the sipprobe "
        f"responder{proxies} other than the probe sent {'them' if count != 1 else 'it'}: "
        f"{lines}; {why}"
    )
    return [
        Finding(
            Severity.WARNING,
            side,
            "messaging",
            "sip-alg",
            summary,
            step.index,
            check.evidence or step.events,
        )
    ]


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
