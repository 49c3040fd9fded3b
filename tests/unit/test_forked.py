"""A function in a forked child: its value, its errors, its death, and no child left behind."""

import os
import threading
import time

import pytest

from sipprobe.analysis.forked import Forked, may_fork
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


def test_may_fork_only_without_other_threads() -> None:
    assert may_fork() == (threading.active_count() == 1)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not may_fork()
    finally:
        release.set()
        other.join()


def test_forked_returns_the_value_computed_in_another_process() -> None:
    with Forked(_pid_and_sum, 1, 2, 3) as child:
        status, (pid, total) = child.result()
    assert (status, total) == ("ok", 6)
    assert pid not in (os.getpid(), 0)
    _no_child_left()


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (_corrupt, ("error", "x.pcap is corrupt at byte 7: a record claims 9 bytes.")),
        (_bug, ("failed", "ZeroDivisionError('a bug')")),
        (lambda: os._exit(4), ("failed", "the child ended without a report")),
    ],
)
def test_forked_reports_errors_and_death(function: object, expected: tuple[str, str]) -> None:
    with Forked(function) as child:  # type: ignore[arg-type]
        assert child.result() == expected
    _no_child_left()


def test_leaving_early_kills_and_reaps_the_child() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError), Forked(time.sleep, 60):
        raise RuntimeError("the parent's own half failed")
    assert time.monotonic() - started < 10
    _no_child_left()
