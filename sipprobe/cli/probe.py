"""``run``, ``options``, ``call`` and ``demo``: a scenario from the arguments, run, reported.

Each run is compared with its history and recorded (not ``demo``), then printed in the chosen
``--format`` and, when asked, written as an evidence bundle and an OpenMetrics file.
``sipprobe.cli`` imports this module only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sipprobe.cli.answer import with_waiting_line
from sipprobe.cli.history import history_settings
from sipprobe.cli.schedule import run_checks
from sipprobe.errors import UsageError
from sipprobe.history.recording import check_and_record
from sipprobe.model.demarc import Location
from sipprobe.model.dtmf import dtmf_problem
from sipprobe.model.hold import hold_duration_problem
from sipprobe.model.limits import MAX_PARALLEL_CALLS
from sipprobe.model.results import RunReport
from sipprobe.model.session_timer import MIN_SE_S
from sipprobe.report.bundle import default_directory
from sipprobe.report.files import Progress, write_metrics_file, write_run_files
from sipprobe.report.formats import OutputFormat
from sipprobe.run.runner import run_scenario
from sipprobe.scenario.loader import load_scenario
from sipprobe.scenario.model import (
    AccountSpec,
    CallStep,
    OptionsStep,
    RegisterStep,
    Scenario,
    TlsSpec,
)
from sipprobe.sip.uri import parse_uri


def run_probe_command(args: argparse.Namespace) -> int:
    commands = {"run": _run, "options": _options, "call": _call, "demo": _demo}
    return commands[args.command](args)


def _variables(pairs: Sequence[str]) -> dict[str, str]:
    variables = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--var takes KEY=VALUE, got {pair!r}")
        variables[key] = value
    return variables


def _emit(report: RunReport, args: argparse.Namespace) -> int:
    directory = Path(args.out) if args.out else None
    if directory is None and (args.bundle or args.zip):
        directory = default_directory(report)
    if directory is not None:
        bundle = write_run_files(report, directory, make_zip=args.zip)
        if not args.quiet:
            zipped = f" and {bundle.zip_path}" if bundle.zip_path else ""
            print(f"evidence: {bundle.directory}{zipped}", file=sys.stderr)
    if args.metrics_file:
        write_metrics_file(report, Path(args.metrics_file))
    sys.stdout.write(OutputFormat(args.format).render(report))
    return int(report.verdict.exit_code)


def _check(scenario: Scenario, args: argparse.Namespace) -> int:
    """One run of ``scenario``: measured, compared with its history, recorded, reported."""
    history = history_settings(args)
    # The capture lives here until the bundle has copied it (or nobody asked for one).
    with tempfile.TemporaryDirectory(prefix="sipprobe-run-") as workdir:
        with Progress(enabled=not args.quiet and args.format == "text") as progress:
            show = with_waiting_line(progress.show, args.quiet)  # an answer step's wait
            report = run_scenario(
                scenario, show, workdir=Path(workdir), capture=not args.no_capture
            )
        report = check_and_record(report, history, lambda text: print(text, file=sys.stderr))
        return _emit(report, args)


def _run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, _variables(args.var))
    if args.location:
        scenario = replace(scenario, location=Location(args.location))
    return run_checks(args, scenario, _check, args.run_parser)


def _tls(args: argparse.Namespace) -> TlsSpec:
    return TlsSpec(verify=not args.no_verify, ca_file=args.ca_file)


def _options(args: argparse.Namespace) -> int:
    target = parse_uri(args.uri)
    transport = args.transport or target.transport
    scenario = Scenario(
        name="options",
        service="sip-trunk",
        target=target.with_transport(transport),
        transport=transport,
        steps=(OptionsStep(timeout_s=args.timeout),),
        tls=_tls(args),
        location=Location(args.location or Location.CUSTOMER_LAN),
    )
    return _check(scenario, args)


def _call(args: argparse.Namespace) -> int:
    callee = parse_uri(args.uri)
    transport = args.transport or callee.transport
    registrar = parse_uri(args.registrar) if args.registrar else None
    target = (registrar or callee.with_user(None)).with_transport(transport)
    account = None
    if args.user:
        password_env = args.password_env
        if (
            password_env is None
            and args.password_file is None
            and os.environ.get("SIPPROBE_PASSWORD")
        ):
            password_env = "SIPPROBE_PASSWORD"
        account = AccountSpec(
            user=args.user,
            domain=callee.with_user(None).hostport(),
            auth_user=args.auth_user or args.user,
            password_env=password_env,
            password_file=args.password_file,
        )
    elif args.password_env or args.password_file:
        raise UsageError("--password-env and --password-file need --user")
    if not 1 <= args.calls <= MAX_PARALLEL_CALLS:
        raise UsageError(f"--calls takes 1 to {MAX_PARALLEL_CALLS}, got {args.calls}")
    steps: list[RegisterStep | CallStep] = []
    if registrar is not None:
        if account is None:
            raise UsageError("--registrar needs --user")
        steps.append(RegisterStep())
    steps.append(
        CallStep(
            to=str(callee.with_transport(transport)),
            duration_s=args.duration,
            answer_timeout_s=args.answer_timeout,
            expect_status=args.expect,
            expect_dscp=args.expect_dscp,
            parallel=args.calls,
            dtmf=_dtmf(args),
            dtmf_method=args.dtmf_method,
            hold_s=_hold_s(args),
            hold_mode=args.hold_mode,
            session_expires_s=_session_expires(args),
            session_timer=args.session_timer,
        )
    )
    scenario = Scenario(
        name="call",
        service="sip-trunk",
        target=target,
        transport=transport,
        steps=tuple(steps),
        account=account,
        tls=_tls(args),
        codecs=tuple(args.codec) if args.codec else ("PCMU", "PCMA"),
        srtp=args.srtp,
        location=Location(args.location or Location.CUSTOMER_LAN),
    )
    return _check(scenario, args)


def _demo(args: argparse.Namespace) -> int:
    from sipprobe.run.demo import run_demo

    with tempfile.TemporaryDirectory(prefix="sipprobe-run-") as workdir:
        with Progress(enabled=not args.quiet and args.format == "text") as progress:
            report = run_demo(progress.show, Path(workdir), capture=not args.no_capture)
        return _emit(report, args)


def _dtmf(args: argparse.Namespace) -> str:
    """The --dtmf digits, checked; "" without --dtmf."""
    digits = args.dtmf or ""
    if args.dtmf is not None:
        problem = dtmf_problem(digits)
        if problem:
            raise UsageError(f"--dtmf {problem}")
    return str(digits)


def _hold_s(args: argparse.Namespace) -> float:
    """The --hold-s seconds, checked against the call's length; 0 without --hold-s."""
    if args.hold_s is None:
        return 0.0
    problem = hold_duration_problem(args.hold_s, args.duration, args.dtmf or "")
    if args.hold_s <= 0 or problem:
        raise UsageError(f"--hold-s {args.hold_s:g} {problem or 'must be more than 0'}")
    return float(args.hold_s)


def _session_expires(args: argparse.Namespace) -> int | None:
    """The --session-expires seconds, checked; None without it."""
    if args.session_expires is None:
        return None
    if not MIN_SE_S <= args.session_expires <= 86400:
        raise UsageError(
            f"--session-expires takes {MIN_SE_S} to 86400 s, got {args.session_expires}"
        )
    return int(args.session_expires)
