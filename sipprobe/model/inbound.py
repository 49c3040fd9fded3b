"""A call that came in: who called, what arrived, and how the probe answered it.

The ``answer`` step waits for a call to one of the probe's accounts (or, without an account,
to the probe's own address, as an IP-authenticated trunk delivers them), answers it and holds
it. ``AnswerDetail`` is the step's detail; the call itself is measured like any call (the
step's ``CallResult``: codec, hold time, who hung up, the streams, ``rx`` from the caller).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.model.hold import Reinvite

__all__ = ["AnswerDetail", "InboundCall"]


@dataclass(frozen=True, slots=True)
class InboundCall:
    """The INVITE as it arrived (the headers a PBX routes on) and the answering side's timings."""

    source: str  # "addr:port" the INVITE came from, as seen on the wire
    transport: str  # UDP, TCP, TLS
    request_uri: str | None
    from_header: str | None
    to_header: str | None
    asserted_identity: str | None  # P-Asserted-Identity
    contact: str | None
    user_agent: str | None
    call_id: str
    invite_after_ms: float  # the step started waiting -> the first INVITE received
    ringing_sent_ms: float | None  # INVITE received -> 180 sent
    answered_sent_ms: float | None  # INVITE received -> 200 OK sent
    ack_after_ms: float | None  # 200 OK sent -> ACK received; None: no ACK arrived
    offered_codecs: tuple[str, ...]  # in the caller's SDP offer, in its order
    # the INVITE had no SDP (delayed offer, RFC 3261 13.2.1): the probe's 200 OK carried the
    # offer and the caller's ACK the answer; offered_codecs is then empty
    delayed_offer: bool = False
    # the caller's hold and resume re-INVITEs (signalling/hold.py), "at_s" after the answer
    held_by_caller: tuple[Reinvite, ...] = ()

    def caller_hold(self) -> tuple[str, float, float | None] | None:
        """The caller's hold: what its re-INVITE offered, when (s after the answer) and how
        long until it resumed (None: it never did); None when the caller did not hold."""
        hold = next((r for r in self.held_by_caller if r.purpose == "hold"), None)
        if hold is None:
            return None
        resume = next((r for r in self.held_by_caller if r.purpose == "resume"), None)
        held = round(resume.at_s - hold.at_s, 3) if resume is not None else None
        return hold.offered, hold.at_s, held


@dataclass(frozen=True, slots=True)
class AnswerDetail:
    account: str | None  # the scenario's account name; None: the probe's own address
    listening_on: str  # "addr:port" (and the account's address of record) waited on
    timeout_s: float  # bound on the wait for the call
    duration_s: float  # how long the answered call is held before the probe hangs up
    waited_ms: float  # the step started waiting -> the call arrived, or the wait ended
    caller: InboundCall | None  # None: no call arrived
    hangup_by: str | None  # "caller", "probe"; None: the call never came or never ended
    interrupted: bool = False  # the wait or the call was cut short by SIGINT/SIGTERM
    error: str | None = None  # why an arrived call could not be answered
    registered_at_step: int | None = None  # an earlier register step of the account that
    # succeeded: the platform knew where to deliver the call
    expect_from: str | None = None  # the step's patterns (scenario/model.py, AnswerStep)
    expect_to: str | None = None
