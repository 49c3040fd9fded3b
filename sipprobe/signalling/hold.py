"""The re-INVITEs of a call's hold and resume, read from the SIP timeline (plain Python).

A re-INVITE is an INVITE the probe sent after the call was answered; its retransmissions
share its CSeq, and its final response is the first >= 200 with that CSeq. The hold is the
first re-INVITE offering other than ``sendrecv`` (``sendonly``, ``inactive`` or the older
``c=0.0.0.0``), the resume the first after it offering ``sendrecv`` again; other re-INVITEs
(session timer refreshes, docs/measurement.md) are neither. A caller that holds a call the
probe answered sends them the other way (``by_far_end``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sipprobe.model.hold import Reinvite
from sipprobe.model.results import SipEvent
from sipprobe.signalling.dialog import invite_response
from sipprobe.sip.message import parse_message
from sipprobe.sip.sdp import parse_sdp

PURPOSES: tuple[Literal["hold", "resume"], ...] = ("hold", "resume")


def _direction(event: SipEvent) -> str | None:
    try:
        body = parse_message(event.text).sdp_body()
        audio = parse_sdp(body, tolerant=True).audio if body is not None else None
    except ValueError:
        return None
    if audio is None:
        return None
    if audio.direction == "sendrecv" and audio.connection == "0.0.0.0":
        return "c=0.0.0.0"  # the hold of RFC 2543, which RFC 3264 8.4 still asks to accept
    return audio.direction


def without_reinvites(events: Sequence[SipEvent]) -> list[SipEvent]:
    """One call's events without the INVITE transactions after the one that was answered,
    so that the call's own timings (answer, hold time, the answer's SDP) stay the first
    INVITE's."""
    answer = invite_response(events, 200)
    answered = answer.cseq if answer is not None else None
    if answered is None:
        return list(events)
    return [e for e in events if not (e.method == "INVITE" and (e.cseq or 0) > answered)]


def reinvites(
    events: Sequence[SipEvent], answered_t_s: float, by_far_end: bool = False
) -> tuple[Reinvite, ...]:
    """The hold's re-INVITEs among one call's ``events``, after the answer at ``answered_t_s``:
    the probe's, or with ``by_far_end`` the far end's (received, answered by the probe)."""
    requests, responses = ("rx", "tx") if by_far_end else ("tx", "rx")
    sent: dict[int, SipEvent] = {}
    finals: dict[int, SipEvent] = {}
    for event in events:
        if event.method != "INVITE" or event.cseq is None or event.t_s <= answered_t_s:
            continue
        if event.direction == requests and event.is_request:
            sent.setdefault(event.cseq, event)
        elif event.direction == responses and (event.status_code or 0) >= 200:
            finals.setdefault(event.cseq, event)
    found = []
    hold_cseq = next((c for c in sorted(sent) if _offered(sent[c]) != "sendrecv"), None)
    resume_cseq = (
        next((c for c in sorted(sent) if c > hold_cseq and _offered(sent[c]) == "sendrecv"), None)
        if hold_cseq is not None
        else None
    )
    for purpose, cseq in zip(PURPOSES, (hold_cseq, resume_cseq), strict=True):
        if cseq is None:
            break
        request, final = sent[cseq], finals.get(cseq)
        found.append(
            Reinvite(
                purpose=purpose,
                at_s=round(request.t_s - answered_t_s, 3),
                offered=_offered(request),
                status_code=final.status_code if final else None,
                response_ms=round(1000 * (final.t_s - request.t_s), 3) if final else None,
                answered=_direction(final) if final else None,
            )
        )
    return tuple(found)


def _offered(request: SipEvent) -> str:
    return _direction(request) or "sendrecv"
