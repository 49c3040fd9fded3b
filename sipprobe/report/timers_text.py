"""The session timer (RFC 4028) of a call in one line of the text report."""

from __future__ import annotations

from sipprobe.model.session_timer import SessionTimer


def session_timer_line(timer: SessionTimer) -> str:
    asked = (
        f"asked {timer.requested_s} s (Min-SE {timer.min_se_s})"
        if timer.requested_s is not None
        else "not asked"
    )
    offered = f"offered {timer.offered_s} s" if timer.offered_s is not None else "none offered"
    parts = [f"session timer: {asked}, {offered}"]
    if timer.rejected_min_se_s is not None:
        retried = f"{timer.retried_s} s" if timer.retried_s is not None else "nothing"
        parts.append(f"422 wanted Min-SE {timer.rejected_min_se_s}, retried with {retried}")
    if timer.answered_s is None:
        parts.append(
            "the far end did not use session timers (no Session-Expires in its answer; "
            "RFC 4028 allows that)"
        )
        return "; ".join(parts)
    who = {"probe": " (the probe)", "far-end": " (the far end)", None: ""}[timer.refresher_side]
    require = ", Require: timer" if timer.required else ""
    parts.append(f"answered {timer.answered_s} s, refresher {timer.refresher or '-'}{who}{require}")
    refreshes = [
        f"{r.method} by the {'probe' if r.by == 'probe' else 'far end'} at {r.at_s:g} s -> "
        f"{r.status_code or 'no answer'}"
        for r in timer.refreshes
    ]
    parts.append("refreshes: " + (", ".join(refreshes) if refreshes else "none"))
    if timer.expired_after_s is not None:
        parts.append(f"the session ran out {timer.expired_after_s:g} s after the last refresh")
    return "; ".join(parts)
