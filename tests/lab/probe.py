"""Running the real `sipprobe` command against lab peers, and reading what it reports."""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROBE_TIMEOUT_S = 120


@dataclass(frozen=True, slots=True)
class ProbeRun:
    returncode: int
    report: dict[str, Any]
    stderr: str
    wall_s: float

    def step(self, kind: str, index: int = 0) -> dict[str, Any]:
        return [s for s in self.report["steps"] if s["kind"] == kind][index]

    def findings(self, code: str | None = None) -> list[dict[str, Any]]:
        found = self.report["verdict"]["findings"]
        return [f for f in found if code is None or f["code"] == code]


def run_sipprobe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`sipprobe ARGS`, with a clean SIPPROBE_* environment plus `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sipprobe", *args],
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        env=environment,
        check=False,
    )


def run_probe(*args: str, env: dict[str, str] | None = None) -> ProbeRun:
    """`sipprobe ARGS --format json`, with a clean SIPPROBE_* environment plus `env`."""
    started = time.monotonic()
    result = run_sipprobe(*args, "--format", "json", env=env)
    wall = time.monotonic() - started
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout, f"no report on stdout (exit {result.returncode}): {result.stderr}"
    return ProbeRun(result.returncode, json.loads(result.stdout), result.stderr, wall)


def write_scenario(directory: Path, text: str) -> str:
    path = directory / "scenario.yaml"
    path.write_text(text)
    return str(path)
