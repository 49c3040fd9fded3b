"""The second leg of a call the probe makes to itself: the callee side it answered.

A two-leg call (a scenario's ``call: {from: a, to: b}``) goes from one of the probe's
accounts through the platform to another; the probe answers on ``b``, so the platform carries
both legs and each is measured from its own end. ``CallResult`` is the caller's leg; its
``callee`` is this record, with the same stream records (``rx``: platform to the callee,
``tx``: the callee's own sending).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.model.media import CallListening, CallStream

__all__ = ["CalleeLeg"]


@dataclass(frozen=True, slots=True)
class CalleeLeg:
    """What the answering account saw of the call and what it measured."""

    account: str  # the scenario's name of the answering account
    call_id: str  # the Call-ID as it arrived (a proxy keeps the caller's, a B2BUA makes one)
    status_code: int | None  # the final response the callee sent; None: no INVITE arrived
    answered_after_ms: float | None  # INVITE received -> 200 OK sent
    invite_after_ms: float | None  # the caller's first INVITE sent -> INVITE received here
    from_header: str | None  # From, To and P-Asserted-Identity as the platform delivered them
    to_header: str | None
    asserted_identity: str | None
    codec: str | None
    hangup_by: str | None  # "caller" (BYE received) or "callee"; None: no BYE seen
    streams: tuple[CallStream, ...] = ()  # measured from the run's capture, rx first
    error: str | None = None  # why the leg was not measured (no INVITE arrived in time)
    # What the callee heard of the caller's speech (the caller's leg has the other way).
    listening: CallListening | None = None

    @property
    def rx_stream(self) -> CallStream | None:
        return next((s for s in self.streams if s.direction == "rx"), None)
