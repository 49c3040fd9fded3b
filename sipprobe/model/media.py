"""Measured media as plain records: one RTP stream's figures, the far end's RTCP, an echo.

The numpy analysis engine produces them and every other layer reads them; they live here so
that the run model, the verdict and the reports can hold measured streams without importing
the engine or numpy (docs/architecture.md, "The model"). The definitions of the figures are
in docs/measurement.md. Nothing here knows JSON: the report layer writes and reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.outcome import Quality

__all__ = [
    "CallEcho",
    "CallListening",
    "CallStream",
    "EchoRttMs",
    "FarEndReport",
    "JitterMs",
    "PerSecond",
    "PerSecondRows",
    "RtpStreamInfo",
    "StreamMetrics",
    "StreamResult",
    "TimelinePoint",
    "VoipMetrics",
]


@dataclass(frozen=True, slots=True)
class JitterMs:
    """Interarrival jitter in milliseconds: largest and mean value reached, and the last one."""

    max: float
    mean: float
    final: float


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One second of a stream, counted from its first packet."""

    second: int
    expected: int
    lost: int
    jitter_ms: float | None


class PerSecond(Protocol):
    """A stream second by second. The analysis keeps it as numpy columns (an hour-long call
    has 3,600 seconds); a report read back from JSON keeps rows (``PerSecondRows``)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[TimelinePoint]: ...

    def columns(self) -> tuple[list[int], list[int], list[float | None]]:
        """Expected packets, lost packets and peak jitter in ms (None: none) per second."""
        ...


@dataclass(frozen=True, slots=True)
class PerSecondRows:
    """A per-second timeline held as records (one per second, from 0 on)."""

    rows: tuple[TimelinePoint, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[TimelinePoint]:
        return iter(self.rows)

    def columns(self) -> tuple[list[int], list[int], list[float | None]]:
        return (
            [row.expected for row in self.rows],
            [row.lost for row in self.rows],
            [row.jitter_ms for row in self.rows],
        )


@dataclass(frozen=True, slots=True)
class StreamMetrics:
    """Every media number of one stream; see docs/measurement.md for definitions."""

    packets: int
    expected: int
    lost: int
    duplicates: int
    reordered: int
    rfc3550_cumulative_lost: int
    sequence_jumps_ignored: int
    sequence_restarts: int
    loss_pct: float
    jitter_ms: JitterMs | None
    jitter_null_reason: str | None
    max_delta_ms: float
    ptime_ms: float | None
    discarded: int | None
    burst_density: float
    gap_density: float
    burst_mean_ms: float | None
    gap_mean_ms: float | None
    burst_r: float
    ppl_pct: float
    r_factor: float | None
    mos_lq: float | None
    r_factor_cq: float | None
    mos_cq: float | None
    cq_delay_ms: float | None
    mos_null_reason: str | None
    timeline: PerSecond
    duration_s: float


@dataclass(frozen=True, slots=True)
class VoipMetrics:
    """RFC 3611 VoIP metrics report block; ``None`` where the reporter says "unavailable"."""

    source_ssrc: int
    loss_rate: float  # fraction 0..1
    discard_rate: float
    burst_density: float
    gap_density: float
    burst_duration_ms: int
    gap_duration_ms: int
    round_trip_delay_ms: int
    end_system_delay_ms: int
    signal_level_dbm: int | None
    noise_level_dbm: int | None
    rerl_db: int | None
    gmin: int
    r_factor: int | None
    ext_r_factor: int | None
    mos_lq: float | None
    mos_cq: float | None
    jb_nominal_ms: int
    jb_maximum_ms: int
    jb_abs_max_ms: int


@dataclass(frozen=True, slots=True)
class FarEndReport:
    """What the stream's receiver said about it over RTCP (its latest report block)."""

    reports: int
    fraction_lost: float
    cumulative_lost: int
    jitter_ms: float | None  # None when the stream's clock rate is unknown
    voip_metrics: VoipMetrics | None


@dataclass(frozen=True, slots=True)
class RtpStreamInfo:
    """Which stream was measured: its key, what it carries and how it was recognised."""

    src: str  # "addr:port", "[v6addr]:port"
    dst: str
    ssrc: int
    payload_type: int  # the most frequent one
    codec: str | None  # encoding name, e.g. "PCMU"
    clock_rate: int | None
    call_id: str | None
    found_by: str  # "sdp", "rtp-port" or "heuristic"
    dscp: tuple[int, ...]  # DSCP values seen, ascending


@dataclass(frozen=True, slots=True)
class StreamResult:
    """One stream measured and judged against the thresholds."""

    stream: RtpStreamInfo
    metrics: StreamMetrics
    start_s: float  # first and last arrival, on the capture's clock
    end_s: float
    one_way_delay_ms: float | None
    delay_source: str | None  # "option" or "rtcp"
    rtt_ms: float | None
    far_end: FarEndReport | None
    verdict: Quality
    reasons: tuple[str, ...]  # why it is not good


@dataclass(frozen=True, slots=True)
class CallStream:
    """A captured stream of one call: its direction seen from the probe (``rx``: platform to
    probe, ``tx``: the probe's own), and the address the far end announced in its SDP."""

    direction: Literal["rx", "tx"]
    source: Literal["capture"]
    announced_rtp: Endpoint | None  # the far end's SDP answer (c= and m=)
    from_announced_address: bool | None  # rx only: did it come from ``announced_rtp``
    measured: StreamResult

    def far_end_loss_pct(self) -> float | None:
        """Loss of the stream as the far end's RTCP receiver reports give it, over the call.

        The cumulative count against what was sent, not the last report's fraction: at
        hang-up pjmedia sends a second report covering no new packets, whose fraction is 0.
        """
        far_end = self.measured.far_end
        if far_end is None or not far_end.reports:
            return None
        expected = self.measured.metrics.expected
        if expected > 0:
            return 100.0 * max(0, far_end.cumulative_lost) / expected
        return 100.0 * far_end.fraction_lost


@dataclass(frozen=True, slots=True)
class EchoRttMs:
    """Audio round trips through an echoing far end, per packet (ms)."""

    min: float
    median: float
    p95: float
    max: float


@dataclass(frozen=True, slots=True)
class CallEcho:
    """The call's audio round trip through an echoing far end, and the MOS-CQ it implies
    (docs/measurement.md, "Echo")."""

    lag_ms: float
    correlation: float
    packets: int
    rtt_ms: EchoRttMs
    histogram_ms: tuple[tuple[int, int], ...]  # (1 ms bucket, count)
    one_way_delay_ms: float | None
    mos_cq: float | None
    mos_cq_null_reason: str | None
    r_factor_cq: float | None = None  # set with mos_cq


@dataclass(frozen=True, slots=True)
class CallListening:
    """Listening quality measured on the speech an echoing far end sent back: a perceptual
    model's MOS-LQO beside the E-model's estimate (docs/measurement.md, "Listening quality")."""

    mos_lqo: float
    model: str  # which model and implementation scored it
    aligned_delay_ms: float  # where the sent audio starts in the received audio
    active_speech_s: float  # speech in the scored audio, pauses not counted
