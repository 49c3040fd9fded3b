"""G.711 (PCMU, PCMA) to linear 16-bit samples: one 256-entry table per law."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def ulaw_table() -> NDArray[np.int16]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    value = np.where(code & 0x80, 0x84 - magnitude, magnitude - 0x84)
    return value.astype(np.int16)


def alaw_table() -> NDArray[np.int16]:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    value = np.where(code & 0x80, magnitude, -magnitude)
    return value.astype(np.int16)


DECODE = {"PCMU": ulaw_table(), "PCMA": alaw_table()}


def decode(codec: str, payload: bytes | bytearray) -> NDArray[np.float64]:
    """Linear samples of a G.711 payload (``codec`` ``PCMU`` or ``PCMA``)."""
    return DECODE[codec][np.frombuffer(payload, dtype=np.uint8)].astype(np.float64)
