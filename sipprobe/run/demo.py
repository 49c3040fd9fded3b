"""``sipprobe demo``: start the responder on loopback and run the demo scenario against it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from pathlib import Path

from sipprobe.errors import SetupError
from sipprobe.model.demarc import Location
from sipprobe.model.results import RunReport
from sipprobe.run.runner import run_scenario
from sipprobe.scenario.loader import load_scenario

READY_TIMEOUT_S = 15.0


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_responder(host: str, port: int, log: Path, *options: str) -> subprocess.Popen[bytes]:
    """``sipprobe responder`` on ``host:port`` over UDP, its output in ``log`` (the demo and
    the benchmarks use it as their far end)."""
    with log.open("wb") as output:
        command = [sys.executable, "-m", "sipprobe", "responder", "--listen", f"{host}:{port}"]
        return subprocess.Popen(
            [*command, "--transports", "udp", *options],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def wait_ready(
    process: subprocess.Popen[bytes], log: Path, timeout_s: float = READY_TIMEOUT_S
) -> None:
    """Until the responder says it is ready; ``SetupError`` if it exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        if "ready " in text:
            return
        if process.poll() is not None:
            last = text.strip().splitlines()[-1:] or ["(no output)"]
            raise SetupError(f"the responder exited at start: {last[0]}")
        if time.monotonic() >= deadline:
            raise SetupError(f"the responder was not ready within {timeout_s:g} s")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 5 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def run_demo(
    progress: Callable[[str], None], workdir: Path | None = None, capture: bool = True
) -> RunReport:
    host = "127.0.0.1"
    port = free_udp_port(host)
    scenario_file = resources.files("sipprobe.scenario").joinpath("demo.yaml")
    with tempfile.TemporaryDirectory(prefix="sipprobe-demo-") as scratch:
        log = Path(scratch) / "responder.log"
        process = start_responder(host, port, log, "--ring-ms", "200")
        try:
            progress(f"starting the responder on {host}:{port}")
            wait_ready(process, log)
            with resources.as_file(scenario_file) as path:
                scenario = load_scenario(str(path), {"TARGET": f"sip:{host}:{port}"})
            # The responder stands in for the platform on the same loopback interface: no
            # customer network is between them, as for ClearTrunk's probe beside the platform.
            scenario = replace(scenario, location=Location.PLATFORM)
            return run_scenario(scenario, progress, workdir=workdir, capture=capture)
        finally:
            stop(process)
