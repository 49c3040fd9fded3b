"""`sipprobe ...` started in the background while a test places a call to it (answer steps).

The fixture `background_probe(*args, env=)` starts `python -m sipprobe ... --format json`
(this checkout's code, SIPPROBE_* variables dropped) with its stdout and stderr in files, and
stops by pid whatever a failed test left running.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WAITING = "waiting for a call on "


@dataclass
class BackgroundProbe:
    """`sipprobe ...` running while the test makes the call; its stdout and stderr in files."""

    popen: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    started: float

    def wait_until_waiting(self, timeout_s: float = 20.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            text = self.stderr.read_text()
            if WAITING in text:
                return text
            assert self.popen.poll() is None, f"the probe ended: {text}"
            time.sleep(0.05)
        raise AssertionError(f"the probe never said it was waiting: {self.stderr.read_text()}")

    def finish(self, timeout_s: float) -> tuple[int, dict[str, Any], str, float]:
        code = self.popen.wait(timeout=timeout_s)
        wall = time.monotonic() - self.started
        stderr = self.stderr.read_text()
        assert "Traceback" not in stderr, stderr
        return code, json.loads(self.stdout.read_text()), stderr, wall


@pytest.fixture
def background_probe(tmp_path: Path) -> Iterator[Callable[..., BackgroundProbe]]:
    started: list[BackgroundProbe] = []

    def start(*args: str, env: dict[str, str] | None = None) -> BackgroundProbe:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
        environment.update(env or {})
        number = len(started)
        stdout, stderr = tmp_path / f"probe-{number}.json", tmp_path / f"probe-{number}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            popen = subprocess.Popen(
                [sys.executable, "-m", "sipprobe", *args, "--format", "json"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=environment,
                start_new_session=True,
            )
        probe = BackgroundProbe(popen, stdout, stderr, time.monotonic())
        started.append(probe)
        return probe

    yield start
    for probe in started:  # a test that failed half-way: stop what it started, by pid
        if probe.popen.poll() is None:
            probe.popen.send_signal(signal.SIGTERM)
            try:
                probe.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                probe.popen.kill()
                probe.popen.wait(timeout=5)
