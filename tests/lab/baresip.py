"""baresip 1.0 (Debian 12 package `baresip`) as a real soft phone far end that auto-answers.

baresip runs headless from a config directory this module writes (`-f DIR`): no terminal UI
(stdio.so would fail on a closed stdin), no sound card, no STUN/TURN/ICE, G.711 only:

  config    sip_listen 127.0.0.1:PORT (a free port); modules g711, ausine, aubridge;
            audio_source ausine,440 (a 440 Hz tone, so baresip sends audio: ausine makes
            48 kHz stereo, baresip resamples to 8 kHz mono); audio_player and audio_alert
            aubridge (an in-process device that needs no sound card; what baresip receives is
            decoded and dropped); rtp_ports from a free port block; rtp_tos 184, the value of
            baresip's own config template, i.e. DSCP 46 (EF) as a stock install marks RTP;
            dns_server 127.0.0.1:53 so nothing could ever go to the machine's resolver.
  accounts  <sip:USER@127.0.0.1:PORT>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA
            no registration (regint=0), every incoming call answered at once (200 "Answering").

What baresip announces in SDP is not what it sends from: it puts its "local network address"
in o= and c=, the IPv4 address of the interface of the default route (printed at start as
`Local network address:  IPv4=eth0|192.0.2.2`), and binds its RTP and RTCP sockets to
0.0.0.0. A caller on 127.0.0.1 therefore gets `c=IN IP4 192.0.2.2` in the 200 OK, while
baresip's RTP arrives from 127.0.0.1:PORT (the kernel picks the source address of the route
to the caller, which is lo). Audio flows both ways all the same: the caller's RTP sent to
192.0.2.2 reaches the wildcard socket too. `Baresip.announced_ipv4` is the address parsed from
that start-up line (None when baresip printed none).

baresip's stdout and stderr (`-v` debug and `-s` SIP trace) go to `baresip.log` in the
directory; the fixture shows it in the report of a failing test. baresip is stopped by its pid
(SIGTERM: it hangs up and quits).
"""

import contextlib
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lab.environment import require_lab
from lab.logs import attach_log
from lab.ports import LOOPBACK_V4, free_port, wait_listening
from lab.process import PeerProcess, read_tail, start_peer

START_TIMEOUT_S = 10.0
MODULE_PATH = Path("/usr/lib/baresip/modules")
RTP_PORT_SPAN = 8  # baresip picks RTP ports (and RTP + 1 for RTCP) at random in this block
TONE_HZ = 440
READY_LINE = "baresip is ready."
_LOCAL_V4 = re.compile(r"Local network address:.*?IPv4=[^|\s]*\|(\d+\.\d+\.\d+\.\d+)")


@dataclass(frozen=True, slots=True)
class Baresip:
    """A running baresip that auto-answers, as tests see it."""

    host: str
    port: int
    user: str
    rtp_ports: tuple[int, int]  # first and last port baresip may bind for RTP and RTCP
    announced_ipv4: str | None  # the address baresip writes into its SDP (o=, c=)
    config_dir: Path
    log: Path
    pid: int

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def uri(self, user: str | None = None) -> str:
        return f"sip:{user or self.user}@{self.host}:{self.port}"


def write_config(directory: Path, *, port: int, rtp_ports: tuple[int, int], user: str) -> None:
    """baresip's `config` and `accounts` in `directory` (see the module docstring)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "poll_method": "epoll",
        "sip_listen": f"{LOOPBACK_V4}:{port}",
        "call_local_timeout": "120",
        "call_max_calls": "4",
        "audio_player": "aubridge,play",
        "audio_alert": "aubridge,alert",
        "audio_source": f"ausine,{TONE_HZ}",
        "ausrc_srate": "48000",  # ausine makes 48 kHz stereo only
        "ausrc_channels": "2",
        "rtp_tos": "184",  # DSCP 46 (EF) << 2, as in baresip's config template
        "rtp_ports": f"{rtp_ports[0]}-{rtp_ports[1]}",
        "rtcp_mux": "no",
        "dns_server": f"{LOOPBACK_V4}:53",
        "module_path": str(MODULE_PATH),
    }
    lines = [f"{key}\t\t{value}" for key, value in config.items()]
    lines += [f"module\t\t{name}" for name in ("g711.so", "ausine.so", "aubridge.so")]
    lines += ["module_tmp\t\taccount.so", ""]
    (directory / "config").write_text("\n".join(lines))
    (directory / "accounts").write_text(
        f"<sip:{user}@{LOOPBACK_V4}:{port}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n"
    )


def _wait_ready(process: PeerProcess, deadline: float) -> str:
    """baresip's log once it printed READY_LINE; raise if it exits or the deadline passes."""
    while True:
        text = process.log_path.read_text(errors="replace")
        if READY_LINE in text:
            return text
        if process.popen.poll() is not None:
            raise RuntimeError(f"baresip exited with {process.popen.returncode} before ready")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"baresip not ready after {START_TIMEOUT_S} s")
        time.sleep(0.02)


def start_baresip(directory: Path, *, user: str = "bob") -> tuple[Baresip, PeerProcess]:
    """Start baresip on a free loopback port, auto-answering; return once it is ready."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port((LOOPBACK_V4,))
    # baresip binds RTP to 0.0.0.0, so the block must be free on every address.
    first = free_port(("0.0.0.0",), span=RTP_PORT_SPAN)
    rtp_ports = (first, first + RTP_PORT_SPAN - 1)
    config_dir = directory / "config"
    write_config(config_dir, port=port, rtp_ports=rtp_ports, user=user)
    log = directory / "baresip.log"
    argv = ["baresip", "-4", "-v", "-s", "-f", str(config_dir)]
    process = start_peer("baresip", argv, log, directory)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        wait_listening("udp", LOOPBACK_V4, port, START_TIMEOUT_S, process=process.popen)
        text = _wait_ready(process, deadline)
    except BaseException as exc:
        process.stop()
        output = read_tail(log)
        raise RuntimeError(f"baresip failed to start ({exc}); its output:\n{output}") from exc
    announced = _LOCAL_V4.search(text)
    peer = Baresip(
        host=LOOPBACK_V4,
        port=port,
        user=user,
        rtp_ports=rtp_ports,
        announced_ipv4=announced[1] if announced else None,
        config_dir=config_dir,
        log=log,
        pid=process.pid,
    )
    return peer, process


@pytest.fixture
def baresip(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Baresip]]:
    """Start auto-answering baresip peers: `baresip(user=)`; each is stopped by its pid."""
    require_lab("baresip")
    running: list[PeerProcess] = []
    numbers = itertools.count()

    def start(**options: Any) -> Baresip:
        directory = tmp_path / f"baresip-{next(numbers)}"
        attach_log(request.node, "baresip log", directory / "baresip.log")
        peer, process = start_baresip(directory, **options)
        running.append(process)
        return peer

    yield start
    with contextlib.ExitStack() as stack:
        for process in running:
            stack.callback(process.stop)
