"""What ``sipprobe analyze`` prints: the per-stream text table, and the JSON contract.

``stream_json`` is the stream object of ``sipprobe analyze --format json``, also used in run
reports (``calls[].streams``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sipprobe.analysis.analyze import AnalysisResult, StreamResult

__all__ = ["render_text", "stream_json", "to_json"]


_PLAIN = frozenset({str, int, bool, type(None)})


def _clean(value: Any) -> Any:
    """JSON-safe: dataclasses to dicts, tuples to lists, non-finite floats to null."""
    if type(value) in _PLAIN:  # most values: checked first, as 4,000 RTCP reports hold many
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        fields = ((k, getattr(value, k)) for k in value.__dataclass_fields__)
        return {k: v if type(v) in _PLAIN else _clean(v) for k, v in fields}
    return value


def stream_json(result: StreamResult) -> dict[str, Any]:
    """The stream object of ``sipprobe analyze --format json``, also used in run reports."""
    stream = result.stream
    head = {
        "ssrc": stream.ssrc,
        "src": stream.src,
        "dst": stream.dst,
        "payload_type": stream.payload_type,
        "codec": stream.codec.name if stream.codec else None,
        "clock_rate": stream.codec.clock_rate if stream.codec else None,
        "call_id": stream.call_id,
        "found_by": stream.found_by,
        "dscp": list(stream.dscp),
        "start_s": result.start_s,
        "end_s": result.end_s,
    }
    tail = {
        "one_way_delay_ms": result.one_way_delay_ms,
        "delay_source": result.delay_source,
        "rtt_ms": result.rtt_ms,
        "far_end": result.far_end,
        "verdict": result.verdict.value,
        "verdict_reasons": list(result.reasons),
    }
    fields = {**head, **result.metrics.to_json(), **tail}
    # The timeline is JSON-safe as made, and long (86,400 rows a day): not walked again.
    return {k: v if k == "timeline" else _clean(v) for k, v in fields.items()}


def to_json(result: AnalysisResult) -> dict[str, Any]:
    return {
        "file": _clean(result.capture),
        "start_time": _when(result.origin_s, 0.0),
        "media": result.media.value,
        "streams": [stream_json(s) for s in result.streams],  # clean already
        "rtcp": _clean(result.rtcp),
        "sdp": _clean(result.sdp),
        "skipped": _clean(result.skipped),
    }


def _when(origin_s: int, offset_s: float) -> str | None:
    """ISO 8601 UTC, or None for a timestamp no calendar holds (a corrupt capture)."""
    try:
        moment = datetime.fromtimestamp(origin_s + offset_s, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.isoformat(timespec="milliseconds")


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def render_text(result: AnalysisResult) -> str:
    """A per-stream table an engineer reads at a glance, then why each stream is not good."""
    info = result.capture
    start = _when(result.origin_s, 0.0) or f"Unix time {result.origin_s}"
    lines = [
        f"{info.path}: {info.format}, {info.records} packets ({info.udp_packets} UDP) from {start}"
    ]
    if result.skipped:
        lines.append("skipped: " + ", ".join(f"{k} {v}" for k, v in result.skipped.items()))
    if not result.streams:
        lines.append(
            "no RTP stream found (a --rtp-port hint helps when the SIP is not in the capture)"
        )
        return "\n".join(lines) + "\n"
    header = (
        "#",
        "source -> destination",
        "SSRC",
        "codec",
        "pkts",
        "lost",
        "loss%",
        "dup",
        "reord",
        "jit mean",
        "jit max",
        "max gap",
        "disc",
        "MOS-LQ",
        "MOS-CQ",
        "DSCP",
        "verdict",
    )
    table = [header]
    for number, item in enumerate(result.streams, start=1):
        m, s = item.metrics, item.stream
        table.append(
            (
                str(number),
                f"{s.src} -> {s.dst}",
                f"0x{s.ssrc:08x}",
                s.codec.name if s.codec else f"PT{s.payload_type}",
                str(m.packets),
                str(m.lost),
                f"{m.loss_pct:.2f}",
                str(m.duplicates),
                str(m.reordered),
                _fmt(m.jitter_ms.mean if m.jitter_ms else None),
                _fmt(m.jitter_ms.max if m.jitter_ms else None),
                f"{m.max_delta_ms:.1f}",
                "-" if m.discarded is None else str(m.discarded),
                _fmt(m.mos_lq),
                _fmt(m.mos_cq),
                ",".join(str(d) for d in s.dscp),
                item.verdict.value,
            )
        )
    widths = [max(len(row[k]) for row in table) for k in range(len(header))]
    left = {1, 3, 16}
    for row in table:
        cells = [
            c.ljust(w) if k in left else c.rjust(w)
            for k, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    note = "(jitter and max gap in ms"
    if any(r.metrics.mos_cq is None and r.metrics.mos_lq is not None for r in result.streams):
        note += "; MOS-CQ needs a one-way delay: --one-way-delay-ms, or RTCP in the capture"
    lines.append(note + ")")
    for number, item in enumerate(result.streams, start=1):
        notes = list(item.reasons)
        if item.far_end is not None:
            far = item.far_end
            jitter = _fmt(far.jitter_ms, ".1f")
            notes.append(
                f"far end reports {100 * far.fraction_lost:.1f}% lost lately, "
                f"{far.cumulative_lost} in all, jitter {jitter} ms"
            )
        if item.rtt_ms is not None:
            notes.append(f"RTCP round trip {item.rtt_ms:.1f} ms")
        if item.stream.call_id:
            notes.append(f"call {item.stream.call_id}")
        if notes:
            lines.append(f"#{number} {item.verdict.value}: " + "; ".join(notes))
    count = len(result.streams)
    lines.append(f"media: {result.media.value} ({count} stream{'' if count == 1 else 's'})")
    return "\n".join(lines) + "\n"
