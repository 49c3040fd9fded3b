"""The offline ``analyze`` job: a capture file in, per-stream media figures and verdicts out.

    read_capture -> SDP from SIP payloads -> find_streams -> RTCP reports
                 -> stream_metrics per stream -> verdict per stream -> text table or JSON

Each stream is judged against the default thresholds (``Thresholds``, docs/measurement.md): loss,
mean jitter, MOS-LQ and, when known, one-way delay; the worst of them is the stream's verdict
and the worst stream is the capture's media verdict. The one-way delay for MOS-CQ is the
user's ``one_way_delay_ms`` when given, else half the median RTCP round trip of the stream's
pair of endpoints (the capture-clock RTT when the SR is in the capture, as it holds no clock
offset; else arrival - LSR - DLSR), else unknown and MOS-CQ stays ``null``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sipprobe.analysis.announced import AnnouncedMedia, announced_media
from sipprobe.analysis.forked import OK, Forked, may_fork
from sipprobe.analysis.metrics import MetricsOptions, stream_metrics
from sipprobe.analysis.pcap import CaptureInfo, UdpPackets, read_capture
from sipprobe.analysis.rtcp import ReportBlock, RtcpReport, rtcp_reports
from sipprobe.analysis.streams import RtpStream, find_streams
from sipprobe.model.media import FarEndReport, StreamMetrics, StreamResult, VoipMetrics
from sipprobe.model.outcome import ExitCode, Quality
from sipprobe.model.thresholds import Metric, Thresholds

__all__ = [
    "AnalysisResult",
    "AnalyzeOptions",
    "FarEndReport",
    "StreamResult",
    "analyze_file",
]

_RANK = {Quality.GOOD: 0, Quality.DEGRADED: 1, Quality.BAD: 2}
_FORK_ROWS = 100_000  # RTP packets below which a second process for measuring costs more


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    jitter_buffer_ms: float = 60.0
    one_way_delay_ms: float | None = None
    rtp_ports: tuple[int, ...] = ()
    workers: int = 1  # processes that may read a large pcap (``read_capture``)
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    capture: CaptureInfo
    origin_s: int  # Unix second that arrival times count from
    streams: tuple[StreamResult, ...]
    rtcp: tuple[RtcpReport, ...]
    sdp: tuple[AnnouncedMedia, ...]
    skipped: dict[str, int]
    media: Quality

    @property
    def exit_code(self) -> ExitCode:
        return {
            Quality.GOOD: ExitCode.OK,
            Quality.DEGRADED: ExitCode.WARNING,
            Quality.BAD: ExitCode.CRITICAL,
        }.get(self.media, ExitCode.UNKNOWN)


_CHECKS: tuple[tuple[str, Metric, str], ...] = (  # name in the reason, metric, unit
    ("loss", "loss", "%"),
    ("mean jitter", "jitter", " ms"),
    ("one-way delay", "delay", " ms"),
    ("MOS-LQ", "mos", ""),
)


def _judge(
    metrics: StreamMetrics, delay_ms: float | None, t: Thresholds
) -> list[tuple[Quality, str]]:
    """Each figure beyond a threshold, with the quality it implies."""
    jitter = metrics.jitter_ms.mean if metrics.jitter_ms else None
    values = (metrics.loss_pct, jitter, delay_ms, metrics.mos_lq)
    found: list[tuple[Quality, str]] = []
    for (name, metric, unit), value in zip(_CHECKS, values, strict=True):
        quality = t.grade(metric, value)
        if value is None or quality not in (Quality.DEGRADED, Quality.BAD):
            continue
        degraded, bad = t.limits(metric)
        limit = bad if quality is Quality.BAD else degraded
        if metric == "mos":
            found.append((quality, f"{name} {value:.2f} < {limit:g}"))
        else:
            found.append((quality, f"{name} {value:.3g}{unit} >= {limit:g}{unit}"))
    return found


@dataclass(frozen=True, slots=True)
class _RtcpBySsrc:
    """RTCP content per SSRC, indexed once so that each stream's lookup is a dict access."""

    # Report blocks and XR VoIP metrics about the stream, each with the endpoint that sent it.
    blocks: dict[int, list[tuple[str, ReportBlock]]]
    voip: dict[int, list[tuple[str, VoipMetrics]]]
    rtts_ms: dict[int, list[float]]  # round trips measured by or about the stream's sender


def _index(reports: tuple[RtcpReport, ...]) -> _RtcpBySsrc:
    index = _RtcpBySsrc({}, {}, {})
    for report in reports:
        sender = report.src
        for block in report.blocks:
            index.blocks.setdefault(block.source_ssrc, []).append((sender, block))
            rtt = block.capture_rtt_ms if block.capture_rtt_ms is not None else block.rtt_ms
            if rtt is not None:
                for ssrc in {block.source_ssrc, report.reporter_ssrc}:
                    index.rtts_ms.setdefault(ssrc, []).append(rtt)
        for metrics in report.voip_metrics:
            index.voip.setdefault(metrics.source_ssrc, []).append((sender, metrics))
    return index


def _split(address: str) -> tuple[str, int]:
    """Host and port of an "addr:port" or "[v6addr]:port" endpoint as the reader writes them."""
    host, _, port = address.rpartition(":")
    return (host[1:-1] if host.startswith("[") else host), int(port)


def _by_receiver(stream: RtpStream) -> Callable[[str], bool]:
    """Whether a report sent from an endpoint is the stream's receiver's: sent from the
    stream's destination host, and not from the sender's own RTP or RTCP port (the two ends
    can share a host). An echoing far end that keeps the sender's SSRC (SIPp ``-rtp_echo``)
    makes the sender's own reports about the echo name the stream's SSRC too."""
    receiver, (sender, port) = _split(stream.dst)[0], _split(stream.src)
    own = {(sender, port), (sender, port + 1)}

    def check(endpoint: str) -> bool:
        host, from_port = _split(endpoint)
        return host == receiver and (host, from_port) not in own

    return check


def _far_end(stream: RtpStream, rtcp: _RtcpBySsrc) -> FarEndReport | None:
    """The latest report about the stream from its receiver (``_by_receiver``)."""
    by_receiver = _by_receiver(stream)
    blocks = [b for sent, b in rtcp.blocks.get(stream.ssrc, []) if by_receiver(sent)]
    voip = [v for sent, v in rtcp.voip.get(stream.ssrc, []) if by_receiver(sent)]
    if not blocks and not voip:
        return None
    if not blocks:
        return FarEndReport(0, voip[-1].loss_rate, 0, None, voip[-1])
    last = blocks[-1]
    clock = stream.codec.clock_rate if stream.codec is not None else None
    jitter_ms = None if clock is None else last.jitter * 1000 / clock
    return FarEndReport(
        len(blocks), last.fraction_lost, last.cumulative_lost, jitter_ms, voip[-1] if voip else None
    )


def _measure(
    stream: RtpStream, packets: UdpPackets, rtcp: _RtcpBySsrc, options: AnalyzeOptions
) -> StreamResult:
    rows = stream.rows
    rtts = rtcp.rtts_ms.get(stream.ssrc)  # either end's reports: the same pair of hosts
    rtt_ms = float(np.median(rtts)) if rtts else None
    delay_ms, source = options.one_way_delay_ms, "option"
    if delay_ms is None and rtt_ms is not None:
        delay_ms, source = rtt_ms / 2, "rtcp"
    metrics = stream_metrics(
        packets.arrival_s[rows],
        packets.rtp_seq[rows],
        packets.rtp_ts[rows],
        packets.rtp_marker[rows],
        packets.rtp_payload_type[rows],
        stream.codec,
        MetricsOptions(jitter_buffer_ms=options.jitter_buffer_ms, one_way_delay_ms=delay_ms),
    )
    problems = _judge(metrics, delay_ms, options.thresholds)
    verdict = max((q for q, _ in problems), key=_RANK.__getitem__, default=Quality.GOOD)
    return StreamResult(
        stream=stream.info(),
        metrics=metrics,
        start_s=float(packets.arrival_s[rows[0]]),  # rows are in arrival order
        end_s=float(packets.arrival_s[rows[-1]]),
        one_way_delay_ms=delay_ms,
        delay_source=source if delay_ms is not None else None,
        rtt_ms=rtt_ms,
        far_end=_far_end(stream, rtcp),
        verdict=verdict,
        reasons=tuple(reason for _, reason in problems),
    )


def _measure_all(
    streams: tuple[RtpStream, ...], packets: UdpPackets, rtcp: _RtcpBySsrc, options: AnalyzeOptions
) -> tuple[StreamResult, ...]:
    """Every stream measured, in order; with ``options.workers`` a forked child measures
    every other stream of a large capture (a child that fails leaves them to this process)."""
    rows = sum(len(s.rows) for s in streams)
    if options.workers < 2 or len(streams) < 2 or rows < _FORK_ROWS or not may_fork():
        return tuple(_measure(s, packets, rtcp, options) for s in streams)
    theirs = streams[1::2]
    with Forked(_measure_each, theirs, packets, rtcp, options) as child:
        mine = [_measure(s, packets, rtcp, options) for s in streams[0::2]]
        status, measured = child.result()
    done = measured if status == OK else [_measure(s, packets, rtcp, options) for s in theirs]
    results: list[StreamResult] = []
    for pair in itertools.zip_longest(mine, done):
        results.extend(r for r in pair if r is not None)
    return tuple(results)


def _measure_each(
    streams: tuple[RtpStream, ...], packets: UdpPackets, rtcp: _RtcpBySsrc, options: AnalyzeOptions
) -> list[StreamResult]:
    return [_measure(s, packets, rtcp, options) for s in streams]


def analyze_file(path: str | Path, options: AnalyzeOptions | None = None) -> AnalysisResult:
    """Measure every RTP stream in a pcap/pcapng file; raises ``CaptureError`` if unreadable."""
    options = options or AnalyzeOptions()
    capture = read_capture(path, workers=options.workers)
    packets = capture.packets
    sdp = announced_media((float(packets.arrival_s[row]), data) for row, data in packets.payloads)
    streams = find_streams(packets, sdp, options.rtp_ports)
    reports, rtcp_skips = rtcp_reports(packets)
    rtcp = _index(reports)
    results = _measure_all(streams, packets, rtcp, options)
    unused = np.ones(len(packets.arrival_s), dtype=bool)
    for stream in streams:
        unused[stream.rows] = False
    unused[[row for row, _ in packets.payloads]] = False
    skipped = dict(capture.skipped)
    for reason, count in [*rtcp_skips.items(), ("udp-not-rtp", int(unused.sum()))]:
        if count:
            skipped[reason] = skipped.get(reason, 0) + count
    media = max((r.verdict for r in results), key=_RANK.__getitem__, default=Quality.UNKNOWN)
    return AnalysisResult(capture.info, packets.origin_s, results, reports, sdp, skipped, media)
