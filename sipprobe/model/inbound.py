"""A call that came in: who called, what arrived, and how the probe answered it.

The ``answer`` step waits for a call to one of the probe's accounts (or, without an account,
to the probe's own address, as an IP-authenticated trunk delivers them), answers it and holds
it. ``AnswerDetail`` is the step's detail; the call itself is measured like any call (the
step's ``CallResult``: codec, hold time, who hung up, the streams, ``rx`` from the caller).
"""

from __future__ import annotations

from dataclasses import dataclass

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
