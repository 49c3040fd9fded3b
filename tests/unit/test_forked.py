"""A function in a forked child: its value, its errors, its death, and no child left behind."""

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sipprobe.analysis.forked import DAMAGED, FAILED, OK, Forked, may_fork
from sipprobe.errors import CaptureError


def _no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def _pid_and_sum(*numbers: int) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


def _corrupt() -> None:
    raise CaptureError("x.pcap is corrupt at byte 7: a record claims 9 bytes.")


def _bug() -> None:
    raise ZeroDivisionError("a bug")


def _big() -> bytes:
    return bytes(range(256)) * 4096  # 1 MiB: far more than a pipe holds at once


def _dies_while_reporting() -> object:
    class Unpicklable:
        def __reduce__(self) -> tuple[Callable[[int], None], tuple[int]]:
            os._exit(5)  # half a report written, then gone

    return [b"x" * 100_000, Unpicklable()]


@pytest.fixture
def other_thread() -> Iterator[None]:
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    yield
    release.set()
    other.join()


@pytest.mark.usefixtures("other_thread")
def test_may_fork_not_while_another_thread_runs() -> None:
    assert not may_fork()


def test_may_fork_not_where_sigchld_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, "getsignal", lambda number: signal.SIG_IGN)
    assert not may_fork()


def test_forked_returns_the_value_computed_in_another_process() -> None:
    with Forked(_pid_and_sum, 1, 2, 3) as child:
        status, (pid, total) = child.result()
    assert (status, total) == (OK, 6)
    assert pid not in (os.getpid(), 0)
    with Forked(_big) as child:
        assert child.result() == (OK, _big())
    _no_child_left()


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (_corrupt, (DAMAGED, "x.pcap is corrupt at byte 7: a record claims 9 bytes.")),
        (_bug, (FAILED, "ZeroDivisionError('a bug')")),
        (lambda: os._exit(4), (FAILED, "the child ended without a report")),
        (_dies_while_reporting, (FAILED, "the child ended without a report")),
    ],
)
def test_forked_reports_errors_and_death(
    function: Callable[[], object], expected: tuple[str, str]
) -> None:
    with Forked(function) as child:
        assert child.result() == expected
    _no_child_left()


def test_no_child_to_be_made_reads_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    with Forked(_bug) as child:
        status, why = child.result()
    assert (status, why) == (FAILED, "no child: [Errno 11] Resource temporarily unavailable")


def test_a_child_reaped_by_someone_else_is_no_error() -> None:
    # As when SIGCHLD is ignored: the kernel reaps the child and waitpid finds none.
    with Forked(_pid_and_sum, 1) as child:
        pid = child.pid
        os.waitpid(pid, 0)  # it wrote its small report before it ended
        assert child.result() == (OK, (pid, 1))
    _no_child_left()


def test_leaving_early_kills_and_reaps_the_child() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError), Forked(time.sleep, 60):
        raise RuntimeError("the parent's own half failed")
    assert time.monotonic() - started < 10
    _no_child_left()
