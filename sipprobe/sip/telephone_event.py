"""RFC 4733 telephone events and SIP INFO DTMF bodies: DTMF as it travels, parsed once.

The probe's analysis reads telephone events from its capture, the responder from the RTP it
receives; both read SIP INFO DTMF bodies (``application/dtmf-relay``, ``application/dtmf``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sipprobe.model.dtmf import DTMF_SYMBOLS

DTMF_HEADER = "X-Sipprobe-Dtmf"  # a sipprobe responder's digits received, in its 200 to BYE
INBAND_UNCHECKED = "inband-unchecked"  # in that header: the call's audio was not listened to


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """RFC 4733 2.3: the 4 bytes of a named-event payload."""

    event: int
    end: bool
    volume: int  # power level in -dBm0, 0 to 63
    duration: int  # timestamp units since the event began

    @classmethod
    def parse(cls, data: bytes) -> TelephoneEvent:
        if len(data) < 4:
            raise ValueError(f"telephone-event payload has {len(data)} bytes, needs 4")
        event, flags, duration = struct.unpack_from("!BBH", data)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def __bytes__(self) -> bytes:
        return struct.pack(
            "!BBH", self.event, (0x80 if self.end else 0) | self.volume, self.duration
        )


def info_digit(content_type: str, body: str) -> str | None:
    """The DTMF digit a SIP INFO carries, or None when it carries none.

    ``application/dtmf-relay`` has ``Signal=<digit>`` (and ``Duration=``) lines;
    ``application/dtmf`` is the digit (or its event code) alone.
    """
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    value: str | None = None
    if kind == "application/dtmf-relay":
        for line in body.splitlines():
            name, _, rest = line.partition("=")
            if name.strip().lower() == "signal":
                value = rest.strip()
                break
    elif kind == "application/dtmf":
        value = body.strip()
    if value is None:
        return None
    if value.isdigit() and len(value) == 2:  # an event code, e.g. 11 for #
        return DTMF_SYMBOLS[int(value)] if int(value) < len(DTMF_SYMBOLS) else None
    value = value.upper()
    return value if len(value) == 1 and value in DTMF_SYMBOLS else None


def far_end_digits(value: str) -> dict[str, str]:
    """A sipprobe responder's ``X-Sipprobe-Dtmf`` value: method -> digits it received."""
    found: dict[str, str] = {}
    for part in value.split(","):
        method, _, digits = part.strip().partition("=")
        if method and digits and all(c in DTMF_SYMBOLS for c in digits):
            found[method.strip().lower()] = digits
    return found
