"""Hold and resume of a call: the re-INVITEs and what the media did meanwhile.

The probe holds the call with a re-INVITE offering ``sendonly`` (RFC 3264 8.4), or
``inactive`` (then neither side sends), waits ``hold_s`` and resumes it with one offering
``sendrecv``. The answers' directions and
timings come from the SIP timeline; whether RTP stopped and came back in each direction
comes from the capture (the longest silence of each stream during the call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["tx", "rx"]  # as model.results has it (which imports this module)
HoldMode = Literal["sendonly", "inactive"]
HOLD_MODES: tuple[HoldMode, ...] = ("sendonly", "inactive")

HOLD_AFTER_S = 2.0  # after the answer, and after the DTMF digits when there are some
DTMF_DIGIT_S = 0.25  # a 160 ms digit and its pause
RESUMED_FOR_S = 2.0  # the call stays up this long after the resume, to see the media back


def hold_start_s(dtmf: str) -> float:
    """When the hold begins, in seconds after the answer."""
    return HOLD_AFTER_S + DTMF_DIGIT_S * len(dtmf)


def hold_duration_problem(hold_s: float, duration_s: float, dtmf: str) -> str | None:
    """Why a call of ``duration_s`` cannot hold for ``hold_s``, or None when it can."""
    needed = hold_start_s(dtmf) + hold_s + RESUMED_FOR_S
    if duration_s < needed:
        return f"needs a call of at least {needed:g} s (duration), got {duration_s:g} s"
    return None


@dataclass(frozen=True, slots=True)
class Reinvite:
    """One re-INVITE of the hold, from the SIP timeline."""

    purpose: Literal["hold", "resume"]
    at_s: float  # after the answer
    offered: str  # the direction the probe's offer asked for
    status_code: int | None  # its final response; None: none arrived
    response_ms: float | None  # sent -> final response
    answered: str | None  # the direction the answer gave; None: no SDP answer


@dataclass(frozen=True, slots=True)
class HoldMedia:
    """One direction's RTP around the hold, from the capture."""

    direction: Direction
    packets_per_s: tuple[int, ...]  # per second from the call's first RTP packet
    longest_gap_s: float  # longest silence between two packets (0: fewer than two)
    gap_start_s: float | None  # when it began, from the call's first RTP packet
    stopped: bool  # the silence lasted at least half the hold
    resumed: bool | None  # packets came after it; None: it never stopped


@dataclass(frozen=True, slots=True)
class CallHold:
    hold_s: float  # asked
    error: str | None  # why the SIP stack did not hold or resume, quoting it
    reinvites: tuple[Reinvite, ...]
    media: tuple[HoldMedia, ...] = ()  # rx then tx; () without a capture
    mode: HoldMode = "sendonly"  # the direction the hold re-INVITE offered

    def expects_stopped(self, direction: Direction) -> bool:
        """Whether the hold should silence ``direction``: what the far end sends always (it
        answers recvonly or inactive), what the probe sends only when it offered inactive."""
        return direction == "rx" or self.mode == "inactive"

    def media_towards(self, direction: Direction) -> HoldMedia | None:
        return next((m for m in self.media if m.direction == direction), None)
