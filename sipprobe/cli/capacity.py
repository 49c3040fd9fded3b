"""``sipprobe capacity URI --channels N [--step K] [--hold S]``: the trunk capacity test."""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

from sipprobe.errors import UsageError
from sipprobe.model.demarc import Location
from sipprobe.model.limits import MAX_PARALLEL_CALLS
from sipprobe.sip.transports import TRANSPORTS


def add_capacity_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "capacity",
        help="raise simultaneous calls step by step to the contracted channels",
    )
    parser.add_argument("uri", help="who to call, e.g. sip:echo@trunk.example.com")
    parser.add_argument(
        "--channels", type=int, required=True, metavar="N", help="channels the customer bought"
    )
    parser.add_argument(
        "--step", type=int, metavar="K", help="calls added per step (default: N/10, at least 1)"
    )
    parser.add_argument(
        "--hold", type=float, default=10.0, metavar="S", help="seconds each step holds its calls"
    )
    parser.add_argument("--answer-timeout", type=float, default=30.0, metavar="S")
    parser.add_argument(
        "--codec", action="append", metavar="NAME", help="codec to offer (default PCMU, PCMA)"
    )
    parser.add_argument("--transport", choices=TRANSPORTS)
    parser.add_argument(
        "--location",
        choices=[location.value for location in Location],
        default=Location.CUSTOMER_LAN.value,
        help="where the probe stands (default customer-lan)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--no-capture", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")


def run_capacity_command(args: argparse.Namespace) -> int:
    from sipprobe.report.capacity import render_capacity_json, render_capacity_text
    from sipprobe.report.files import Progress
    from sipprobe.run.capacity import CapacityPlan, run_capacity
    from sipprobe.scenario.model import CallStep, Scenario
    from sipprobe.sip.uri import parse_uri

    if not 1 <= args.channels <= MAX_PARALLEL_CALLS:
        raise UsageError(f"--channels takes 1 to {MAX_PARALLEL_CALLS}, got {args.channels}")
    step = args.step or max(1, math.ceil(args.channels / 10))
    if not 1 <= step <= args.channels:
        raise UsageError(f"--step takes 1 to --channels ({args.channels}), got {step}")
    if args.hold <= 0:
        raise UsageError("--hold takes a positive number of seconds")
    callee = parse_uri(args.uri)
    transport = args.transport or callee.transport
    scenario = Scenario(
        name="capacity",
        service="sip-trunk",
        target=callee.with_user(None).with_transport(transport),
        transport=transport,
        steps=(),
        codecs=tuple(args.codec) if args.codec else ("PCMU", "PCMA"),
        location=Location(args.location),
    )
    call = CallStep(to=str(callee.with_transport(transport)), answer_timeout_s=args.answer_timeout)
    plan = CapacityPlan(args.channels, step, args.hold, call)
    with (
        tempfile.TemporaryDirectory(prefix="sipprobe-capacity-") as workdir,
        Progress(enabled=not args.quiet and args.format == "text") as progress,
    ):
        result = run_capacity(
            scenario, plan, progress.show, Path(workdir), capture=not args.no_capture
        )
    render = render_capacity_json if args.format == "json" else render_capacity_text
    sys.stdout.write(render(result))
    return int(result.exit_code)
