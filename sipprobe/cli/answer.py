"""``sipprobe answer TARGET [--user U] --timeout S --duration D``: wait for a call, answer it.

For an engineer who dials a customer's number from a phone and watches what arrives: with
``--user`` the probe registers that account at TARGET first and answers calls to it; without,
it answers calls sent to its own address (``--listen``), as an IP-authenticated trunk
delivers them. The scenario is one ``answer`` step (run/inbound.py); the report, history
and exit code are those of ``sipprobe call``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sipprobe.errors import UsageError


def add_answer_parser(commands: Any) -> argparse.ArgumentParser:
    """The parser; the shared option groups are added by cli/app.py."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "answer", help="wait for a call to an account or to the probe's address and measure it"
    )
    parser.add_argument(
        "target",
        help="the platform that sends the call (registrar or SBC), e.g. sip:pbx.example.com; "
        "the probe binds towards it",
    )
    parser.add_argument(
        "--user", help="register this account at TARGET first and answer calls to it"
    )
    parser.add_argument("--auth-user", help="digest user name when it differs from --user")
    parser.add_argument(
        "--listen",
        metavar="HOST[:PORT]",
        help="the probe's SIP address (default: the address towards TARGET, any free port; "
        "an IP trunk sends its calls to a fixed one)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="wait this long (default 60)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        metavar="S",
        help="hold the answered call this long, then hang up (default 10)",
    )
    parser.add_argument(
        "--expect-from",
        metavar="REGEX",
        help="the caller expected, searched in From and P-Asserted-Identity (a warning if not)",
    )
    parser.add_argument(
        "--expect-to",
        metavar="REGEX",
        help="the number expected to be called, searched in To and the Request-URI",
    )
    parser.add_argument(
        "--codec", action="append", metavar="NAME", help="codec to accept (default PCMU, PCMA)"
    )
    return parser


def _account(args: argparse.Namespace, domain: str) -> tuple[str, Any] | None:
    from sipprobe.scenario.model import AccountSpec

    if not args.user:
        if args.password_env or args.password_file or args.auth_user:
            raise UsageError("--password-env, --password-file and --auth-user need --user")
        return None
    password_env = args.password_env
    if password_env is None and args.password_file is None and os.environ.get("SIPPROBE_PASSWORD"):
        password_env = "SIPPROBE_PASSWORD"
    spec = AccountSpec(
        user=args.user,
        domain=domain,
        auth_user=args.auth_user or args.user,
        password_env=password_env,
        password_file=args.password_file,
    )
    return re.sub(r"[^A-Za-z0-9_-]", "_", args.user)[:32] or "account", spec


def with_waiting_line(show: Callable[[str], None], quiet: bool) -> Callable[[str], None]:
    """``show`` (the terminal's progress line), and the one live fact a person waiting with
    a phone in hand needs, "waiting for a call on ... until ...", also on stderr off a
    terminal (not with ``-q``)."""
    from sipprobe.run.inbound import WAITING

    def both(text: str) -> None:
        if WAITING in text and not quiet:
            clear = "\r\033[K" if sys.stderr.isatty() else ""  # over a progress line shown
            print(clear + (text.partition(": ")[2] or text), file=sys.stderr, flush=True)
        show(text)

    return both


def run_answer_command(args: argparse.Namespace) -> int:
    from sipprobe.cli.history import history_settings
    from sipprobe.cli.probe import _emit
    from sipprobe.history.recording import check_and_record
    from sipprobe.model.demarc import Location
    from sipprobe.model.endpoint import Endpoint
    from sipprobe.report.files import Progress
    from sipprobe.run.runner import run_scenario
    from sipprobe.scenario.model import AnswerStep, RegisterStep, Scenario, Step, TlsSpec
    from sipprobe.sip.uri import parse_uri

    if not 0 < args.timeout <= 86400:
        raise UsageError(f"--timeout takes 0 to 86400 seconds, got {args.timeout:g}")
    if not 0 <= args.duration <= 86400:
        raise UsageError(f"--duration takes 0 to 86400 seconds, got {args.duration:g}")
    for option, pattern in (("--expect-from", args.expect_from), ("--expect-to", args.expect_to)):
        try:
            re.compile(pattern or "")
        except re.error as exc:
            raise UsageError(f"{option}: not a regular expression: {exc}") from exc
    target = parse_uri(args.target)
    transport = args.transport or target.transport
    target = target.with_user(None).with_transport(transport)
    bind, port = "", 0
    if args.listen:
        try:
            listen = Endpoint.parse(args.listen, default_port=0)
        except ValueError as exc:
            raise UsageError(f"--listen: {exc}") from exc
        bind, port = listen.host, listen.port or 0
    named = _account(args, target.hostport())
    steps: list[Step] = []
    if named is not None:
        steps.append(RegisterStep(account=named[0]))
    steps.append(
        AnswerStep(
            account=named[0] if named else None,
            timeout_s=args.timeout,
            duration_s=args.duration,
            expect_from=args.expect_from,
            expect_to=args.expect_to,
        )
    )
    scenario = Scenario(
        name="answer",
        service="sip-trunk",
        target=target,
        transport=transport,
        steps=tuple(steps),
        account=named[1] if named else None,
        accounts=(named,) if named else (),
        tls=TlsSpec(verify=not args.no_verify, ca_file=args.ca_file),
        codecs=tuple(args.codec) if args.codec else ("PCMU", "PCMA"),
        bind=bind,
        sip_port=port,
        location=Location(args.location or Location.CUSTOMER_LAN),
    )
    history = history_settings(args)
    with (
        tempfile.TemporaryDirectory(prefix="sipprobe-run-") as workdir,
        Progress(enabled=not args.quiet and args.format == "text") as progress,
    ):
        report = run_scenario(
            scenario,
            with_waiting_line(progress.show, args.quiet),
            workdir=Path(workdir),
            capture=not args.no_capture,
        )
        report = check_and_record(report, history, lambda text: print(text, file=sys.stderr))
        return _emit(report, args)
