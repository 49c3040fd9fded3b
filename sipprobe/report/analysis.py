"""What ``sipprobe analyze`` prints: the per-stream text table, and the JSON document.

``stream_json`` is the stream object of ``sipprobe analyze --format json``, also used in run
reports (``calls[].streams``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sipprobe.model.media import StreamMetrics, StreamResult

if TYPE_CHECKING:
    from sipprobe.analysis.analyze import AnalysisResult

__all__ = ["analysis_json", "metrics_json", "render_analysis_text", "stream_json", "timeline_json"]


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


def timeline_json(metrics: StreamMetrics) -> list[dict[str, int | float | None]]:
    """One object per second, ``null`` for no jitter."""
    expected, lost, jitter = metrics.timeline.columns()
    return [
        {"second": second, "expected": count, "lost": missing, "jitter_ms": jitter_ms}
        for second, (count, missing, jitter_ms) in enumerate(
            zip(expected, lost, jitter, strict=True)
        )
    ]


def metrics_json(metrics: StreamMetrics) -> dict[str, Any]:
    """The metric keys of a stream object."""
    jitter = metrics.jitter_ms
    return {
        "packets": metrics.packets,
        "expected": metrics.expected,
        "lost": metrics.lost,
        "loss_pct": metrics.loss_pct,
        "duplicates": metrics.duplicates,
        "reordered": metrics.reordered,
        "rfc3550_cumulative_lost": metrics.rfc3550_cumulative_lost,
        "sequence_jumps_ignored": metrics.sequence_jumps_ignored,
        "sequence_restarts": metrics.sequence_restarts,
        "jitter_ms": None
        if jitter is None
        else {"max": jitter.max, "mean": jitter.mean, "final": jitter.final},
        "jitter_null_reason": metrics.jitter_null_reason,
        "max_delta_ms": metrics.max_delta_ms,
        "ptime_ms": metrics.ptime_ms,
        "discarded": metrics.discarded,
        "burst_density": metrics.burst_density,
        "gap_density": metrics.gap_density,
        "burst_mean_ms": metrics.burst_mean_ms,
        "gap_mean_ms": metrics.gap_mean_ms,
        "burst_r": metrics.burst_r,
        "ppl_pct": metrics.ppl_pct,
        "r_factor": metrics.r_factor,
        "mos_lq": metrics.mos_lq,
        "r_factor_cq": metrics.r_factor_cq,
        "mos_cq": metrics.mos_cq,
        "cq_delay_ms": metrics.cq_delay_ms,
        "mos_null_reason": metrics.mos_null_reason,
        "duration_s": metrics.duration_s,
        "timeline": timeline_json(metrics),
    }


def stream_json(result: StreamResult) -> dict[str, Any]:
    """The stream object of ``sipprobe analyze --format json``, also used in run reports."""
    stream = result.stream
    head = {
        "ssrc": stream.ssrc,
        "src": stream.src,
        "dst": stream.dst,
        "payload_type": stream.payload_type,
        "codec": stream.codec,
        "clock_rate": stream.clock_rate,
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
    fields = {**head, **metrics_json(result.metrics), **tail}
    # The timeline is JSON-safe as made, and long (86,400 rows a day): not walked again.
    return {k: v if k == "timeline" else _clean(v) for k, v in fields.items()}


def analysis_json(result: AnalysisResult) -> dict[str, Any]:
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


def render_analysis_text(result: AnalysisResult) -> str:
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
                s.codec or f"PT{s.payload_type}",
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
