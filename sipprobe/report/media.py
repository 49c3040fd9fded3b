"""The media figures the outputs show for a call: what the probe received.

They come from the capture's rx stream when the run captured one (the evidence the verdict
weighs too), else from pjmedia's own RTP receiver. The tx direction is the far end's to
judge and stays in the detailed reports (JSON, HTML).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sipprobe.model.results import CallResult


@dataclass(frozen=True, slots=True)
class MediaFigures:
    source: str  # "capture", or "pjmedia" for the SIP stack's own receiver
    loss_pct: float | None
    jitter_mean_ms: float | None
    jitter_max_ms: float | None
    mos_lq: float | None  # only a capture gives one


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def received_media(call: CallResult) -> MediaFigures | None:
    stream = call.rx_stream
    if stream is not None:
        metrics = stream.measured.metrics
        jitter = metrics.jitter_ms
        return MediaFigures(
            "capture",
            _finite(metrics.loss_pct),
            _finite(jitter.mean if jitter else None),
            _finite(jitter.max if jitter else None),
            _finite(metrics.mos_lq),
        )
    rtcp = call.rtcp
    if rtcp is None:
        return None
    return MediaFigures(
        "pjmedia", rtcp.rx_loss_pct, rtcp.rx_jitter_mean_ms, rtcp.rx_jitter_max_ms, None
    )
