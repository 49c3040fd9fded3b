"""Session timer findings (RFC 4028), from the call's own SIP messages (docs/demarc.md).

A far end that does not use session timers (its 2xx has no Session-Expires) is information:
RFC 4028 lets either side decline them, so nothing is found. What is found:

* ``session-refresh-failed``: a refresh got a non-2xx final response, or none. The far end's
  5xx or 408 to the probe's refresh points at the platform, anything else (and silence) is
  unknown: a lost request looks the same as one the far end ignored.
* ``session-expired``: the call ended when the session ran out without a refresh by the
  side that was to refresh (the agreed ``refresher``). When that side was the far end (its
  own 2xx said ``refresher=uas``) and stopped refreshing (none of its refreshes failed at
  the probe), the platform did not keep its word; when it was the probe, the probe's own
  stack or the path failed: unknown. It names the case a plain ``call-dropped`` would leave
  open (verdict/calls.py skips that).
"""

from __future__ import annotations

from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import CallResult, Finding, StepResult
from sipprobe.model.session_timer import SessionTimer


def session_expired(call: CallResult) -> bool:
    """Whether the call ended because its session ran out (the finding names it)."""
    timer = call.session_timer
    return timer is not None and timer.expired_after_s is not None and call.hangup_by is not None


def _refresher_words(timer: SessionTimer) -> str:
    if timer.refresher_side == "probe":
        return "the probe (refresher=uac)"
    if timer.refresher_side == "far-end":
        return "the far end (refresher=uas)"
    return "neither side (no refresher named)"


def session_timer_findings(step: StepResult, call: CallResult) -> list[Finding]:
    timer = call.session_timer
    if timer is None:
        return []
    found = []
    for refresh in timer.refreshes:
        code = refresh.status_code
        if code is not None and 200 <= code < 300:
            continue
        side = Side.UNKNOWN
        if refresh.by == "probe" and code is not None and (code >= 500 or code == 408):
            side = Side.PLATFORM
        who = "the probe's" if refresh.by == "probe" else "the far end's"
        got = f"got {code}" if code is not None else "got no final response"
        found.append(
            Finding(
                Severity.WARNING,
                side,
                "messaging",
                "session-refresh-failed",
                f"{who} session refresh ({refresh.method} at {refresh.at_s:g} s after the "
                f"answer) {got}",
                step.index,
                step.events,
            )
        )
    if session_expired(call) and timer.answered_s is not None:
        # The far end stopped refreshing, unless its refresh failed at the probe.
        far_end_silent = timer.refresher_side == "far-end" and all(
            r.by == "probe" or (r.status_code or 0) // 100 == 2 for r in timer.refreshes
        )
        bye = "the far end" if call.hangup_by == "remote" else "the probe"
        found.append(
            Finding(
                Severity.CRITICAL,
                Side.PLATFORM if far_end_silent else Side.UNKNOWN,
                "messaging",
                "session-expired",
                f"the session timer of {timer.answered_s} s ran out: {_refresher_words(timer)} "
                f"did not refresh it, and {bye} ended the call with a BYE "
                f"{timer.expired_after_s:g} s after the last refresh or the answer",
                step.index,
                step.events,
            )
        )
    return found
