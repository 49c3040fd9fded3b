"""Waiting for a call and answering it: the ``answer`` step's SIP side (pjsua2).

The accounts are armed to take the first call that arrives (later ones get 480, as any call
nobody expects); it rings (180), is answered (200) at once from the stack's callback and
plays the reference audio, like the callee of a two-leg call (signalling/answer.py). The
wait, the hold and the BYE each have a bound, and ``stop()`` (SIGINT/SIGTERM) ends them
early with what was measured.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sipprobe.model.results import RtcpSummary
from sipprobe.signalling.account import ProbeAccount
from sipprobe.signalling.answer import answer_at_once
from sipprobe.signalling.call import ProbeCall
from sipprobe.signalling.stack import SipStack, hang_up

BYE_TIMEOUT_S = 5.0  # the probe's BYE round trip, after the hold


@dataclass
class InboundWait:
    """The first call that arrives on any of ``accounts`` while the probe waits."""

    stack: SipStack
    media_file: str
    call: ProbeCall | None = None
    arrived_at: float | None = None
    errors: list[str] = field(default_factory=list)

    def take(self, account: ProbeAccount, call_id: int) -> bool:
        """From ``onIncomingCall``: answer the first call, leave the rest to the account."""
        if self.call is not None:
            return False
        self.arrived_at = time.monotonic()
        self.call = answer_at_once(self.stack, account, self.media_file, call_id, self.errors)
        return True


@dataclass(frozen=True, slots=True)
class InboundOutcome:
    first_event: int  # the timeline's length when the wait started
    started: float  # monotonic time the wait started
    arrived: bool
    interrupted: bool
    rtcp: RtcpSummary | None
    errors: tuple[str, ...]


def wait_and_answer(
    stack: SipStack,
    accounts: list[ProbeAccount],
    media_file: str,
    timeout_s: float,
    duration_s: float,
    stop: Callable[[], bool],
    tick: Callable[[str], None] | None = None,
) -> InboundOutcome:
    """Wait up to ``timeout_s`` for a call, hold it ``duration_s`` after answering, hang up.

    Ends within ``timeout_s + duration_s + BYE_TIMEOUT_S`` plus one event loop turn."""
    first_event = len(stack.timeline)
    started = time.monotonic()
    waiting = InboundWait(stack, media_file)
    for account in accounts:
        account.take_incoming = lambda call_id, account=account: waiting.take(account, call_id)
    rtcp = None
    try:
        stack.run_until(lambda: waiting.call is not None or stop(), timeout_s)
    finally:
        for account in accounts:
            account.take_incoming = None
    call = waiting.call
    if call is not None:
        answered = time.monotonic()
        last = -1

        def show() -> None:
            nonlocal last
            second = int(time.monotonic() - answered)
            if tick is not None and second != last:
                last = second
                tick(f"in call {second}/{duration_s:g} s")

        stack.run_until(
            lambda: call.disconnected or stop() or time.monotonic() - answered >= duration_s,
            duration_s + 1.0,
            show,
        )
        if call.confirmed:
            rtcp = call.rtcp_summary()
        if not call.disconnected:
            call.hangup_requested = True
            hang_up(call)
            # pjsua reports DISCONNECTED as soon as the BYE leaves; wait for its answer too
            call_id = call.call_id
            stack.run_until(
                lambda: any(
                    e.direction == "rx" and e.method == "BYE" and e.call_id == call_id
                    for e in stack.timeline.since(first_event)
                ),
                BYE_TIMEOUT_S,
            )
    return InboundOutcome(
        first_event=first_event,
        started=started,
        arrived=call is not None,
        interrupted=stop(),
        rtcp=rtcp,
        errors=tuple(waiting.errors),
    )
