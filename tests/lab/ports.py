"""Free ports on loopback and readiness checks for the peers that bind them.

Ports come from below the kernel's ephemeral range, so a port handed to a peer is never
also picked by the kernel for some outgoing socket. Each port is checked by binding it for
UDP and TCP, and handed out at most once per test process.
"""

import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

LOOPBACK_V4 = "127.0.0.1"
LOOPBACK_V6 = "::1"

Protocol = Literal["udp", "tcp"]

_PORT_RANGE = (20000, 32000)
_TCP_LISTEN = "0A"
_handed_out: set[int] = set()


class PeerNotReadyError(RuntimeError):
    """A lab peer did not start listening in time, or exited while starting."""


def ipv6_loopback_available() -> bool:
    """True when ::1 can be bound (IPv6 enabled on lo)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK_V6, 0))
    except OSError:
        return False
    return True


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(family, kind) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def free_port(hosts: tuple[str, ...] = (LOOPBACK_V4,), *, span: int = 1) -> int:
    """A port p such that p .. p+span-1 are free for UDP and TCP on every host in `hosts`.

    `span` reserves neighbours too, e.g. span=3 for SIPp's media port and port+2.
    """
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(*_PORT_RANGE)
        block = range(port, port + span)
        if any(p in _handed_out for p in block):
            continue
        if all(_bindable(host, p) for host in hosts for p in block):
            _handed_out.update(block)
            return port
    raise PeerNotReadyError(f"no free port block of {span} in {_PORT_RANGE} on {hosts}")


def _proc_hex_address(host: str) -> str:
    """The address as /proc/net/{udp,tcp}[6] prints it: 32-bit words in host byte order."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    packed = socket.inet_pton(family, host)
    words = (packed[i : i + 4] for i in range(0, len(packed), 4))
    return "".join(f"{int.from_bytes(word, sys.byteorder):08X}" for word in words)


def is_listening(proto: Protocol, host: str, port: int, *, pid: int | None = None) -> bool:
    """True when a socket is bound to host:port (or the wildcard) for `proto`.

    TCP sockets count only in LISTEN state. With `pid`, the table of that process's network
    namespace is read (/proc/PID/net/...), which also works for peers inside a netns.
    """
    v6 = ":" in host
    table = f"{proto}6" if v6 else proto
    path = Path(f"/proc/{pid}/net/{table}") if pid is not None else Path(f"/proc/net/{table}")
    wanted = {
        f"{_proc_hex_address(host)}:{port:04X}",
        f"{_proc_hex_address('::' if v6 else '0.0.0.0')}:{port:04X}",
    }
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) < 4 or fields[1] not in wanted:
            continue
        if proto == "udp" or fields[3] == _TCP_LISTEN:
            return True
    return False


def wait_listening(
    proto: Protocol,
    host: str,
    port: int,
    timeout: float = 10.0,
    *,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Return once host:port is bound for `proto`; raise PeerNotReadyError after `timeout` s.

    With `process`, fail at once if it exits, and read the socket table of its namespace.
    """
    deadline = time.monotonic() + timeout
    pid = process.pid if process is not None else None
    while True:
        if process is not None and process.poll() is not None:
            raise PeerNotReadyError(
                f"{process.args!r} exited with {process.returncode} before {proto} "
                f"{host}:{port} was listening"
            )
        if is_listening(proto, host, port, pid=pid):
            return
        if time.monotonic() >= deadline:
            raise PeerNotReadyError(f"nothing listening on {proto} {host}:{port} after {timeout} s")
        time.sleep(0.02)
