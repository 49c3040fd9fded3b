"""One thread, one epoll: readiness callbacks and timers for the whole responder.

The responder serves SIP and media of every call from this loop, so nothing it does waits
on anything else, and no thread or lock exists to be exhausted. The clock is injected.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import selectors
import socket
from collections.abc import Callable

Callback = Callable[[], None]
MAX_WAIT_S = 0.2  # the loop looks at its stop flag at least this often


class Timer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callback) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self.now = clock()

    def watch(
        self, sock: socket.socket, on_read: Callback, on_write: Callback | None = None
    ) -> None:
        """Call ``on_read`` when ``sock`` is readable (and ``on_write`` when writable)."""
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if on_write else 0)
        data = (on_read, on_write)
        try:
            self._selector.modify(sock, events, data)
        except KeyError:
            self._selector.register(sock, events, data)

    def forget(self, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)

    def call_at(self, when: float, callback: Callback) -> Timer:
        timer = Timer(when, callback)
        heapq.heappush(self._timers, (when, next(self._order), timer))
        return timer

    def call_later(self, delay_s: float, callback: Callback) -> Timer:
        return self.call_at(self.now + delay_s, callback)

    def run_once(self) -> None:
        """Wait for readiness or the next timer (at most ``MAX_WAIT_S``), then run what is due."""
        self.now = self._clock()
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        wait = MAX_WAIT_S
        if self._timers:
            wait = max(0.0, min(wait, self._timers[0][0] - self.now))
        for key, events in self._selector.select(wait):
            self.now = self._clock()
            on_read, on_write = key.data
            if events & selectors.EVENT_READ:
                on_read()
            if events & selectors.EVENT_WRITE and on_write is not None:
                on_write()
        self.now = self._clock()
        while self._timers and self._timers[0][0] <= self.now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()

    def close(self) -> None:
        self._selector.close()
