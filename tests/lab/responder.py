"""Fixture: sipprobe's own responder as a separate process on a free loopback port."""

import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.logs import attach_log
from lab.ports import free_port, wait_listening
from lab.process import PeerProcess, start_peer


@dataclass(frozen=True, slots=True)
class Responder:
    host: str
    port: int
    log_path: Path
    user: str | None
    password: str | None
    process: PeerProcess

    def stop(self) -> None:
        self.process.stop()

    def uri(self, user: str = "echo", transport: str = "udp") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        suffix = "" if transport == "udp" else f";transport={transport}"
        return f"sip:{user}@{host}:{self.port}{suffix}"


@pytest.fixture
def responder_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Responder]]:
    """Start responders: `responder_factory(ring_ms=, mode=, user=, password=, host=, port=,
    srtp=, extra=)`; `extra` goes on the command line as it is.

    `port` reuses a port, e.g. of a responder stopped with `.stop()`, to change how "the same"
    target behaves between runs.
    """
    running: list[PeerProcess] = []
    numbers = itertools.count()

    def start(
        ring_ms: int = 0,
        mode: str = "echo",
        user: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        srtp: str = "off",
        extra: tuple[str, ...] = (),
    ) -> Responder:
        directory = tmp_path / f"responder-{next(numbers)}"
        directory.mkdir()
        log = directory / "responder.log"
        attach_log(request.node, f"responder log ({directory.name})", log)
        port = free_port((host,)) if port is None else port
        listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        argv = [
            sys.executable,
            "-m",
            "sipprobe",
            "responder",
            "--listen",
            listen,
            "--ring-ms",
            str(ring_ms),
            "--mode",
            mode,
            "--srtp",
            srtp,
            *extra,
        ]
        if user is not None and password is not None:
            secret = directory / "password"
            secret.write_text(password + "\n")
            argv += ["--auth-user", user, "--password-file", str(secret)]
        process = start_peer("responder", argv, log, directory)
        running.append(process)
        wait_listening("udp", host, port, 15.0, process=process.popen)
        return Responder(host, port, log, user, password, process)

    yield start
    for process in running:
        process.stop()


@pytest.fixture
def responder(responder_factory: Callable[..., Responder]) -> Responder:
    """One echoing responder with no ring time and no authentication."""
    return responder_factory()
