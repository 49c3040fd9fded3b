"""Answering a call on one of the probe's accounts: the callee's leg of a two-leg call.

The account takes the first call that arrives while the probe expects one (later ones get
480 as before), rings (180) and answers (200) at once from the stack's callback, and plays
the reference audio into it, so that the platform carries media both ways. The callee's
figures are read from the SIP timeline afterwards (signalling/legs.py), as the caller's are.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pjsua2 as pj

from sipprobe.model.legs import CalleeLeg
from sipprobe.signalling.account import ProbeAccount
from sipprobe.signalling.call import ProbeCall
from sipprobe.signalling.dialog import offered_codecs
from sipprobe.signalling.legs import callee_timings, side_events
from sipprobe.signalling.stack import SipStack, hang_up
from sipprobe.sip.message import parse_message


@dataclass
class ExpectedCall:
    """A call the probe waits for on ``account``; ``call`` is set once it arrived."""

    stack: SipStack
    account: ProbeAccount
    name: str
    media_file: str
    first_event: int
    call: ProbeCall | None = None
    arrived_at: float | None = None
    errors: list[str] = field(default_factory=list)

    def take(self, call_id: int) -> bool:
        """Called from ``onIncomingCall``: answer the first call, leave the rest to the account."""
        if self.call is not None:
            return False
        self.arrived_at = time.monotonic()
        self.call = answer_at_once(self.stack, self.account, self.media_file, call_id, self.errors)
        return True

    def stop(self) -> None:
        """Stop expecting: calls arriving from now on are turned away again."""
        self.account.take_incoming = None


def answer_at_once(
    stack: SipStack, account: ProbeAccount, media_file: str, call_id: int, errors: list[str]
) -> ProbeCall:
    """Take the incoming call ``call_id`` (from ``onIncomingCall``): ring (180) and answer
    (200) at once, playing ``media_file`` into it; why the stack refused is added to
    ``errors``. The stack owns the call from here and hangs it up at teardown."""
    call = ProbeCall(stack, account, media_file, incoming_id=call_id)
    stack.own(call, hangup=lambda: hang_up(call))
    for status in (180, 200):
        answer = pj.CallOpParam()
        answer.statusCode = status
        try:
            call.answer(answer)
        except pj.Error as exc:
            errors.append(f"cannot answer with {status}: {exc.reason}")
            break
    return call


def expect_call(stack: SipStack, account: ProbeAccount, name: str, media_file: str) -> ExpectedCall:
    expected = ExpectedCall(stack, account, name, media_file, len(stack.timeline))
    account.take_incoming = expected.take
    return expected


def callee_leg(expected: ExpectedCall, caller_invite_t_s: float | None) -> CalleeLeg:
    """What the answering account saw, from the timeline (``caller_invite_t_s``: when the
    caller's first INVITE left, for the platform's delivery time)."""
    call = expected.call
    if call is None or not call.call_id:
        return _not_arrived(expected)
    events = side_events(
        expected.stack.timeline.since(expected.first_event), call.call_id, "callee"
    )
    timings = callee_timings(events)
    invite = timings.invite
    message: Any = parse_message(invite.text, tolerant=True) if invite is not None else None
    delivered = None
    if invite is not None and caller_invite_t_s is not None:
        delivered = round((invite.t_s - caller_invite_t_s) * 1000.0, 3)
    return CalleeLeg(
        account=expected.name,
        call_id=call.call_id,
        status_code=timings.final.status_code if timings.final is not None else None,
        answered_after_ms=timings.answered_after_ms,
        invite_after_ms=delivered,
        from_header=message.header("from") if message else None,
        to_header=message.header("to") if message else None,
        asserted_identity=message.header("p-asserted-identity") if message else None,
        codec=next(iter(offered_codecs(timings.final)), None),  # the callee's SDP answer
        hangup_by=timings.hangup_by,
        error="; ".join(expected.errors) or None,
    )


def _not_arrived(expected: ExpectedCall) -> CalleeLeg:
    return CalleeLeg(
        account=expected.name,
        call_id="",
        status_code=None,
        answered_after_ms=None,
        invite_after_ms=None,
        from_header=None,
        to_header=None,
        asserted_identity=None,
        codec=None,
        hangup_by=None,
        error="no call arrived on this account",
    )
