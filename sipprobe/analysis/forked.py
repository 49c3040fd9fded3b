"""Running one function in a forked child, for a second core: its value comes back pickled.

``sipprobe analyze`` uses it to read half of a large capture and to measure half of the
streams while this process does the other half. A fork shares everything this process has
(the packets columns, without copying them) and costs a millisecond, where a fresh
interpreter would import numpy again.

Only ``may_fork()`` processes fork: a child of a process with other threads may inherit a lock
that one of them held, forever; and where SIGCHLD is ignored (some monitoring agents start
their plugins so) the kernel reaps children itself, so none could be waited for. The child
never returns into the caller's code: it sends ``(OK, value)``, ``(DAMAGED, message)`` for a
``CaptureError`` (damaged input, as fatal as when read in one process) or ``(FAILED, reason)``
for anything else, then leaves with ``os._exit``; it dies with this process (Linux
``PR_SET_PDEATHSIG``), so a killed ``analyze`` leaves no half-done reader behind. A child that
cannot be made, or ends without a word, reads as failed: the caller then does the work itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sipprobe.errors import CaptureError

__all__ = ["DAMAGED", "FAILED", "OK", "Forked", "may_fork"]

OK, DAMAGED, FAILED = "ok", "damaged", "failed"
Outcome = tuple[str, Any]
_PR_SET_PDEATHSIG = 1  # from linux/prctl.h


def may_fork() -> bool:
    """Whether this process can fork and wait safely: a POSIX system, no other thread, and
    SIGCHLD not ignored."""
    return (
        hasattr(os, "fork")
        and threading.active_count() == 1
        and signal.getsignal(signal.SIGCHLD) != signal.SIG_IGN
    )


class Forked:
    """``function(*args)`` running in a child process from construction on.

    Use as a context manager: leaving it (also by an exception) kills a child that has not
    reported and reaps it, so no process outlives the call.
    """

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.pid = 0
        self._pipe: Any = None
        self._failure = ""
        parent = os.getpid()
        try:
            readable, writable = os.pipe()
        except OSError as exc:
            self._failure = f"no pipe for a child: {exc}"
            return
        try:
            pid = os.fork()
        except OSError as exc:  # no memory or too many processes
            os.close(readable)
            os.close(writable)
            self._failure = f"no child: {exc}"
            return
        if pid == 0:  # pragma: no cover - the child: whatever happens, it ends here
            try:
                os.close(readable)
                _die_with(parent)
                _report(writable, function, args)
            finally:
                os._exit(1)
        self.pid = pid
        os.close(writable)
        self._pipe = os.fdopen(readable, "rb")

    def result(self) -> Outcome:
        """Wait for the child's report: (OK, value), (DAMAGED, message) or (FAILED, why)."""
        if self._pipe is None:
            return (FAILED, self._failure)
        outcome: Outcome = (FAILED, "the child ended without a report")
        with self._pipe, contextlib.suppress(EOFError, pickle.UnpicklingError):
            outcome = pickle.load(self._pipe)
        self._reap(kill=outcome[0] == FAILED)
        return outcome

    def _reap(self, kill: bool) -> None:
        if not self.pid:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # reaped already (SIGCHLD ignored)
            os.waitpid(self.pid, 0)
        self.pid = 0
        self._pipe.close()

    def __enter__(self) -> Forked:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._reap(kill=True)


def _die_with(parent: int) -> None:  # pragma: no cover - runs in the child
    """Have the kernel kill this child when the parent dies (Linux; elsewhere nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def _report(
    writable: int, function: Callable[..., Any], args: tuple[Any, ...]
) -> None:  # pragma: no cover - runs in the child
    message: Outcome
    try:
        message = (OK, function(*args))
    except CaptureError as exc:
        message = (DAMAGED, str(exc))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which falls back
        message = (FAILED, repr(exc))
    with os.fdopen(writable, "wb") as pipe:
        pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    os._exit(0)
