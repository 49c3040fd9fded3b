"""``sipprobe responder``: argument checks, then the responder's event loop."""

from __future__ import annotations

import argparse
import sys

from sipprobe.errors import SetupError, UsageError
from sipprobe.model.endpoint import Endpoint
from sipprobe.model.results import ExitCode
from sipprobe.scenario.credentials import read_password
from sipprobe.sip.transports import TRANSPORTS


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (all IPv4 addresses) into a host and a port."""
    try:
        listen = Endpoint.parse(f"0.0.0.0{text}" if text.startswith(":") else text)
    except ValueError:
        listen = Endpoint("")
    if not listen.port:
        raise UsageError(f"--listen takes HOST:PORT (e.g. 127.0.0.1:5062), got {text!r}")
    return listen.host, listen.port


def _port_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    if not sep or not low.isdigit() or not high.isdigit() or not 0 < int(low) < int(high) < 65536:
        raise UsageError(f"--rtp-ports takes LOW-HIGH (e.g. 16384-32767), got {text!r}")
    if int(high) - int(low) < 3:
        raise UsageError("--rtp-ports needs room for at least two port pairs")
    return int(low), int(high)


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise UsageError(f"{name} takes a positive number, got {value:g}")


def serve_responder(args: argparse.Namespace) -> int:
    from sipprobe.responder import Limits, Server, ServerSettings, UasSettings
    from sipprobe.responder.media import PortRange

    host, port = parse_listen(args.listen)
    transports = tuple(t.strip().lower() for t in args.transports.split(",") if t.strip())
    unknown = [t for t in transports if t not in TRANSPORTS]
    if not transports or unknown:
        raise UsageError(f"--transports takes a list of udp, tcp, tls; got {args.transports!r}")
    if "tls" in transports and not (args.tls_cert and args.tls_key):
        raise UsageError("a TLS listener needs --tls-cert and --tls-key")
    if args.mode == "tone" and args.srtp == "mandatory":
        raise UsageError("the tone is sent as plain RTP: --srtp mandatory needs --mode echo")
    mirror_port = None
    if args.mirror:
        mirror_port = args.mirror_port or port
        if not 0 < mirror_port < 65536:
            raise UsageError(f"--mirror-port takes a port number 1-65535, got {mirror_port}")
    for name in ("max_calls", "max_cps_per_source", "max_unconfirmed_per_source", "max_call_s"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    for name in ("max_tcp_per_source", "tcp_idle_s", "max_message_bytes"):
        _positive("--" + name.replace("_", "-"), getattr(args, name))
    if args.max_inband_calls < 0:
        raise UsageError(f"--max-inband-calls takes 0 or more, got {args.max_inband_calls}")
    limits = Limits(
        max_calls=args.max_calls,
        calls_per_s_per_source=args.max_cps_per_source,
        call_burst_per_source=max(1, int(2 * args.max_cps_per_source)),
        unconfirmed_per_source=args.max_unconfirmed_per_source,
        max_call_s=args.max_call_s,
        tcp_per_source=args.max_tcp_per_source,
        tcp_idle_s=args.tcp_idle_s,
        max_message_bytes=max(1024, args.max_message_bytes),
        inband_calls=args.max_inband_calls,
    )
    password = ""
    if args.auth_user:
        password = read_password(args.password_env, args.password_file)
    uas = UasSettings(
        mode=args.mode,
        ring_ms=max(0, args.ring_ms),
        user=args.auth_user or None,
        password=password,
        realm=args.realm,
        srtp="off" if args.mode == "tone" else args.srtp,
        limits=limits,
        ports=PortRange(*_port_range(args.rtp_ports)),
    )
    settings = ServerSettings(
        host=host,
        port=port,
        transports=transports,
        uas=uas,
        tls_cert_file=args.tls_cert,
        tls_key_file=args.tls_key,
        mirror_port=mirror_port,
    )

    def say(text: str) -> None:
        print(text, flush=True)

    try:
        server = Server(settings, say)
    except OSError as exc:
        raise SetupError(f"cannot listen on {args.listen}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # ssl: a certificate or key that does not load
        raise SetupError(f"cannot use the TLS certificate or key: {exc}") from exc
    server.serve()
    sys.stdout.flush()
    return int(ExitCode.OK)
