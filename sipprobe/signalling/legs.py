"""The two sides of a dialog the probe is on at both ends (pure code, no pjsua2).

When the probe calls one of its own accounts through a proxy, both legs carry the same
Call-ID and tags, so the timeline holds each message twice: sent on one leg, received on the
other. A message belongs to the caller's side when it travels the way the caller's role
says: its own requests (From tag = the caller's tag) and the responses to the far end's
requests are sent; the far end's requests and the responses to its own are received. The
callee's side is the mirror image. Through a B2BUA the legs have different Call-IDs and each
side is simply all of its dialog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sipprobe.model.results import SipEvent
from sipprobe.signalling.dialog import events_of_call
from sipprobe.sip.message import parse_message

Role = Literal["caller", "callee"]


def header_tag(value: str | None) -> str | None:
    """The ``tag`` parameter of a From or To header value, or None."""
    if value is None:
        return None
    params = value.rsplit(">", 1)[1] if ">" in value else value.partition(";")[2]
    for param in params.split(";"):
        name, _, tag = param.strip().partition("=")
        if name.strip().lower() == "tag" and tag.strip():
            return tag.strip()
    return None


def _from_tag(event: SipEvent) -> str | None:
    try:
        return header_tag(parse_message(event.text, tolerant=True).header("from"))
    except ValueError:
        return None


def side_events(events: Iterable[SipEvent], call_id: str, role: Role) -> list[SipEvent]:
    """The events of ``call_id`` that the probe's ``role`` side sent or received."""
    mine = events_of_call(events, call_id)
    invite_direction = "tx" if role == "caller" else "rx"
    invite = next(
        (
            e
            for e in mine
            if e.is_request and e.method == "INVITE" and e.direction == invite_direction
        ),
        None,
    )
    caller_tag = _from_tag(invite) if invite is not None else None
    if caller_tag is None:
        return mine
    kept = []
    for event in mine:
        tag = _from_tag(event)
        if tag is None:
            kept.append(event)
            continue
        sent_by_caller = tag == caller_tag
        # Caller's side: its requests are sent, responses to them received, and vice versa.
        request_sent = event.is_request == (event.direction == invite_direction)
        if sent_by_caller == request_sent:
            kept.append(event)
    return kept


@dataclass(frozen=True, slots=True)
class CalleeTimings:
    """The callee's side of an INVITE dialog, from its events in order."""

    invite: SipEvent | None  # the first INVITE received
    final: SipEvent | None  # the last final response sent to it
    answered_after_ms: float | None  # INVITE received -> 200 OK sent
    hangup_by: Literal["caller", "callee"] | None


def callee_timings(events: list[SipEvent]) -> CalleeTimings:
    invite = next(
        (e for e in events if e.is_request and e.method == "INVITE" and e.direction == "rx"), None
    )
    if invite is None:
        return CalleeTimings(None, None, None, None)
    final = None
    for event in events:
        sent_final = event.direction == "tx" and (event.status_code or 0) >= 200
        if sent_final and event.method == "INVITE" and event.cseq == invite.cseq:
            final = event
    answered = None
    if final is not None and final.status_code == 200:
        answered = round((final.t_s - invite.t_s) * 1000.0, 3)
    bye = next((e for e in events if e.is_request and e.method == "BYE"), None)
    hangup_by: Literal["caller", "callee"] | None = None
    if bye is not None:
        hangup_by = "caller" if bye.direction == "rx" else "callee"
    return CalleeTimings(invite, final, answered, hangup_by)
