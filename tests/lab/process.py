"""Run one lab peer as a child process and stop it by its own pid.

Each peer starts in a session of its own, so its session id is its pid. A peer is stopped
with SIGTERM to its pid (SIGKILL after a grace period); workers it forked (Kamailio) that are
still alive afterwards are found by that session id and killed by their pids. Nothing is
ever signalled by name.
"""

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_S = 5.0
LOG_TAIL_CHARS = 20000


@dataclass(frozen=True, slots=True)
class PeerProcess:
    """A running peer: its process and the file that holds its stdout and stderr."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, grace_s: float = STOP_GRACE_S) -> int:
        """SIGTERM, SIGKILL after `grace_s`, then kill leftover workers; returns the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=grace_s)
        _kill_session_leftovers(self.pid, grace_s)
        return self.popen.returncode


def session_members(sid: int) -> list[int]:
    """Pids of live (non-zombie) processes whose session id is `sid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
        state, _ppid, _pgrp, session = stat.rsplit(")", 1)[1].split()[:4]
        if int(session) == sid and state != "Z":
            members.append(int(entry.name))
    return members


def _kill_session_leftovers(sid: int, grace_s: float) -> None:
    deadline = time.monotonic() + grace_s
    while members := session_members(sid):
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() >= deadline:
            raise RuntimeError(f"processes {members} of session {sid} survived SIGKILL")
        time.sleep(0.05)


def start_peer(name: str, argv: list[str], log_path: Path, cwd: Path) -> PeerProcess:
    """Start `argv` in `cwd` with stdin closed and stdout+stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return PeerProcess(name=name, popen=popen, log_path=log_path)


def read_tail(path: Path, limit: int = LOG_TAIL_CHARS) -> str:
    """The last `limit` characters of a log file, or a note that it does not exist."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} was not written)"
    if len(text) > limit:
        return f"... ({len(text) - limit} characters cut)\n" + text[-limit:]
    return text
