"""DTMF of a call: the digits the probe sent, the digits that came back, and how.

``method`` is how the probe was asked to send (``rfc4733``: RTP telephone-event packets;
``sip-info``: SIP INFO requests with an ``application/dtmf-relay`` body; ``inband``: dual
tones in the call's audio); ``received_method`` is what carried the digits back to the probe:
``rfc4733`` events in the received RTP stream (an echoing far end returns them), ``inband``
tones the Goertzel detector found in the received G.711 audio, or for SIP INFO ``sip-info``:
the digits a sipprobe responder says it received (``X-Sipprobe-Dtmf`` in its 200 to the BYE),
since INFO does not come back; None when none came back. When both events and tones came
back, the method sent wins, and ``inband_received`` still shows what the tones said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DtmfMethod = Literal["rfc4733", "sip-info", "inband"]
ReceivedMethod = Literal["rfc4733", "sip-info", "inband"]
DTMF_METHODS: tuple[DtmfMethod, ...] = ("rfc4733", "sip-info", "inband")
DTMF_SYMBOLS = "0123456789*#ABCD"  # RFC 4733 event codes 0 to 15, in order
MAX_DTMF_DIGITS = 32


def dtmf_problem(digits: str) -> str | None:
    """Why ``digits`` cannot be sent as DTMF, or None when they can."""
    if not digits:
        return "needs at least one digit"
    if len(digits) > MAX_DTMF_DIGITS:
        return f"takes at most {MAX_DTMF_DIGITS} digits, got {len(digits)}"
    wrong = sorted({c for c in digits if c not in DTMF_SYMBOLS})
    if wrong:
        return f"takes the digits 0-9 * # A-D, not {' '.join(repr(c) for c in wrong)}"
    return None


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """One digit seen in the capture: when it began (capture clock) and how long it lasted."""

    digit: str
    start_s: float
    # RFC 4733: the end packet's duration field; in-band: the tone's length, to a 12.75 ms hop
    duration_ms: float
    ended: bool = True  # RFC 4733: an end packet arrived (False: the event was cut off)


@dataclass(frozen=True, slots=True)
class CallDtmf:
    """What the call's DTMF did: sent (asked of the SIP stack) against received (capture)."""

    sent: str
    method: DtmfMethod
    duration_ms: int  # each digit's requested length
    sent_at_s: float | None  # seconds after the answer the probe sent the first digit
    send_error: str | None  # why the SIP stack refused to send, quoting it; None: sent
    received: str | None  # None: not measured (no capture)
    received_method: ReceivedMethod | None
    sent_digits: tuple[DtmfDigit, ...]  # events (in-band: tones) the probe's own stream carried
    received_digits: tuple[DtmfDigit, ...]
    # What a sipprobe responder says it received by ``method``; None: the far end did not say.
    far_end_received: str | None = None
    # In-band digits found in the received audio whatever the method (a gateway may turn
    # events into tones, or send both); None: not measured (no capture, SRTP, not G.711).
    inband_received: str | None = None

    @property
    def matched(self) -> bool | None:
        """Whether the digits came back as sent; None when what came back was not measured."""
        if self.send_error is not None:
            return False
        return None if self.received is None else self.received == self.sent
