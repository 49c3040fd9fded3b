"""``sipprobe responder``: argument checks, then the responder's event loop."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from sipprobe.errors import SetupError, UsageError
from sipprobe.model.endpoint import Endpoint
from sipprobe.model.results import ExitCode
from sipprobe.scenario.credentials import read_password
from sipprobe.signalling.mirror import MirrorServer
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


def serve_responder(args: argparse.Namespace) -> int:
    from sipprobe.signalling.account import Credentials
    from sipprobe.signalling.responder import Responder, ResponderSettings

    host, port = parse_listen(args.listen)
    transports = tuple(t.strip().lower() for t in args.transports.split(",") if t.strip())
    unknown = [t for t in transports if t not in TRANSPORTS]
    if not transports or unknown:
        raise UsageError(f"--transports takes a list of udp, tcp, tls; got {args.transports!r}")
    if "tls" in transports and not (args.tls_cert and args.tls_key):
        raise UsageError("a TLS listener needs --tls-cert and --tls-key")
    credentials = None
    if args.auth_user:
        credentials = Credentials(
            args.auth_user, read_password(args.password_env, args.password_file)
        )
    settings = ResponderSettings(
        host=host,
        port=port,
        transports=transports,
        mode=args.mode,
        ring_ms=max(0, args.ring_ms),
        credentials=credentials,
        realm=args.realm,
        tls_cert_file=args.tls_cert,
        tls_key_file=args.tls_key,
        srtp=args.srtp,
    )

    def say(text: str) -> None:
        print(text, flush=True)

    if not args.mirror:
        Responder(settings, say).serve()
        sys.stdout.flush()
        return int(ExitCode.OK)
    mirror_port = args.mirror_port or port
    if not 0 < mirror_port < 65536:
        raise UsageError(f"--mirror-port takes a port number 1-65535, got {mirror_port}")
    mirror = _start_mirror(host, mirror_port, say)
    try:
        if mirror_port == port:  # the mirror has the SIP port: no pjsua beside it
            _serve_mirror_only(mirror, say)
        else:
            thread = threading.Thread(target=mirror.serve_forever, name="mirror", daemon=True)
            thread.start()
            Responder(settings, say).serve()
            mirror.stop()
            thread.join(timeout=2.0)
    finally:
        mirror.close()
    sys.stdout.flush()
    return int(ExitCode.OK)


def _start_mirror(host: str, port: int, say: Callable[[str], None]) -> MirrorServer:
    try:
        return MirrorServer(host, port, say)
    except OSError as exc:
        raise SetupError(
            f"cannot listen on {host}:{port} for the mirror: {exc.strerror or exc}"
        ) from exc


def _serve_mirror_only(mirror: MirrorServer, say: Callable[[str], None]) -> None:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        mirror.stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    say(f"ready mirror sip:mirror@{mirror.address} (udp,tcp)")
    mirror.serve_forever()
    say("stopping")
