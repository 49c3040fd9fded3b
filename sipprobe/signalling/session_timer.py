"""A call's session timers (RFC 4028), read from its SIP messages (plain Python).

The first INVITE says what the probe offered; a 422 names the far end's Min-SE and the
INVITE sent again after it the interval retried; the first 2xx says what was agreed. After
the answer every re-INVITE and UPDATE of either side is a refresh (RFC 4028 7.4 and 8.1:
the hold's re-INVITEs refresh the session as well), kept with its final response. A session
ran out when the call ended at least its interval, less the margin the side that does not
refresh keeps (``expiry_margin_s``), after the answer or the last refresh answered 2xx.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sipprobe.model.results import SipEvent
from sipprobe.model.session_timer import SessionRefresh, SessionTimer, expiry_margin_s
from sipprobe.signalling.dialog import invite_response
from sipprobe.sip.message import SipMessage, parse_message
from sipprobe.sip.session_expires import has_option, min_se, session_expires

REFRESH_METHODS = ("INVITE", "UPDATE")
EXPIRY_SLACK_S = 1.0  # timers of the far end fire this much early or late and still count


def _message(event: SipEvent) -> SipMessage | None:
    try:
        return parse_message(event.text)
    except ValueError:
        return None


def _interval(event: SipEvent | None) -> int | None:
    message = _message(event) if event is not None else None
    found = session_expires(message) if message is not None else None
    return found.interval_s if found is not None else None


def session_timer(
    events: Sequence[SipEvent], requested_s: int | None, min_se_s: int
) -> SessionTimer | None:
    """The session timers of one call (the caller's events, re-INVITEs and UPDATEs kept);
    None when none was asked and the far end did not use any."""
    invites = [e for e in events if e.method == "INVITE" and e.direction == "tx" and e.is_request]
    answer = invite_response(events, 200)
    first = invites[0] if invites else None
    offer = _message(first) if first is not None else None
    rejected = invite_response(events, 422)
    rejection = _message(rejected) if rejected is not None else None
    retry = (
        next((e for e in invites if (e.cseq or 0) > (rejected.cseq or 0)), None)
        if rejected is not None
        else None
    )
    answered = _message(answer) if answer is not None else None
    agreed = session_expires(answered) if answered is not None else None
    if requested_s is None and agreed is None and rejected is None:
        return None
    offered = session_expires(offer) if offer is not None else None
    refreshes = _refreshes(events, answer) if answer is not None else ()
    timer = SessionTimer(
        requested_s=requested_s,
        min_se_s=min_se_s,
        offered_s=offered.interval_s if offered else None,
        offered_min_se_s=min_se(offer) if offer is not None else None,
        offered_supported=offer is not None and has_option(offer, "supported"),
        rejected_min_se_s=min_se(rejection) if rejection is not None else None,
        retried_s=_interval(retry),
        answered_s=agreed.interval_s if agreed else None,
        refresher=agreed.refresher if agreed else None,
        required=answered is not None and has_option(answered, "require"),
        refreshes=refreshes,
    )
    if agreed is None or answer is None:
        return timer
    return _with_expiry(timer, events, answer, agreed.interval_s)


def _refreshes(events: Sequence[SipEvent], answer: SipEvent) -> tuple[SessionRefresh, ...]:
    requests: dict[tuple[str, str, int], SipEvent] = {}
    finals: dict[tuple[str, str, int], SipEvent] = {}
    for event in events:
        if event.method not in REFRESH_METHODS or event.cseq is None or event.t_s <= answer.t_s:
            continue
        if event.is_request:
            requests.setdefault((event.direction, event.method, event.cseq), event)
        elif (event.status_code or 0) >= 200:
            sender = "tx" if event.direction == "rx" else "rx"  # the request went the other way
            finals.setdefault((sender, event.method, event.cseq), event)
    found = []
    for key, request in sorted(requests.items(), key=lambda item: item[1].t_s):
        if key[1] == "INVITE" and key[2] == answer.cseq:
            continue  # the first INVITE itself (a late retransmission)
        final = finals.get(key)
        ok = final is not None and 200 <= (final.status_code or 0) < 300
        found.append(
            SessionRefresh(
                at_s=round(request.t_s - answer.t_s, 3),
                method=request.method,
                by="probe" if request.direction == "tx" else "far-end",
                status_code=final.status_code if final is not None else None,
                session_expires_s=_interval(final) if ok else None,
            )
        )
    return tuple(found)


def _with_expiry(
    timer: SessionTimer, events: Sequence[SipEvent], answer: SipEvent, interval_s: int
) -> SessionTimer:
    """The timer with ``expired_after_s`` set when the call outlived its session."""
    last, interval = 0.0, float(interval_s)
    for refresh in timer.refreshes:
        if refresh.status_code is not None and 200 <= refresh.status_code < 300:
            last = refresh.at_s
            interval = float(refresh.session_expires_s or interval)
    bye = next((e for e in events if e.method == "BYE" and e.is_request), None)
    end = (bye if bye is not None else events[-1]).t_s - answer.t_s
    gap = end - last
    if gap >= interval - expiry_margin_s(interval) - EXPIRY_SLACK_S:
        return replace(timer, expired_after_s=round(gap, 3))
    return timer
