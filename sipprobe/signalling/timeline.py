"""The run's signalling timeline: every SIP message sent and received, with its time.

pjsua2 reports each message it sends or receives through its log writer (message logging at
level 4) just before the bytes go out or just after they came in; the OPTIONS client adds its
own messages directly. Both end up here as ``SipEvent`` records, credentials redacted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sipprobe.model.results import Direction, SipEvent
from sipprobe.sip.message import parse_message, redact

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
        self.unparsed = 0

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
