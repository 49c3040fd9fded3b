"""rtpengine as the lab platform's media relay, in userspace only, on a loopback address.

Debian's `rtpengine-daemon` (10.5) runs in the foreground with `--table=-1` (no kernel module:
every packet is relayed by the daemon itself), its config file ignored (`--config-file=none`),
the ng control protocol on a loopback UDP port (Kamailio's rtpengine module talks to it) and
RTP on RELAY_HOST within a block of ports reserved for this instance (lab/ports.py), so it can
clash neither with another test's peers nor with another rtpengine. RELAY_HOST is a loopback
address of its own, so a test can tell the relay's media address from the probe's
(127.0.0.1) at a glance. Stopped by its own pid (lab/process.py).

Fixture: `rtpengine` (one instance per test, stopped after it).
"""

import contextlib
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.environment import require_lab
from lab.logs import attach_log
from lab.ports import LOOPBACK_V4, free_port
from lab.process import PeerProcess, read_tail, start_peer

RELAY_HOST = "127.0.0.44"
PORT_SPAN = 40  # RTP and RTCP of both legs of a few calls: four ports a call
START_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class RtpEngine:
    """A running lab rtpengine, as tests see it."""

    host: str  # where it relays media
    ng_port: int  # its control port on LOOPBACK_V4
    port_min: int
    port_max: int
    log_path: Path
    pid: int

    @property
    def ng_socket(self) -> str:
        """The address Kamailio's rtpengine module is given."""
        return f"udp:{LOOPBACK_V4}:{self.ng_port}"


def ng_ping(port: int, timeout_s: float = 1.0) -> bool:
    """True when rtpengine answers the ng `ping` command with `pong` (bencoded)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        sock.sendto(b"lab1 d7:command4:pinge", (LOOPBACK_V4, port))
        try:
            reply = sock.recv(1000)
        except OSError:
            return False
    return reply == b"lab1 d6:result4:ponge"


def rtpengine_argv(
    directory: Path, interfaces: tuple[str, ...], ng_port: int, port_min: int, port_max: int
) -> list[str]:
    """rtpengine in the foreground, userspace only, with `interfaces` (`[NAME/]ADDRESS`)."""
    return [
        "rtpengine", "--config-file=none", "--table=-1", "--foreground", "--log-stderr",
        "--delete-delay=0", f"--pidfile={directory / 'rtpengine.pid'}", "--log-level=6",
        *(f"--interface={interface}" for interface in interfaces),
        f"--listen-ng={LOOPBACK_V4}:{ng_port}", f"--port-min={port_min}", f"--port-max={port_max}",
    ]  # fmt: skip


def wait_ng_ready(process: PeerProcess, ready: Callable[[], bool]) -> None:
    """Until `ready()` (its ng port answers), or raise with its log; stops it on failure."""
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not ready():
            if process.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"exit status {process.popen.poll()}")
            time.sleep(0.05)
    except BaseException as exc:
        process.stop()
        raise RuntimeError(
            f"rtpengine did not get ready ({exc}); its log:\n{read_tail(process.log_path)}"
        ) from exc


def start_rtpengine(directory: Path) -> tuple[RtpEngine, PeerProcess]:
    directory.mkdir(parents=True, exist_ok=True)
    ng_port = free_port((LOOPBACK_V4,))
    port_min = free_port((RELAY_HOST,), span=PORT_SPAN)
    port_min += port_min % 2  # RTP on even ports: the block's first even one
    port_max = port_min + PORT_SPAN - 3  # the last RTP/RTCP pair inside the reserved block
    log_path = directory / "rtpengine.log"
    argv = rtpengine_argv(directory, (RELAY_HOST,), ng_port, port_min, port_max)
    process = start_peer("rtpengine", argv, log_path, directory)
    wait_ng_ready(process, lambda: ng_ping(ng_port, timeout_s=0.2))
    engine = RtpEngine(RELAY_HOST, ng_port, port_min, port_max, log_path, process.pid)
    return engine, process


@pytest.fixture
def rtpengine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RtpEngine]:
    """One rtpengine relaying media on RELAY_HOST, stopped (by its pid) after the test."""
    require_lab("rtpengine")
    directory = tmp_path / "rtpengine"
    attach_log(request.node, "rtpengine log", directory / "rtpengine.log")
    engine, process = start_rtpengine(directory)
    with contextlib.ExitStack() as stack:
        stack.callback(process.stop)
        yield engine


_PORT_LINE = re.compile(r"-- Port\s+(\S+) <>\s+(\S+), SSRC [0-9a-f]+, (\d+) p,")


def relayed_packets(log_path: Path) -> dict[tuple[str, str], int]:
    """The RTP packets rtpengine received per (relay port, peer), from the final packet stats
    it logs when a call is deleted (RTCP ports left out): the relay's own count."""
    return {
        (relay, peer): int(packets)
        for relay, peer, packets in _PORT_LINE.findall(log_path.read_text(errors="replace"))
    }
