"""Probe slots: at most ``concurrency`` probes run, at most ``queue`` wait, none waits past
its deadline. A bounded queue rather than a pile-up: each probe is a child process with a
SIP stack, and the machine has only so many cores."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable


class Admission(enum.Enum):
    RUN = "run"
    QUEUE_FULL = "queue_full"
    QUEUE_TIMEOUT = "queue_timeout"  # the scrape's budget ran out while waiting


class ProbeSlots:
    def __init__(
        self, concurrency: int, queue: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self._clock = clock
        self._lock = threading.Condition()
        self._running = 0
        self._waiting = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    def acquire(self, deadline: float) -> Admission:
        """Take a slot, waiting until ``deadline`` (on the clock) at most."""
        with self._lock:
            if self._running < self.concurrency and self._waiting == 0:
                self._running += 1
                return Admission.RUN
            if self._waiting >= self.queue:
                return Admission.QUEUE_FULL
            self._waiting += 1
            try:
                while self._running >= self.concurrency:
                    left = deadline - self._clock()
                    if left <= 0:
                        self._lock.notify()  # a wake-up meant for this waiter passes on
                        return Admission.QUEUE_TIMEOUT
                    self._lock.wait(left)
                self._running += 1
                return Admission.RUN
            finally:
                self._waiting -= 1

    def release(self) -> None:
        with self._lock:
            self._running -= 1
            self._lock.notify()
