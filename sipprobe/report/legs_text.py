"""A two-leg call in the text report: the caller's and the callee's leg side by side.

The four directions of the issue, each measured where it arrives or leaves the probe:
the caller sends (a -> platform), the callee receives (platform -> b), the callee sends
(b -> platform), the caller receives (platform -> a). With media flowing directly between
the legs (no relay in the path) a's sending and b's receiving are one stream seen from both
ends, and the table shows the same figures twice; with a relay (verdict/legs.py, media_path)
they are four streams. The HTML and Markdown reports take the same directions from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sipprobe.model.legs import CalleeLeg
from sipprobe.model.media import CallListening, CallStream
from sipprobe.model.results import CallResult
from sipprobe.verdict.legs import MediaPath, media_path


@dataclass(frozen=True, slots=True)
class LegDirection:
    """One of the four directions: what it is called and the stream measured for it."""

    label: str  # "caller -> platform", or "caller sends" when there is no relay in between
    leg: str  # "caller" or "callee": whose capture of it this is
    stream: CallStream | None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def figure(value: float | None, spec: str, unit: str = "") -> str:
    """A figure or "-" (None, or not finite: what the JSON report writes as null)."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:{spec}}{unit}"


def stream_figures(stream: CallStream) -> tuple[str, str, str, str]:
    """Packets, loss, mean jitter and MOS-LQ of a stream, as the reports print them."""
    metrics = stream.measured.metrics
    jitter = metrics.jitter_ms.mean if metrics.jitter_ms else None
    return (
        f"{metrics.packets} pkts",
        f"loss {metrics.loss_pct:.2f}%",
        f"jitter mean {figure(jitter, '.2f', ' ms')}",
        f"MOS-LQ {figure(metrics.mos_lq, '.2f')}",
    )


def _stream_text(stream: CallStream | None) -> str:
    if stream is None:
        return "no stream captured"
    info = stream.measured.stream
    return f"{info.src} -> {info.dst}: " + ", ".join(stream_figures(stream))


def _first(streams: tuple[CallStream, ...], direction: str) -> CallStream | None:
    return next((s for s in streams if s.direction == direction), None)


def four_directions(
    call: CallResult, callee: CalleeLeg, path: MediaPath | None
) -> tuple[LegDirection, ...]:
    """The four directions in the order media flows: caller to callee, then back."""
    name = callee.account
    labels: tuple[str, str, str, str] = (
        ("caller -> platform", f"platform -> {name}", f"{name} -> platform", "platform -> caller")
        if path is not None and path.relayed
        else ("caller sends", f"callee {name} receives", f"callee {name} sends", "caller receives")
    )
    return (
        LegDirection(labels[0], "caller", _first(call.streams, "tx")),
        LegDirection(labels[1], "callee", _first(callee.streams, "rx")),
        LegDirection(labels[2], "callee", _first(callee.streams, "tx")),
        LegDirection(labels[3], "caller", _first(call.streams, "rx")),
    )


def caller_signalling(call: CallResult) -> str:
    return (
        f"{call.status_code or 'no'} final after {_ms(call.answer_ms)} "
        f"(18x after {_ms(call.pdd_ms)})"
    )


def callee_signalling(callee: CalleeLeg) -> str:
    status = f"sent {callee.status_code}" if callee.status_code else "sent no final response"
    return (
        f"INVITE arrived {_ms(callee.invite_after_ms)} after it was sent, {status} after "
        f"{_ms(callee.answered_after_ms)}"
    )


def heard(listening: CallListening | None, rx: CallStream | None) -> str:
    """What a leg heard of the other leg's speech: the measured MOS-LQO beside the E-model's
    MOS-LQ of the stream it received."""
    if listening is None:
        return "not scored"
    estimate = figure(rx.measured.metrics.mos_lq if rx else None, ".2f")
    return f"MOS-LQO {listening.mos_lqo:.2f} ({listening.model}), MOS-LQ {estimate}"


def legs_listened(call: CallResult, callee: CalleeLeg) -> bool:
    return call.listening is not None or callee.listening is not None


def media_path_text(path: MediaPath | None) -> str:
    return "not known (no stream of both legs captured)" if path is None else path.describe()


def two_leg_lines(call: CallResult, callee: CalleeLeg) -> list[str]:
    """The legs' signalling, the four directions in the order media flows, what b was told."""
    name = callee.account
    path = media_path(call, callee)
    directions = four_directions(call, callee, path)
    width = max(len(d.label) for d in directions)
    lines = [
        f"caller: {caller_signalling(call)}; callee {name}: {callee_signalling(callee)}",
        f"media {media_path_text(path)}",
        *(f"  {d.label:<{width}}  {_stream_text(d.stream)}" for d in directions),
        f"{name} was called as: From {callee.from_header or '-'}; To {callee.to_header or '-'}; "
        f"P-Asserted-Identity {callee.asserted_identity or '-'}",
    ]
    if legs_listened(call, callee):
        lines.append(
            f"heard: caller {heard(call.listening, call.rx_stream)}; callee {name} "
            f"{heard(callee.listening, callee.rx_stream)}"
        )
    if callee.error:
        lines.append(f"callee {name}: {callee.error}")
    return lines
