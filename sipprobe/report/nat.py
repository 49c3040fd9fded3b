"""``sipprobe nat-check``'s output: the NAT check's result and findings, as text or JSON."""

from __future__ import annotations

import json
from typing import Any

from sipprobe.model.nat import NatCheckResult
from sipprobe.model.results import Finding
from sipprobe.report.json_detail import binding_json, exchange_json


def nat_check_json(
    target: str, result: NatCheckResult, findings: tuple[Finding, ...]
) -> dict[str, Any]:
    return {
        "target": target,
        "nat_detected": result.nat_detected,
        "alg_detected": result.alg_detected,
        "binding_lifetime_s": result.binding_lifetime_s,
        "binding_lifetime_upper_s": result.binding_lifetime_upper_s,
        "mirror": result.mirror,
        "findings": [
            {
                "severity": f.severity.value,
                "side": f.side.value,
                "area": f.area,
                "code": f.code,
                "summary": f.summary,
            }
            for f in findings
        ],
        "evidence": {
            "exchanges": [exchange_json(e) for e in result.exchanges],
            "binding": binding_json(result.binding),
        },
    }


def render_nat_json(target: str, result: NatCheckResult, findings: tuple[Finding, ...]) -> str:
    return json.dumps(nat_check_json(target, result, findings), indent=2) + "\n"


def render_nat_text(target: str, result: NatCheckResult, findings: tuple[Finding, ...]) -> str:
    lines = [f"NAT check of {target}"]
    yes = {True: "yes", False: "no"}
    lines.append(f"  NAT detected: {yes[result.nat_detected]}")
    alg = yes[result.alg_detected]
    lines.append(f"  SIP ALG detected: {alg}" + ("" if result.mirror else " (no mirror)"))
    lower, upper = result.binding_lifetime_s, result.binding_lifetime_upper_s
    if upper is not None:
        lines.append(f"  UDP binding lifetime: {lower or 0:g} s to {upper:g} s")
    elif lower is not None:
        lines.append(f"  UDP binding lifetime: at least {lower:g} s")
    else:
        lines.append("  UDP binding lifetime: not measured")
    for exchange in result.exchanges:
        status = exchange.status_code or exchange.error
        seen = exchange.seen_by_far_end or exchange.via_received
        lines.append(
            f"  {exchange.method} over {exchange.transport.upper()}: {status}; "
            f"from {exchange.local}, far end saw {seen or '?'}"
        )
    lines.append("findings:" if findings else "findings: none")
    for finding in findings:
        lines.append(f"  [{finding.severity.value}] ({finding.side.value}) {finding.summary}")
    return "\n".join(lines) + "\n"
