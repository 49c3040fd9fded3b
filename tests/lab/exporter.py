"""Fixture: ``sipprobe exporter`` as a separate process on a free loopback port."""

import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.logs import attach_log
from lab.ports import free_port, wait_listening
from lab.process import PeerProcess, start_peer


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True, slots=True)
class Exporter:
    port: int
    runs_dir: Path
    process: PeerProcess

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None, timeout: float = 60) -> Answer:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, dict(response.headers), response.read().decode())
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, dict(error.headers), error.read().decode())


@pytest.fixture
def exporter_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Exporter]]:
    """Start exporters: ``exporter_factory(config="yaml text")``."""
    running: list[PeerProcess] = []

    def start(config: str = "") -> Exporter:
        directory = tmp_path / f"exporter-{len(running)}"
        directory.mkdir()
        log = directory / "exporter.log"
        attach_log(request.node, f"exporter log ({directory.name})", log)
        (directory / "exporter.yaml").write_text(config)
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "sipprobe",
            "exporter",
            "--listen",
            f"127.0.0.1:{port}",
            "--config",
            str(directory / "exporter.yaml"),
            "--runs-dir",
            str(directory / "runs"),
        ]
        process = start_peer("exporter", argv, log, directory)
        running.append(process)
        wait_listening("tcp", "127.0.0.1", port, 15.0, process=process.popen)
        return Exporter(port, directory / "runs", process)

    yield start
    for process in running:
        process.stop()
