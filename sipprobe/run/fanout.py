"""Several targets at once: each run is ``python -m sipprobe run ... --target URI`` in a child.

pjsua2 allows one Endpoint per process: constructing a second one while the first lives
throws PJ_EEXISTS from a C++ constructor, which aborts the interpreter (tried with
pjsua2-python 2.15.1). Runs that overlap in time therefore cannot share a process. A child
per run also means that one target that crashes the SIP stack, hangs past its bounds or is
killed costs that run only: the others go on, and that run is UNKNOWN with the reason.
Threads here only wait for children; no thread touches pjsua2.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sipprobe.errors import UsageError
from sipprobe.model.results import ExitCode
from sipprobe.sip.uri import SipUri, parse_uri

# Options of `run` that the parent handles itself and never hands to a child.
PARENT_ONLY = frozenset({"every", "count", "targets", "concurrency", "target", "out", "quiet"})


@dataclass(frozen=True, slots=True)
class ChildRun:
    """What one child run gave: its exit code, its report and its stderr."""

    target: str
    exit_code: int
    stdout: str
    stderr: str
    wall_s: float
    note: str | None = None  # why the run is UNKNOWN when the child did not end by itself
    timed_out: bool = False  # stopped at its time bound


def read_targets(path: str) -> tuple[SipUri, ...]:
    """One SIP URI per line; blank lines and ``#`` comments are skipped, repeats dropped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read --targets file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"--targets file {path} is not UTF-8 text") from exc
    targets: dict[str, SipUri] = {}
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            uri = parse_uri(text)
        except UsageError as exc:
            raise UsageError(f"{path}:{number}: {exc}") from exc
        targets.setdefault(str(uri), uri)
    if not targets:
        raise UsageError(f"--targets file {path} lists no SIP URI")
    return tuple(targets.values())


def child_argv(
    run_parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    target: str,
    out: str | None,
) -> list[str]:
    """The ``run`` command line that repeats ``args`` for one ``target``.

    Built from the parser's own option list, so an option added to ``run`` later reaches the
    children without a change here.
    """
    argv = ["run"]
    for action in run_parser._actions:
        dest = action.dest
        if dest in PARENT_ONLY or dest in ("help", "version"):
            continue
        value = getattr(args, dest, action.default)
        if not action.option_strings:
            argv.append(str(value))
        elif isinstance(action, argparse._AppendAction):
            for item in value or ():
                argv += [action.option_strings[0], str(item)]
        elif action.nargs == 0:
            if value != action.default:
                argv.append(action.option_strings[0])
        elif value is not None and value != action.default:
            argv += [action.option_strings[0], str(value)]
    argv += ["--target", target, "--quiet"]
    if out is not None:
        argv += ["--out", out]
    return argv


def run_child(target: str, argv: Sequence[str], timeout_s: float) -> ChildRun:
    """Run one child to its end, or kill it and what it started after ``timeout_s``."""
    started = time.monotonic()
    command = [sys.executable, "-m", "sipprobe", *argv]
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            stdout, stderr = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_tree(child.pid)
            stdout, stderr = child.communicate()
            return ChildRun(
                target,
                int(ExitCode.UNKNOWN),
                stdout,
                stderr,
                time.monotonic() - started,
                f"no result within {timeout_s:g} s: the run was stopped",
                timed_out=True,
            )
    wall = time.monotonic() - started
    code = child.returncode
    if code in tuple(ExitCode):
        return ChildRun(target, code, stdout, stderr, wall)
    why = f"ended by signal {-code}" if code < 0 else f"exited with status {code}"
    return ChildRun(target, int(ExitCode.UNKNOWN), stdout, stderr, wall, why)


def kill_tree(pid: int, proc: Path = Path("/proc")) -> None:
    """SIGKILL ``pid`` and every process below it (a run's tcpdump), each by its own pid.

    The tree is read before anything is killed: once ``pid`` is gone its children are
    re-parented and could no longer be told apart.
    """
    parents: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    doomed, queue = [], [pid]
    while queue:
        current = queue.pop()
        doomed.append(current)
        queue.extend(parents.get(current, []))
    for member in doomed:
        with suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)


def run_children(
    jobs: Sequence[tuple[str, list[str]]],
    concurrency: int,
    timeout_s: float,
    on_done: Callable[[ChildRun], None],
) -> list[int]:
    """Run ``(target, argv)`` jobs, ``concurrency`` at a time; ``on_done`` is called in this
    thread as each one ends. Returns the exit codes in the order the jobs were given."""
    codes: dict[int, int] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sipprobe-child") as pool:
        futures = {
            pool.submit(run_child, target, argv, timeout_s): index
            for index, (target, argv) in enumerate(jobs)
        }
        for future in as_completed(futures):
            child = future.result()
            codes[futures[future]] = child.exit_code
            on_done(child)
    return [codes[index] for index in range(len(jobs))]
