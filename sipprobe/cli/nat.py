"""``sipprobe nat-check URI``: SIP ALG, NAT and UDP binding lifetime, as text or JSON.

The check is the scenario step ``nat_check`` run on its own; its findings come from the same
demarc policy as a ``run``'s, so the exit code means the same: 1 (WARNING) when the router
rewrote SIP or closes UDP mappings early, 2 when nothing answered, 3 for a usage error.
Every command builds this parser, so the check's own modules are imported when it runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from sipprobe.errors import UsageError

if TYPE_CHECKING:
    from sipprobe.model.results import Finding, StepResult


def add_nat_check_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "nat-check", help="what the path does to SIP: SIP ALG, NAT, UDP binding lifetime"
    )
    parser.add_argument("uri", help="target; a 'sipprobe responder --mirror' shows ALG rewrites")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--transports", default="udp,tcp", help="comma-separated: udp, tcp (default udp,tcp)"
    )
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per request")
    parser.add_argument(
        "--binding-intervals",
        default="5,10,20,40,60,90,120",
        metavar="S,S,...",
        help="idle times tried to measure the UDP binding lifetime (default 5,10,20,40,60,...)",
    )
    parser.add_argument(
        "--binding-max",
        type=float,
        default=180.0,
        metavar="S",
        help="bound on the total idle time spent measuring it (default 180; 0: skip)",
    )
    parser.add_argument("--keepalive", type=float, metavar="S", help="the device's keepalive")
    parser.add_argument(
        "--register-expires", type=int, metavar="S", help="the device's registration refresh"
    )


def _numbers(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v <= 0 for v in values):
        raise UsageError(f"--binding-intervals takes positive seconds, e.g. 5,10,20; got {text!r}")
    return values


def run_nat_check_command(args: argparse.Namespace) -> int:
    import json

    from sipprobe.nat.step import nat_check_step
    from sipprobe.scenario.model import NatCheckStep
    from sipprobe.signalling.timeline import Timeline
    from sipprobe.sip.uri import parse_uri
    from sipprobe.verdict.policy import decide

    target = parse_uri(args.uri)
    transports = tuple(t.strip().lower() for t in args.transports.split(",") if t.strip())
    if not transports or any(t not in ("udp", "tcp") for t in transports):
        raise UsageError(f"--transports takes udp and/or tcp, got {args.transports!r}")
    if args.timeout <= 0 or args.binding_max < 0:
        raise UsageError("--timeout must be positive and --binding-max not negative")
    step = NatCheckStep(
        transports=transports,
        timeout_s=args.timeout,
        binding_intervals_s=_numbers(args.binding_intervals),
        binding_max_s=args.binding_max,
        keepalive_s=args.keepalive,
    )
    timeline = Timeline(time.monotonic)
    result = nat_check_step(0, target, step, timeline, args.register_expires)
    verdict = decide((result,))
    document = nat_document(str(target), result, verdict.findings)
    if args.format == "json":
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(document))
    return int(verdict.exit_code)


def nat_document(target: str, step: StepResult, findings: tuple[Finding, ...]) -> dict[str, Any]:
    detail = step.detail
    return {
        "target": target,
        "nat_detected": detail["nat_detected"],
        "alg_detected": detail["alg_detected"],
        "binding_lifetime_s": detail["binding_lifetime_s"],
        "binding_lifetime_upper_s": detail["binding_lifetime_upper_s"],
        "mirror": detail["mirror"],
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
        "evidence": {"exchanges": detail["exchanges"], "binding": detail["binding"]},
    }


def render_text(document: dict[str, Any]) -> str:
    lines = [f"NAT check of {document['target']}"]
    yes = {True: "yes", False: "no"}
    lines.append(f"  NAT detected: {yes[document['nat_detected']]}")
    alg = yes[document["alg_detected"]]
    lines.append(f"  SIP ALG detected: {alg}" + ("" if document["mirror"] else " (no mirror)"))
    lower, upper = document["binding_lifetime_s"], document["binding_lifetime_upper_s"]
    if upper is not None:
        lines.append(f"  UDP binding lifetime: {lower or 0:g} s to {upper:g} s")
    elif lower is not None:
        lines.append(f"  UDP binding lifetime: at least {lower:g} s")
    else:
        lines.append("  UDP binding lifetime: not measured")
    for record in document["evidence"]["exchanges"]:
        status = record["status_code"] or record["error"]
        seen = record["seen_by_far_end"] or record["via_received"]
        lines.append(
            f"  {record['method']} over {record['transport'].upper()}: {status}; "
            f"from {record['local']}, far end saw {seen or '?'}"
        )
    lines.append("findings:" if document["findings"] else "findings: none")
    for finding in document["findings"]:
        lines.append(f"  [{finding['severity']}] ({finding['side']}) {finding['summary']}")
    return "\n".join(lines) + "\n"
