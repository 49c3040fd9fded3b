"""The header fields of RFC 4028 session timers: Session-Expires, Min-SE, the option tag.

``Session-Expires: 1800;refresher=uac`` (compact form ``x``) names the session interval in
seconds and who refreshes; ``Min-SE: 90`` the smallest interval a side accepts. Values that do
not parse are None: a far end's malformed header is reported as absent, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sipprobe.sip.message import SipMessage

TIMER_TAG = "timer"  # the option tag in Supported and Require


@dataclass(frozen=True, slots=True)
class SessionExpires:
    interval_s: int
    refresher: Literal["uac", "uas"] | None


def parse_session_expires(value: str | None) -> SessionExpires | None:
    """``1800;refresher=uac`` -> SessionExpires(1800, "uac"); None when absent or malformed."""
    if value is None:
        return None
    head, *params = (part.strip() for part in value.split(";"))
    if not head.isdigit():
        return None
    refresher: Literal["uac", "uas"] | None = None
    for param in params:
        name, _, found = param.partition("=")
        if name.strip().lower() == "refresher":
            word = found.strip().lower()
            refresher = "uac" if word == "uac" else "uas" if word == "uas" else None
    return SessionExpires(int(head), refresher)


def parse_min_se(value: str | None) -> int | None:
    """``90`` -> 90 (parameters ignored); None when absent or malformed."""
    if value is None:
        return None
    head = value.split(";", 1)[0].strip()
    return int(head) if head.isdigit() else None


def has_option(message: SipMessage, header: str, tag: str = TIMER_TAG) -> bool:
    """Whether ``header`` (Supported or Require) lists the option ``tag``."""
    return any(v.strip().lower() == tag for v in message.header_values(header))


def session_expires(message: SipMessage) -> SessionExpires | None:
    return parse_session_expires(message.header("session-expires"))


def min_se(message: SipMessage) -> int | None:
    return parse_min_se(message.header("min-se"))
