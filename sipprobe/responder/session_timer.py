"""Session timers (RFC 4028) as the responder's UAS keeps them.

An INVITE with ``Session-Expires`` below the responder's Min-SE (90 s, RFC 4028's floor) gets
422 with ``Min-SE: 90``. Otherwise, when the caller supports the extension (``Supported:
timer``) and leaves the refreshing to itself or to the UAS's choice, the 2xx carries the
same interval with ``refresher=uac`` and ``Require: timer`` (RFC 4028 9, table 2). The
responder never refreshes sessions itself: a caller that asks it to (``refresher=uas``) or
that does not support the extension (then the UAS would have to refresh) gets an answer
without Session-Expires, which RFC 4028 allows, and no session timer runs.

Each re-INVITE or UPDATE answered 2xx refreshes the session (and may change the interval).
When no refresh arrives, the responder ends the call with a BYE at the interval less the
lesser of 32 s and a third of it (RFC 4028 10), so a caller that does not refresh is seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.model.session_timer import MIN_SE_S, expiry_margin_s
from sipprobe.sip.message import SipMessage
from sipprobe.sip.session_expires import has_option, session_expires

TOO_SMALL = (422, "Session Interval Too Small")


@dataclass(frozen=True, slots=True)
class Session:
    """The session timer a dialog agreed: the interval, refreshed by the caller."""

    interval_s: int

    def headers(self) -> list[tuple[str, str]]:
        """What a 2xx answering the INVITE or a refresh carries."""
        return [("Session-Expires", f"{self.interval_s};refresher=uac"), ("Require", "timer")]

    def expires_at(self, refreshed_s: float) -> float:
        """When the responder gives up on a refresh and sends BYE (loop clock)."""
        return refreshed_s + self.interval_s - expiry_margin_s(self.interval_s)


def too_small(message: SipMessage) -> list[tuple[str, str]] | None:
    """The headers of a 422 when the request's interval is below the Min-SE, else None."""
    asked = session_expires(message)
    if asked is not None and asked.interval_s < MIN_SE_S:
        return [("Min-SE", str(MIN_SE_S))]
    return None


def negotiate(message: SipMessage, current: Session | None = None) -> Session | None:
    """The session an INVITE or refresh sets up; ``current`` stays when a refresh names no
    interval. None: no session timer (not asked, or the responder would have to refresh)."""
    asked = session_expires(message)
    if asked is None:
        return current
    supported = has_option(message, "supported") or has_option(message, "require")
    if not supported or asked.refresher == "uas":
        return None
    return Session(asked.interval_s)


@dataclass(slots=True)
class SessionClock:
    """One dialog's session timer: what was agreed, and when the responder gives up."""

    session: Session | None = None
    deadline_s: float | None = None  # loop time of the BYE without a refresh

    def start(self, now: float) -> None:
        """The 2xx went out at ``now``: the interval runs from here."""
        self.deadline_s = self.session.expires_at(now) if self.session is not None else None

    def refresh(self, message: SipMessage, now: float) -> None:
        """A re-INVITE or UPDATE answered 2xx at ``now`` refreshes the session (RFC 4028 10)."""
        self.session = negotiate(message, self.session)
        self.start(now)

    def expired(self, now: float) -> bool:
        return self.deadline_s is not None and now >= self.deadline_s

    def headers(self) -> list[tuple[str, str]]:
        return self.session.headers() if self.session is not None else []
