"""Running one function in a forked child, for a second core: its value comes back pickled.

``sipprobe analyze`` uses it to read half of a large capture and to measure half of the
streams while this process does the other half. A fork shares everything this process has
(the packets columns, without copying them) and costs a millisecond, where a fresh
interpreter would import numpy again.

Only ``may_fork()`` processes fork: a child of a process with other threads may inherit a lock
that one of them held, forever. The child never returns into the caller's code: it sends
``("ok", value)``, ``("error", message)`` for a ``CaptureError`` (damaged input, as fatal as
when read in one process) or ``("failed", reason)``, then leaves with ``os._exit``. A child
that dies without a word reads as failed; the caller then does the work itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sipprobe.errors import CaptureError

__all__ = ["Forked", "may_fork"]

Outcome = tuple[str, Any]


def may_fork() -> bool:
    """Whether this process can fork safely: a POSIX system and no other thread running."""
    return hasattr(os, "fork") and threading.active_count() == 1


class Forked:
    """``function(*args)`` running in a child process from construction on.

    Use as a context manager: leaving it (also by an exception) kills a child that has not
    reported and reaps it, so no process outlives the call.
    """

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        """Raises ``OSError`` when no child can be made (no memory, too many processes)."""
        readable, writable = os.pipe()
        try:
            self.pid = os.fork()
        except OSError:
            os.close(readable)
            os.close(writable)
            raise
        if self.pid == 0:  # pragma: no cover - the child: it reports through the pipe
            os.close(readable)
            _report(writable, function, args)
        os.close(writable)
        self._pipe = os.fdopen(readable, "rb")
        self._reaped = False

    def result(self) -> Outcome:
        """Wait for the child's report: ("ok", value), ("error", message) or ("failed", why)."""
        outcome: Outcome = ("failed", "the child ended without a report")
        with self._pipe, contextlib.suppress(EOFError, pickle.UnpicklingError):
            outcome = pickle.load(self._pipe)
        self._reap(kill=outcome[0] == "failed")
        return outcome

    def _reap(self, kill: bool) -> None:
        if self._reaped:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self._reaped = True
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


def _report(
    writable: int, function: Callable[..., Any], args: tuple[Any, ...]
) -> None:  # pragma: no cover - runs in the child
    message: Outcome
    try:
        message = ("ok", function(*args))
    except CaptureError as exc:
        message = ("error", str(exc))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which falls back
        message = ("failed", repr(exc))
    try:
        with os.fdopen(writable, "wb") as pipe:
            pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        os._exit(0)
