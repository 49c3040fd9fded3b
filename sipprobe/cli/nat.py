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
from typing import Any

from sipprobe.errors import UsageError


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
    from sipprobe.model.steps import NatCheckDetail
    from sipprobe.nat.step import nat_check_step
    from sipprobe.report.nat import render_nat_json, render_nat_text
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
    if not isinstance(result.detail, NatCheckDetail):
        raise TypeError("a nat_check step records a NatCheckDetail")
    check = result.detail.result
    if args.format == "json":
        sys.stdout.write(render_nat_json(str(target), check, verdict.findings))
    else:
        sys.stdout.write(render_nat_text(str(target), check, verdict.findings))
    return int(verdict.exit_code)
