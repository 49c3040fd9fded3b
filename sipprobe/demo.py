"""``sipprobe demo``: start the responder on loopback and run the demo scenario against it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from sipprobe.errors import SetupError
from sipprobe.models import RunReport
from sipprobe.runner import run_scenario
from sipprobe.scenario.loader import load_scenario

READY_TIMEOUT_S = 15.0


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        if "ready " in text:
            return
        if process.poll() is not None:
            last = text.strip().splitlines()[-1:] or ["(no output)"]
            raise SetupError(f"the demo responder exited at start: {last[0]}")
        time.sleep(0.05)
    raise SetupError(f"the demo responder was not ready within {READY_TIMEOUT_S:g} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
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
    port = _free_udp_port(host)
    scenario_file = resources.files("sipprobe.scenario").joinpath("demo.yaml")
    with tempfile.TemporaryDirectory(prefix="sipprobe-demo-") as scratch:
        log = Path(scratch) / "responder.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sipprobe",
                    "responder",
                    "--listen",
                    f"{host}:{port}",
                    "--transports",
                    "udp",
                    "--ring-ms",
                    "200",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            progress(f"starting the responder on {host}:{port}")
            _wait_ready(process, log)
            with resources.as_file(scenario_file) as path:
                scenario = load_scenario(str(path), {"TARGET": f"sip:{host}:{port}"})
            return run_scenario(scenario, progress, workdir=workdir, capture=capture)
        finally:
            _stop(process)
