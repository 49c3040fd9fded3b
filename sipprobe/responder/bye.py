"""The BYEs the responder sends (a call it ends: Timer H, limits, shutdown): the BYE's client
transaction, retransmitted over UDP with Timer E until a final response, given up after
Timer F (RFC 3261 17.1.2)."""

from __future__ import annotations

from sipprobe.responder import wire
from sipprobe.responder.dialog import T1_S, T2_S, TIMER_H_S, Call
from sipprobe.responder.loop import Loop, Timer


class Byes:
    """The BYEs still waiting for their final response, by Call-ID."""

    def __init__(self, loop: Loop) -> None:
        self._loop = loop
        self.pending: dict[str, tuple[Call, bytes, Timer | None]] = {}

    def send(self, call: Call) -> None:
        data = wire.bye_request(
            call.ids,
            1,
            call.local_host,
            call.channel.local[1],
            call.channel.transport,
            wire.new_branch(),
        )
        call.channel.send(data, call.source)
        timer = None
        if call.channel.transport == "udp":
            started = self._loop.now
            timer = self._loop.call_later(
                T1_S, lambda: self._retransmit(call.ids.call_id, T1_S, started)
            )
        self.pending[call.ids.call_id] = (call, data, timer)

    def _retransmit(self, call_id: str, interval_s: float, started_s: float) -> None:
        """Timer E of the BYE's client transaction, given up after Timer F (64*T1)."""
        pending = self.pending.get(call_id)
        if pending is None:
            return
        call, data, _ = pending
        if self._loop.now - started_s >= TIMER_H_S:
            del self.pending[call_id]
            return
        call.channel.send(data, call.source)
        next_s = min(2 * interval_s, T2_S)
        timer = self._loop.call_later(next_s, lambda: self._retransmit(call_id, next_s, started_s))
        self.pending[call_id] = (call, data, timer)

    def response(self, raw: bytes) -> None:
        """A response the responder read: a final one to a pending BYE ends its transaction."""
        if not self.pending:
            return
        ids = wire.read_response_ids(raw)
        if ids is None or ids[2] != "BYE" or ids[0] < 200:
            return
        pending = self.pending.pop(ids[1], None)
        if pending is not None and pending[2] is not None:
            pending[2].cancel()
