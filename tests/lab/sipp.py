"""SIPp 3.6 as the lab's far end (UAS), and as a UAC that places a few calls.

UAS kinds (scenarios in tests/lab/sipp/, `@NAME@` tokens filled in per instance):
  echo    100, 180, 200 with SDP (PCMU), run with `-rtp_echo`: RTP to media_port comes back
  busy    100, 486 Busy Here
  silent  no answer at all; the call ends by itself after 60 s
  auth    401 challenge, then 200 with SDP for the right credentials or 403
  ring    100, 180, `ring_ms` of ringing, 200 with SDP; CANCEL while ringing -> 200 + 487
  garbage-sdp        100, 180, 200 whose application/sdp body is no SDP; ACK; BYE -> 200
  null-media         100, 180, 200 with c=IN IP4 0.0.0.0 and no RTP ever; ACK; BYE -> 200
  provisional-flood  100, then 180 in rounds of 32 (~2,500 a second) (`flood_rounds` rounds
                     at most) and no final answer; CANCEL -> 200 + 487
  no-refresh         echo, but its 200 takes on a 90 s session timer as the refresher
                     (refresher=uas) and never refreshes
The UAC scenario uac.xml places calls that follow Record-Route (see its header).

SIPp runs in the foreground with `-nostdin` (it needs no terminal then); its screen goes to
a log file. Besides SIP and media ports it opens a control socket (-ci/-cp), pinned to
loopback here as it would otherwise bind 0.0.0.0:8888.
"""

import contextlib
import itertools
import math
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import pytest

from lab.environment import require_lab
from lab.logs import attach_log
from lab.ports import LOOPBACK_V4, free_port, wait_listening
from lab.process import PeerProcess, read_tail, start_peer

SCENARIO_DIR = Path(__file__).with_name("sipp")
MAX_CALLS = 10000
START_TIMEOUT_S = 10.0
_TOKEN = re.compile(r"@([A-Z_]+)@")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._~+=/-]+")

UasKind = Literal[
    "echo",
    "busy",
    "silent",
    "auth",
    "ring",
    "hostile",
    "replay",
    "garbage-sdp",
    "null-media",
    "provisional-flood",
    "no-refresh",
]
Transport = Literal["udp", "tcp"]
UAS_KINDS: tuple[str, ...] = get_args(UasKind)


@dataclass(frozen=True, slots=True)
class SippUas:
    """A running SIPp UAS, as tests see it."""

    kind: str
    host: str
    port: int
    transport: str
    media_port: int
    user: str
    password: str
    message_log: Path
    error_log: Path
    screen_log: Path
    pid: int

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def uri(self, user: str = "uas") -> str:
        return f"sip:{user}@{self.host}:{self.port};transport={self.transport}"


@dataclass(frozen=True, slots=True)
class SippRun:
    """A finished SIPp UAC run."""

    returncode: int
    message_log: Path
    error_log: Path
    screen_log: Path


def render_scenario(kind: str, values: dict[str, str], target: Path) -> Path:
    """Copy scenario `kind` to `target` with its @NAME@ tokens replaced from `values`."""
    text = (SCENARIO_DIR / f"{kind}.xml").read_text()

    def fill(match: re.Match[str]) -> str:
        name = match[1]
        if name not in values:
            raise KeyError(f"scenario {kind}.xml needs a value for @{name}@")
        if not _SAFE_VALUE.fullmatch(values[name]):
            raise ValueError(f"{name} {values[name]!r} must match {_SAFE_VALUE.pattern}")
        return values[name]

    target.write_text(_TOKEN.sub(fill, text))
    return target


def _common_args(
    directory: Path, host: str, port: int, media_port: int, transport: Transport
) -> list[str]:
    return [
        "-nostdin",
        "-t", "u1" if transport == "udp" else "t1",
        "-i", host, "-p", str(port), "-bind_local",
        "-mi", host, "-mp", str(media_port),
        "-ci", host, "-cp", str(free_port((host,))),
        "-trace_msg", "-message_file", str(directory / "messages.log"),
        "-trace_err", "-error_file", str(directory / "errors.log"),
    ]  # fmt: skip


def start_sipp_uas(
    directory: Path,
    kind: UasKind,
    *,
    ring_ms: int = 500,
    user: str = "alice",
    password: str | None = None,
    transport: Transport = "udp",
    replay_pcap: Path | None = None,
    flood_rounds: int = 1000,
) -> tuple[SippUas, PeerProcess]:
    """Start a SIPp UAS of `kind` on a free loopback port; return once it listens.

    `replay_pcap` (kind "replay"): the RTP stream SIPp plays to the caller once answered.
    """
    if kind not in UAS_KINDS:
        raise ValueError(f"unknown SIPp UAS kind {kind!r}; one of {UAS_KINDS}")
    if ring_ms < 1:
        raise ValueError(f"ring_ms must be at least 1 (SIPp reads timeout 0 as none): {ring_ms}")
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "replay":
        if replay_pcap is None:
            raise ValueError("kind 'replay' needs replay_pcap")
        shutil.copyfile(replay_pcap, directory / "replay.pcap")  # SIPp runs in `directory`
    password = password or secrets.token_hex(8)
    host, port = LOOPBACK_V4, free_port((LOOPBACK_V4,))
    # SIPp binds the media port and port + 2 (second stream of -rtp_echo).
    media_port = free_port((host,), span=3)
    args = _common_args(directory, host, port, media_port, transport)
    values = {
        "RING_MS": str(ring_ms),
        "USER": user,
        "PASSWORD": password,
        "FLOOD_ROUNDS": str(flood_rounds),
    }
    scenario = render_scenario(kind, values, directory / f"{kind}.xml")
    echo = ["-rtp_echo"] if kind in ("echo", "no-refresh") else []
    argv = ["sipp", "-sf", str(scenario), *echo, *args, "-m", str(MAX_CALLS)]
    screen_log = directory / "screen.log"
    process = start_peer(f"sipp {kind}", argv, screen_log, directory)
    uas = SippUas(
        kind=kind,
        host=host,
        port=port,
        transport=transport,
        media_port=media_port,
        user=user,
        password=password,
        message_log=directory / "messages.log",
        error_log=directory / "errors.log",
        screen_log=screen_log,
        pid=process.pid,
    )
    try:
        wait_listening(transport, host, port, START_TIMEOUT_S, process=process.popen)
    except BaseException as exc:
        process.stop()
        log = read_tail(screen_log)
        raise RuntimeError(f"sipp {kind} failed to start ({exc}); its output:\n{log}") from exc
    return uas, process


def run_sipp_uac(
    directory: Path,
    target: tuple[str, int],
    *,
    service: str = "uas",
    scenario: str = "uac",
    values: dict[str, str] | None = None,
    calls: int = 1,
    call_length_ms: int = 1000,
    timeout_s: float = 30.0,
    extra: tuple[str, ...] = (),
) -> SippRun:
    """Run SIPp as UAC with tests/lab/sipp/`scenario`.xml against `target`.

    Requests go to sip:`service`@target; `values` fill the scenario's @NAME@ tokens. Returns
    when `calls` calls are done (exit code 0: all succeeded) or `timeout_s` has passed.
    """
    directory.mkdir(parents=True, exist_ok=True)
    host = LOOPBACK_V4
    args = _common_args(directory, host, free_port((host,)), free_port((host,), span=3), "udp")
    argv = [
        "sipp", f"{target[0]}:{target[1]}", "-s", service,
        "-sf", str(render_scenario(scenario, values or {}, directory / f"{scenario}.xml")),
        *args, "-m", str(calls), "-d", str(call_length_ms), "-timeout", f"{math.ceil(timeout_s)}s",
        *extra,
    ]  # fmt: skip
    screen_log = directory / "screen.log"
    process = start_peer("sipp uac", argv, screen_log, directory)
    try:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=timeout_s + 5)
    finally:
        returncode = process.stop()
    return SippRun(returncode, directory / "messages.log", directory / "errors.log", screen_log)


def _attach_sipp_logs(node: pytest.Item, name: str, directory: Path) -> None:
    for log in ("screen.log", "messages.log", "errors.log"):
        attach_log(node, f"{name} {log}", directory / log)


@pytest.fixture
def sipp_uas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., SippUas]]:
    """Start SIPp UASes: `sipp_uas(kind, ring_ms=, user=, password=, transport=)`."""
    require_lab("sipp")
    running: list[PeerProcess] = []
    numbers = itertools.count()

    def start(kind: UasKind, **options: Any) -> SippUas:
        directory = tmp_path / f"sipp-{kind}-{next(numbers)}"
        _attach_sipp_logs(request.node, f"sipp {kind}", directory)
        uas, process = start_sipp_uas(directory, kind, **options)
        running.append(process)
        return uas

    yield start
    # ExitStack stops every peer, last started first, even if stopping one of them fails.
    with contextlib.ExitStack() as stack:
        for process in running:
            stack.callback(process.stop)


@pytest.fixture
def sipp_uac(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., SippRun]:
    """Run SIPp as UAC: `sipp_uac(target, service=, scenario=, calls=, ...)`; see run_sipp_uac."""
    require_lab("sipp")
    numbers = itertools.count()

    def run(target: tuple[str, int], **options: Any) -> SippRun:
        directory = tmp_path / f"sipp-uac-{next(numbers)}"
        _attach_sipp_logs(request.node, "sipp uac", directory)
        return run_sipp_uac(directory, target, **options)

    return run


def start_sipp_builtin_uas(
    directory: Path, *, rtp_echo: bool = True
) -> tuple[SippUas, PeerProcess]:
    """Start a stock SIPp UAS: SIPp's built-in `-sn uas` scenario, none of tests/lab/sipp/.

    It answers INVITE with 180 and 200 (SDP: PCMU on media_port) and BYE with 200; with
    `rtp_echo`, `-rtp_echo` sends every RTP packet back to where it came from, payload and
    SSRC unchanged but with DSCP 0 (SIPp does not mark). SIPp sends no RTCP of its own and
    does not echo RTCP (media_port + 1). User and password are unused.
    """
    directory.mkdir(parents=True, exist_ok=True)
    host, port = LOOPBACK_V4, free_port((LOOPBACK_V4,))
    media_port = free_port((host,), span=3)  # -rtp_echo binds media_port and media_port + 2
    args = _common_args(directory, host, port, media_port, "udp")
    echo = ["-rtp_echo"] if rtp_echo else []
    argv = ["sipp", "-sn", "uas", *echo, *args, "-m", str(MAX_CALLS)]
    screen_log = directory / "screen.log"
    process = start_peer("sipp stock uas", argv, screen_log, directory)
    uas = SippUas(
        kind="stock-uas",
        host=host,
        port=port,
        transport="udp",
        media_port=media_port,
        user="",
        password="",
        message_log=directory / "messages.log",
        error_log=directory / "errors.log",
        screen_log=screen_log,
        pid=process.pid,
    )
    try:
        wait_listening("udp", host, port, START_TIMEOUT_S, process=process.popen)
    except BaseException as exc:
        process.stop()
        log = read_tail(screen_log)
        raise RuntimeError(f"stock sipp uas failed to start ({exc}); its output:\n{log}") from exc
    return uas, process
