"""The run's signalling timeline: every SIP message sent and received, with its time.

pjsua2 reports each message it sends or receives through its log writer (message logging at
level 4) just before the bytes go out or just after they came in; the OPTIONS client adds its
own messages directly. Both end up here as ``SipEvent`` records, credentials redacted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sipprobe.model.results import Direction, SipEvent, SipLimits
from sipprobe.sip.message import parse_message, redact

# What one run keeps of its signalling. A misbehaving or hostile far end can send thousands of
# provisional responses a second for the whole answer bound, or bodies of megabytes; the
# timeline then keeps a bounded sample and counts the rest, so the run's memory, report and
# bundle stay small and the flood itself is reported (see ``dropped``).
MAX_EVENTS = 5000  # messages kept in all
MAX_REPEATS = 3  # the same provisional response (call, CSeq, status) kept this often
MAX_TEXT_CHARS = 16 * 1024  # of one message's text; the rest is cut with a marker
MAX_SOURCES = 16  # peers and calls whose dropped messages are counted apart; the rest as "other"

_PJSIP_MSG = re.compile(
    r"^(?P<dir>TX|RX) \d+ bytes (?:Request|Response) msg \S+ \(\S+\) (?:to|from) "
    r"(?P<transport>[A-Za-z0-9]+) (?P<peer>\S+?):\r?\n(?P<text>.*?)\r?\n--end msg--",
    re.DOTALL,
)


class Timeline:
    """Accumulates SIP events; hands out immutable snapshots."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._t0 = clock()
        self._events: list[SipEvent] = []
        self._repeats: dict[tuple[str, int | None, int], int] = {}
        self.unparsed = 0
        self.dropped: dict[str, int] = {}  # why -> messages not kept ("repeated-provisional", ...)
        self.dropped_from: dict[str, int] = {}  # peer -> messages not kept (MAX_SOURCES + other)
        self.dropped_calls: dict[str, int] = {}  # Call-ID -> messages not kept (likewise)
        self.truncated = 0  # messages kept with their text cut at MAX_TEXT_CHARS

    @property
    def t0(self) -> float:
        return self._t0

    def elapsed(self) -> float:
        return self._clock() - self._t0

    def __len__(self) -> int:
        return len(self._events)

    def add(
        self, direction: Direction, transport: str, peer: str, text: str, at: float | None = None
    ) -> SipEvent | None:
        """Record one message; returns None (and counts it) when it does not parse."""
        try:
            message = parse_message(text)
        except ValueError:
            self.unparsed += 1
            return None
        why = self._drop_reason(message.status_code, message.call_id, message.cseq_number)
        if why is not None:
            self.dropped[why] = self.dropped.get(why, 0) + 1
            _count_bounded(self.dropped_from, peer)
            _count_bounded(self.dropped_calls, message.call_id)
            return None
        if len(text) > MAX_TEXT_CHARS:
            self.truncated += 1
            text = (
                f"{text[:MAX_TEXT_CHARS]}\n[... {len(text) - MAX_TEXT_CHARS} characters not kept]"
            )
        moment = self._clock() if at is None else at
        event = SipEvent(
            index=len(self._events),
            t_s=round(moment - self._t0, 6),
            direction=direction,
            transport=transport.upper().rstrip("6"),
            peer=peer,
            first_line=message.first_line,
            method=message.method,
            status_code=message.status_code,
            call_id=message.call_id,
            cseq=message.cseq_number,
            text=redact(text.replace("\r\n", "\n")).rstrip("\n"),
        )
        self._events.append(event)
        return event

    def _drop_reason(self, status: int | None, call_id: str, cseq: int | None) -> str | None:
        """Why a message is not kept, or None. Requests and final responses are kept until
        twice MAX_EVENTS (the call measurements need them); provisional responses only the
        first few of each kind, and none once MAX_EVENTS messages are kept."""
        provisional = status is not None and status < 200
        if provisional:
            # Checked first, so the repeat counts (one per kept kind) stay bounded too.
            if len(self._events) >= MAX_EVENTS:
                return "provisional-over-limit"
            key = (call_id, cseq, status or 0)
            seen = self._repeats.get(key, 0)
            if seen >= MAX_REPEATS:
                return "repeated-provisional"
            self._repeats[key] = seen + 1
        elif len(self._events) >= 2 * MAX_EVENTS:
            return "over-limit"
        return None

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def limits(self) -> SipLimits:
        """The bounds and what they left out, for the run report."""
        return SipLimits(
            max_messages=MAX_EVENTS,
            max_repeats=MAX_REPEATS,
            max_text_chars=MAX_TEXT_CHARS,
            dropped=tuple(sorted(self.dropped.items())),
            dropped_from=_most_first(self.dropped_from),
            dropped_calls=_most_first(self.dropped_calls),
            truncated=self.truncated,
            unparsed=self.unparsed,
        )

    def add_pjsip_log(self, entry: str, at: float) -> SipEvent | None:
        """Record a pjsip message-log entry; other log lines are not ours and return None."""
        match = _PJSIP_MSG.match(entry.lstrip(" ."))
        if match is None:
            return None
        direction: Direction = "tx" if match.group("dir") == "TX" else "rx"
        return self.add(
            direction, match.group("transport"), match.group("peer"), match.group("text"), at
        )

    def snapshot(self) -> tuple[SipEvent, ...]:
        return tuple(self._events)

    def since(self, index: int) -> tuple[SipEvent, ...]:
        return tuple(self._events[index:])


def _count_bounded(counts: dict[str, int], key: str) -> None:
    """Count ``key``, or "other" once MAX_SOURCES keys are counted apart."""
    if key not in counts and len(counts) >= MAX_SOURCES:
        key = "other"
    counts[key] = counts.get(key, 0) + 1


def _most_first(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
