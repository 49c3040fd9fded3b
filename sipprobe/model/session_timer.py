"""Session timers (RFC 4028) of a call: what was asked, offered, answered and refreshed.

Every value comes from the SIP messages of the call (the timeline), not from the SIP
stack's word: the INVITE's Session-Expires, Min-SE and ``Supported: timer``, a 422 and the
INVITE sent again after it, the 2xx's Session-Expires, refresher and ``Require: timer``, and
each refresh (a re-INVITE or UPDATE after the answer) with its final response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Refresher = Literal["uac", "uas"]
TimerUse = Literal["optional", "required", "always"]
MIN_SE_S = 90  # RFC 4028 4: the smallest Min-SE; pjsip does not go below it either
TIMER_USES: tuple[TimerUse, ...] = ("optional", "required", "always")


def expiry_margin_s(interval_s: float) -> float:
    """How long before the session expires the side that does not refresh sends its BYE
    (RFC 4028 10: the lesser of 32 s and a third of the interval)."""
    return min(32.0, interval_s / 3.0)


@dataclass(frozen=True, slots=True)
class SessionRefresh:
    """One refresh of the session after the answer: a re-INVITE or UPDATE of either side."""

    at_s: float  # after the answer
    method: str  # INVITE or UPDATE
    by: Literal["probe", "far-end"]  # who sent it
    status_code: int | None  # its final response; None: none seen
    session_expires_s: int | None  # the interval its 2xx answered; None: none given


@dataclass(frozen=True, slots=True)
class SessionTimer:
    requested_s: int | None  # the call step's session_expires_s; None: the stack's default
    min_se_s: int  # the probe's Min-SE
    # The first INVITE: its Session-Expires (None: none), Min-SE and Supported: timer.
    offered_s: int | None
    offered_min_se_s: int | None
    offered_supported: bool
    # A 422 (Session Interval Too Small): its Min-SE, and the Session-Expires of the INVITE
    # sent again after it; None: no 422.
    rejected_min_se_s: int | None
    retried_s: int | None
    # The 2xx: its Session-Expires (None: the far end did not use session timers, which
    # RFC 4028 allows), its refresher and whether it said Require: timer.
    answered_s: int | None
    refresher: Refresher | None
    required: bool
    refreshes: tuple[SessionRefresh, ...]
    # The session ran out without a refresh by the refresher (RFC 4028 10): seconds from the
    # answer or the last refresh to the end of the call; None: it did not.
    expired_after_s: float | None = None

    @property
    def refresher_side(self) -> Literal["probe", "far-end"] | None:
        """Who refreshes: the probe is the UAC of its calls."""
        if self.refresher is None:
            return None
        return "probe" if self.refresher == "uac" else "far-end"
