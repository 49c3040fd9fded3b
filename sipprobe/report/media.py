"""The media figures the outputs show for a call: what the probe received.

They come from the capture's rx stream when the run captured one (the evidence the verdict
weighs too), else from pjmedia's own RTP receiver. The tx direction is the far end's to
judge and stays in the detailed reports (JSON, HTML).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sipprobe.model.results import CallResult


@dataclass(frozen=True, slots=True)
class MediaFigures:
    source: str  # "capture", or "pjmedia" for the SIP stack's own receiver
    loss_pct: float | None
    jitter_mean_ms: float | None
    jitter_max_ms: float | None
    mos_lq: float | None  # only a capture gives one


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def rx_stream(call: CallResult) -> dict[str, Any] | None:
    """The first stream the probe received in the call, if the run captured one."""
    return next((s for s in call.streams if s.get("direction") == "rx"), None)


def received_media(call: CallResult) -> MediaFigures | None:
    stream = rx_stream(call)
    if stream is not None:
        jitter = stream.get("jitter_ms") or {}
        return MediaFigures(
            "capture",
            _number(stream.get("loss_pct")),
            _number(jitter.get("mean")),
            _number(jitter.get("max")),
            _number(stream.get("mos_lq")),
        )
    rtcp = call.rtcp
    if rtcp is None:
        return None
    return MediaFigures(
        "pjmedia", rtcp.rx_loss_pct, rtcp.rx_jitter_mean_ms, rtcp.rx_jitter_max_ms, None
    )
