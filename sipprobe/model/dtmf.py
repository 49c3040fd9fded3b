"""DTMF of a call: the digits the probe sent, the digits that came back, and how.

``method`` is how the probe was asked to send (``rfc4733``: RTP telephone-event packets;
``sip-info``: SIP INFO requests with an ``application/dtmf-relay`` body); ``received_method``
is what carried the digits back to the probe (``rfc4733`` events in the received RTP stream,
``inband`` tones found in the received G.711 audio), None when none came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DtmfMethod = Literal["rfc4733", "sip-info"]
ReceivedMethod = Literal["rfc4733", "inband"]
DTMF_METHODS: tuple[DtmfMethod, ...] = ("rfc4733", "sip-info")
DTMF_SYMBOLS = "0123456789*#ABCD"  # RFC 4733 event codes 0 to 15, in order


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """One digit seen in the capture: when it began (capture clock) and how long it lasted."""

    digit: str
    start_s: float
    duration_ms: float  # RFC 4733: the end packet's duration field; in-band: the tone's length
    ended: bool = True  # RFC 4733: an end packet arrived (False: the event was cut off)


@dataclass(frozen=True, slots=True)
class CallDtmf:
    """What the call's DTMF did: sent (asked of the SIP stack) against received (capture)."""

    sent: str
    method: DtmfMethod
    duration_ms: int  # each digit's requested length
    sent_at_s: float | None  # seconds after the answer the probe sent the first digit
    send_error: str | None  # why the SIP stack refused to send, quoting it; None: sent
    received: str
    received_method: ReceivedMethod | None
    sent_digits: tuple[DtmfDigit, ...]  # RFC 4733 events the probe's own stream carried
    received_digits: tuple[DtmfDigit, ...]

    @property
    def matched(self) -> bool:
        return self.send_error is None and self.received == self.sent
