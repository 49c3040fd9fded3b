"""Command line: wiring only. ``main(argv)`` returns an exit code; only ``console_main`` exits.

Exit codes follow the monitoring-plugins convention: 0 OK, 1 WARNING (degraded),
2 CRITICAL (bad), 3 UNKNOWN (could not decide, or a usage/setup error).

Every command builds the whole parser, so this module and the parsers it builds import only
what the options need; a command's own modules are imported when it runs. ``analyze`` on a
big capture, ``--help`` and usage errors never load the SIP, history or report machinery
(tests/unit/test_public_api.py checks it).
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import os
import sys
from collections.abc import Callable, Sequence

from sipprobe import __version__
from sipprobe.cli.analyze import add_analyze_parser, run_analyze_command
from sipprobe.cli.answer import add_answer_parser, run_answer_command
from sipprobe.cli.capacity import add_capacity_parser, run_capacity_command
from sipprobe.cli.exporter import add_exporter_parser, run_exporter_command
from sipprobe.cli.history import add_history_options, add_history_parser, run_history_command
from sipprobe.cli.localize import add_localize_parser, run_localize_command
from sipprobe.cli.nat import add_nat_check_parser, run_nat_check_command
from sipprobe.cli.schedule import add_schedule_options
from sipprobe.errors import SipProbeError, UsageError
from sipprobe.model.demarc import Location
from sipprobe.model.dtmf import DTMF_METHODS
from sipprobe.model.hold import HOLD_MODES
from sipprobe.model.outcome import ExitCode
from sipprobe.model.session_timer import TIMER_USES
from sipprobe.report.formats import OutputFormat
from sipprobe.sip.transports import TRANSPORTS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 3 (UNKNOWN), not 2 (CRITICAL)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=[f.value for f in OutputFormat],
        default=OutputFormat.TEXT.value,
        help="report format on stdout (default: text)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="write the evidence bundle into DIR: report.json, report.html, report.md, "
        "report.txt, sip.log and manifest.json (sha256 of each file)",
    )
    parser.add_argument(
        "--bundle",
        action="store_true",
        help="write the evidence bundle into ./sipprobe-runs/<UTC time>-<scenario>/ "
        "(when --out is not given)",
    )
    parser.add_argument(
        "--zip", action="store_true", help="also write the bundle as DIR.zip (implies --bundle)"
    )
    parser.add_argument(
        "--metrics-file",
        metavar="PATH",
        help="also write OpenMetrics text to PATH, replaced atomically "
        "(for node_exporter's textfile collector)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress or bundle path on stderr"
    )
    parser.add_argument(
        "--no-capture",
        action="store_true",
        help="do not capture packets (media figures then come from RTCP statistics only)",
    )


def _location_option(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--location",
        choices=[location.value for location in Location],
        help=f"where the probe stands (default: {default}); it decides what a finding may "
        "say about the customer's network, and sipprobe localize compares locations",
    )


def _password_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--password-env",
        metavar="NAME",
        help="environment variable holding the password (default: "
        "SIPPROBE_PASSWORD when it is set)",
    )
    group.add_argument(
        "--password-file", metavar="FILE", help="file whose first line is the password"
    )


def _tls_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport", choices=TRANSPORTS, help="SIP transport (default: from the URI, else udp)"
    )
    parser.add_argument("--ca-file", metavar="FILE", help="trust this CA for TLS")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="do not verify the TLS certificate (evidence is weaker)",
    )


def _srtp_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--srtp",
        choices=("off", "optional", "mandatory"),
        default="off",
        help="SRTP with SDES keys: off (default), optional (offered) or mandatory",
    )


def _dscp_value(text: str) -> int | None:
    if text.lower() == "none":
        return None
    if not text.isdigit() or int(text) > 63:
        raise argparse.ArgumentTypeError(f"not a DSCP value (0-63 or none): {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sipprobe", description="SIP signalling and media demarcation probe.")
    parser.add_argument("--version", action="version", version=f"sipprobe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="run a scenario file")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="value for ${KEY} in the scenario (repeatable)",
    )
    _location_option(run, "the scenario's location:, else customer-lan")
    _output_options(run)
    add_history_options(run)
    add_schedule_options(run)
    run.set_defaults(run_parser=run)  # --targets rebuilds each child's command line from it

    options = commands.add_parser("options", help="send one SIP OPTIONS ping")
    options.add_argument("uri", help="target, e.g. sip:pbx.example.com:5060")
    options.add_argument("--timeout", type=float, default=5.0, metavar="S")
    _tls_options(options)
    _location_option(options, Location.CUSTOMER_LAN.value)
    _output_options(options)
    add_history_options(options)

    call = commands.add_parser("call", help="one test call, no scenario file needed")
    call.add_argument("uri", help="who to call, e.g. sip:echo@pbx.example.com")
    call.add_argument(
        "--duration",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to hold the call once answered (default 5)",
    )
    call.add_argument("--user", help="account user (and digest user unless --auth-user)")
    call.add_argument("--auth-user", help="digest user name when it differs from --user")
    call.add_argument(
        "--registrar",
        metavar="URI",
        help="register here first (and unregister at the end); requests then go through it",
    )
    call.add_argument(
        "--expect",
        type=int,
        default=200,
        metavar="CODE",
        help="final status that counts as success (default 200)",
    )
    call.add_argument(
        "--expect-dscp",
        type=_dscp_value,
        default=None,
        metavar="N|none",
        help="DSCP the far end marks its RTP with (default: what a sipprobe responder says in "
        "its answer, else not known: the value seen is noted, not judged)",
    )
    _srtp_option(call)
    call.add_argument("--answer-timeout", type=float, default=30.0, metavar="S")
    call.add_argument(
        "--calls",
        type=int,
        default=1,
        metavar="N",
        help="simultaneous calls, held together (default 1; more than 4 run in worker "
        "processes, 4 calls each)",
    )
    call.add_argument(
        "--dtmf",
        metavar="DIGITS",
        help="send these DTMF digits (0-9 * # A-D) a second after the answer and report what "
        "came back",
    )
    call.add_argument(
        "--dtmf-method",
        choices=DTMF_METHODS,
        default="rfc4733",
        help="how the digits are sent (default rfc4733: RTP telephone events; inband: tones "
        "in the audio)",
    )
    call.add_argument(
        "--hold-s",
        type=float,
        default=None,
        metavar="S",
        help="put the call on hold (a re-INVITE, --hold-mode) for S seconds, then resume it, and "
        "report whether media stopped and came back (--duration must leave 2 s either side)",
    )
    call.add_argument(
        "--hold-mode",
        choices=HOLD_MODES,
        default="sendonly",
        help="what the hold re-INVITE offers (default sendonly; inactive: neither side sends)",
    )
    call.add_argument(
        "--session-expires",
        type=int,
        default=None,
        metavar="S",
        help="ask for RFC 4028 session timers of S seconds (90 or more) and report the "
        "interval agreed and each refresh",
    )
    call.add_argument(
        "--session-timer",
        choices=TIMER_USES,
        default="optional",
        help="session timers optional (default), required of the far end, or always used",
    )
    call.add_argument(
        "--codec",
        action="append",
        metavar="NAME",
        help="codec to offer, in order (repeatable; default PCMU, PCMA)",
    )
    _password_options(call)
    _tls_options(call)
    _location_option(call, Location.CUSTOMER_LAN.value)
    _output_options(call)
    add_history_options(call)

    responder = commands.add_parser(
        "responder", help="answer calls: reflect RTP or send a tone, with RTCP"
    )
    responder.add_argument("--listen", default="127.0.0.1:5062", metavar="HOST:PORT")
    responder.add_argument(
        "--transports", default="udp,tcp", help="comma-separated: udp, tcp, tls (default udp,tcp)"
    )
    responder.add_argument("--mode", choices=("echo", "tone"), default="echo")
    _srtp_option(responder)
    responder.add_argument("--ring-ms", type=int, default=0, help="ring before answering")
    responder.add_argument("--auth-user", help="require digest auth with this user")
    responder.add_argument("--realm", default="sipprobe")
    responder.add_argument("--tls-cert", metavar="FILE")
    responder.add_argument("--tls-key", metavar="FILE")
    _password_options(responder)
    responder.add_argument(
        "--mirror",
        action="store_true",
        help="answer each OPTIONS (and INVITE) with the request as received (for nat-check)",
    )
    responder.add_argument(
        "--mirror-port",
        type=int,
        metavar="PORT",
        help="mirror on this port (UDP and TCP) beside the responder (default: the --listen "
        "port, with no responder)",
    )
    limits = responder.add_argument_group("limits (for a responder exposed to the internet)")
    limits.add_argument(
        "--max-calls", type=int, default=200, help="simultaneous calls; beyond: 486 (default 200)"
    )
    limits.add_argument(
        "--max-cps-per-source",
        type=float,
        default=10.0,
        metavar="RATE",
        help="new calls per second per source address, bursts of twice that; beyond: 503 "
        "(default 10)",
    )
    limits.add_argument(
        "--max-unconfirmed-per-source",
        type=int,
        default=8,
        metavar="N",
        help="calls per source ringing or not yet ACKed; beyond: 503 (default 8)",
    )
    limits.add_argument(
        "--max-call-s", type=float, default=600.0, help="end calls after this long (default 600)"
    )
    limits.add_argument(
        "--max-tcp-per-source",
        type=int,
        default=8,
        metavar="N",
        help="TCP/TLS connections per source address (default 8)",
    )
    limits.add_argument(
        "--tcp-idle-s",
        type=float,
        default=30.0,
        help="close TCP/TLS connections idle this long, unless a call uses them (default 30)",
    )
    limits.add_argument(
        "--max-message-bytes",
        type=int,
        default=8192,
        help="larger SIP messages are dropped (default 8192)",
    )
    limits.add_argument(
        "--max-inband-calls",
        type=int,
        default=50,
        help="calls whose G.711 audio is searched for DTMF tones at once; 0: none (default 50)",
    )
    limits.add_argument(
        "--rtp-ports", default="16384-32767", metavar="LOW-HIGH", help="RTP/RTCP port range"
    )

    answer = add_answer_parser(commands)
    _password_options(answer)
    _tls_options(answer)
    _location_option(answer, Location.CUSTOMER_LAN.value)
    _output_options(answer)
    add_history_options(answer)

    demo = commands.add_parser("demo", help="start a responder on loopback and probe it")
    _output_options(demo)

    add_capacity_parser(commands)
    add_analyze_parser(commands)
    add_nat_check_parser(commands)
    add_history_parser(commands)
    add_localize_parser(commands)
    add_exporter_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handlers: dict[str, Callable[[argparse.Namespace], int]] = {
            "run": _probe,
            "options": _probe,
            "call": _probe,
            "demo": _probe,
            "answer": run_answer_command,
            "responder": _responder,
            "analyze": run_analyze_command,
            "capacity": run_capacity_command,
            "history": run_history_command,
            "nat-check": run_nat_check_command,
            "localize": run_localize_command,
            "exporter": run_exporter_command,
        }
        if args.command is None:
            parser.print_help(sys.stderr)
            return int(ExitCode.UNKNOWN)
        return handlers[args.command](args)
    except SipProbeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(ExitCode.UNKNOWN)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return int(ExitCode.UNKNOWN)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, not a traceback
        if os.environ.get("SIPPROBE_DEBUG"):
            import traceback

            traceback.print_exc()
        print(
            f"error: internal error: {exc!r} (set SIPPROBE_DEBUG=1 for the traceback; "
            "please report it)",
            file=sys.stderr,
        )
        return int(ExitCode.UNKNOWN)


def _probe(args: argparse.Namespace) -> int:
    from sipprobe.cli.probe import run_probe_command

    return run_probe_command(args)


def _responder(args: argparse.Namespace) -> int:
    from sipprobe.cli.responder import serve_responder

    return serve_responder(args)


# Commands whose process may end without tearing the interpreter down: ``analyze`` holds
# ~100 MB of numpy arrays and many small objects for a large capture, and freeing them one by
# one at exit only costs time (measured: 10-25 ms of a 0.4 s run). Its files are closed and
# its output is flushed here first; it starts no thread and registers nothing to run at exit.
_QUICK_EXIT = frozenset({"analyze"})


def console_main() -> None:
    # A crash inside the C of the SIP stack is a signal, not an exception: print where the
    # Python side was when it came, so such a crash leaves evidence on stderr.
    faulthandler.enable()
    code = main()
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if command in _QUICK_EXIT:
        with contextlib.suppress(OSError):  # a closed pipe: nothing more to say
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
