"""A two-leg call in the text report: the caller's and the callee's leg side by side.

The four directions of the issue, each measured where it arrives or leaves the probe:
the caller sends (a -> platform), the callee receives (platform -> b), the callee sends
(b -> platform), the caller receives (platform -> a). With media flowing directly between
the legs (no relay in the path) a's sending and b's receiving are one stream seen from both
ends, and the table shows the same figures twice.
"""

from __future__ import annotations

import math

from sipprobe.model.legs import CalleeLeg
from sipprobe.model.media import CallStream
from sipprobe.model.results import CallResult


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _stream_text(stream: CallStream | None) -> str:
    if stream is None:
        return "no stream captured"
    metrics, info = stream.measured.metrics, stream.measured.stream
    jitter = metrics.jitter_ms.mean if metrics.jitter_ms else None
    mos = metrics.mos_lq
    return (
        f"{info.src} -> {info.dst}: {metrics.packets} pkts, loss {metrics.loss_pct:.2f}%, "
        f"jitter mean {'-' if jitter is None else f'{jitter:.2f} ms'}, "
        f"MOS-LQ {'-' if mos is None or not math.isfinite(mos) else f'{mos:.2f}'}"
    )


def _first(streams: tuple[CallStream, ...], direction: str) -> CallStream | None:
    return next((s for s in streams if s.direction == direction), None)


def two_leg_lines(call: CallResult, callee: CalleeLeg) -> list[str]:
    """The legs' signalling, the four directions in the order media flows, what b was told."""
    name = callee.account
    directions = (
        ("caller sends", _first(call.streams, "tx")),
        (f"callee {name} receives", _first(callee.streams, "rx")),
        (f"callee {name} sends", _first(callee.streams, "tx")),
        ("caller receives", _first(call.streams, "rx")),
    )
    width = max(len(label) for label, _ in directions)
    status = f"sent {callee.status_code}" if callee.status_code else "sent no final response"
    lines = [
        f"caller: {call.status_code or 'no'} final after {_ms(call.answer_ms)} "
        f"(18x after {_ms(call.pdd_ms)}); callee {name}: INVITE arrived "
        f"{_ms(callee.invite_after_ms)} after it was sent, {status} after "
        f"{_ms(callee.answered_after_ms)}",
        *(f"  {label:<{width}}  {_stream_text(stream)}" for label, stream in directions),
        f"{name} was called as: From {callee.from_header or '-'}; To {callee.to_header or '-'}; "
        f"P-Asserted-Identity {callee.asserted_identity or '-'}",
    ]
    if callee.error:
        lines.append(f"callee {name}: {callee.error}")
    return lines
