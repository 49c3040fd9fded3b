"""Media metrics of one RTP stream, as docs/measurement.md defines them.

``stream_metrics`` takes the header fields of one stream's packets as numpy arrays in arrival
order and returns a frozen ``StreamMetrics``. Conventions that the parts share:

- Sequence accounting (RFC 3550 A.1/A.3) covers every packet; jitter, the de-jitter buffer and
  the packet interval use the *audio* packets only: the stream's main payload type. Comfort
  noise (PT 13, 19) is sent sparsely and telephone-event keeps one timestamp for a whole event
  (RFC 4733), so either would show as jitter the network never caused.
- Every audio packet updates J, as RFC 3550 A.8 does, so ``jitter_ms.final`` is what an RTCP
  receiver report on the audio carries. The max and mean leave out the first packet, marker
  packets (the first after DTX silence) and packets right after comfort noise: that is what
  Wireshark's rtp analysis does (tap-rtp-analysis.c), so the max and mean agree with tshark.
- Nothing is guessed: a value that cannot be computed is ``None`` with a reason, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sipprobe.analysis.bursts import burst_metrics
from sipprobe.analysis.codecs import no_planning_value_reason, planning_values
from sipprobe.analysis.dejitter import discarded_numbers, late_packets
from sipprobe.analysis.emodel import e_model
from sipprobe.analysis.jitter import interarrival_jitter, summarise_jitter, timestamp_steps
from sipprobe.analysis.sequence import count_sequence, extend_sequence, sorted_unique
from sipprobe.analysis.timeline import build_timeline, seconds_of
from sipprobe.model.media import JitterMs, StreamMetrics
from sipprobe.sip.codecs import CodecInfo

__all__ = [
    "COMFORT_NOISE_PAYLOAD_TYPES",
    "MetricsOptions",
    "StreamMetrics",
    "stream_metrics",
]

COMFORT_NOISE_PAYLOAD_TYPES = (13, 19)


@dataclass(frozen=True, slots=True)
class MetricsOptions:
    """Receiver assumptions: de-jitter buffer depth, known one-way delay, G.711 concealment."""

    jitter_buffer_ms: float = 60.0
    one_way_delay_ms: float | None = None
    plc: bool = True

    def __post_init__(self) -> None:
        for name, value in (
            ("jitter_buffer_ms", self.jitter_buffer_ms),
            ("one_way_delay_ms", self.one_way_delay_ms),
        ):
            if value is not None and not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite number of ms >= 0, not {value}")


@dataclass(frozen=True, slots=True)
class _Packets:
    arrival_s: NDArray[np.float64]
    seq: NDArray[np.uint16]
    rtp_ts: NDArray[np.uint32]
    marker: NDArray[np.bool_]
    payload_type: NDArray[np.uint8]


def _as_packets(
    arrival_s: NDArray[np.float64],
    seq: NDArray[np.uint16],
    rtp_ts: NDArray[np.uint32],
    marker: NDArray[np.bool_],
    payload_type: NDArray[np.uint8],
) -> _Packets:
    packets = _Packets(
        np.asarray(arrival_s, dtype=np.float64),
        np.asarray(seq, dtype=np.uint16),
        np.asarray(rtp_ts, dtype=np.uint32),
        np.asarray(marker, dtype=np.bool_),
        np.asarray(payload_type, dtype=np.uint8),
    )
    sizes = {a.shape for a in (packets.seq, packets.rtp_ts, packets.marker, packets.payload_type)}
    if sizes != {packets.arrival_s.shape} or packets.arrival_s.ndim != 1:
        raise ValueError("stream arrays must be one-dimensional and of equal length")
    if packets.arrival_s.size == 0:
        raise ValueError("a stream needs at least one packet")
    if not np.isfinite(packets.arrival_s).all():
        raise ValueError("arrival times must be finite")
    return packets


def _tail_or_mask(mask: NDArray[np.bool_]) -> slice | NDArray[np.bool_]:
    """An index for the packets ``mask`` keeps: a slice when they are all from one on.

    Usually every packet is accepted, audio and counted (but the first), and a slice takes
    them as views where the mask would copy.
    """
    first = int(mask.argmax())
    if mask[first] and mask[first:].all():
        return slice(first, None)
    return mask


def _max_delta_ms(arrival_s: NDArray[np.float64], skip: NDArray[np.bool_]) -> float:
    """Largest arrival gap into a packet that is not marked, not CN and not right after CN."""
    counted = ~skip[1:]
    if not counted.any():
        return 0.0
    return float(np.max(np.diff(arrival_s), where=counted, initial=-np.inf)) * 1000.0


def _median(values: NDArray[np.floating[Any]]) -> float | None:
    if values.size == 0:
        return None
    if (values == values[0]).all():  # a constant packet interval: no sorting needed
        return float(values[0])
    return float(np.median(values))


def _packet_interval_ms(
    arrival_s: NDArray[np.float64],
    rtp_ts: NDArray[np.uint32],
    extended: NDArray[np.int64],
    clock_rate: int | None,
) -> float | None:
    """Median media time between consecutive numbers (arrival time if the clock is unknown)."""
    if extended.size < 2:
        return None
    consecutive = _tail_or_mask(np.diff(extended) == 1)
    steps: NDArray[np.floating[Any]]
    if clock_rate is None:
        steps = np.diff(arrival_s)[consecutive] * 1000.0
    else:
        steps = timestamp_steps(rtp_ts)[consecutive] * (1000.0 / clock_rate)
    return _median(steps[steps > 0])


@dataclass(frozen=True, slots=True)
class _Quality:
    r_lq: float | None = None
    mos_lq: float | None = None
    r_cq: float | None = None
    mos_cq: float | None = None
    cq_delay_ms: float | None = None
    null_reason: str | None = None


def _quality(
    codec: CodecInfo | None,
    options: MetricsOptions,
    *,
    ppl_pct: float,
    burst_r: float,
    ptime_ms: float | None,
) -> _Quality:
    """MOS-LQ (no delay) and, when the one-way delay is known, MOS-CQ; else the reason."""
    if codec is None:
        return _Quality(null_reason="codec unknown: no E-model planning values and no clock rate")
    values = planning_values(codec, plc=options.plc)
    if values is None:
        return _Quality(null_reason=no_planning_value_reason(codec))
    lq = e_model(ie=values.ie, bpl=values.bpl, ppl_pct=ppl_pct, burst_r=burst_r, ta_ms=0.0)
    if options.one_way_delay_ms is None:
        reason = "MOS-CQ needs the one-way delay (RTT/2 from RTCP or an echo test): none known"
        return _Quality(lq.r, lq.mos, null_reason=reason)
    if ptime_ms is None:
        reason = "MOS-CQ needs the packetisation time, which this stream does not show"
        return _Quality(lq.r, lq.mos, null_reason=reason)
    delay_ms = options.one_way_delay_ms + options.jitter_buffer_ms + ptime_ms
    cq = e_model(ie=values.ie, bpl=values.bpl, ppl_pct=ppl_pct, burst_r=burst_r, ta_ms=delay_ms)
    return _Quality(lq.r, lq.mos, cq.r, cq.mos, delay_ms)


def _audio_mask(
    payload_type: NDArray[np.uint8], candidates: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """The candidates that carry the stream's most frequent payload type."""
    if not candidates.any():
        return candidates
    types = payload_type[_tail_or_mask(candidates)]
    main = types[0]
    if types.min() != types.max():
        main = np.argmax(np.bincount(types, minlength=256))
    audio: NDArray[np.bool_] = candidates & (payload_type == main)
    return audio


def stream_metrics(
    arrival_s: NDArray[np.float64],
    seq: NDArray[np.uint16],
    rtp_ts: NDArray[np.uint32],
    marker: NDArray[np.bool_],
    payload_type: NDArray[np.uint8],
    codec: CodecInfo | None,
    options: MetricsOptions = MetricsOptions(),
) -> StreamMetrics:
    """Compute every metric of one stream from its packets in arrival order.

    ``arrival_s`` is best given relative to the capture start: float64 epoch seconds are only
    resolved to about 0.24 microseconds, which shows as jitter of a few 1e-5 ms on a perfect
    stream. Raises ``ValueError`` for arrays of unequal length, no packets or non-finite
    arrival times (a caller's bug, not a property of the capture).
    """
    packets = _as_packets(arrival_s, seq, rtp_ts, marker, payload_type)
    sequence = extend_sequence(packets.seq)
    numbers = sequence.accepted_numbers()
    unique = sorted_unique(numbers)
    counts = count_sequence(sequence, unique)
    accepted = _tail_or_mask(sequence.accepted)
    comfort_noise = np.zeros(packets.payload_type.size, dtype=np.bool_)
    for kind in COMFORT_NOISE_PAYLOAD_TYPES:
        comfort_noise |= packets.payload_type == kind
    after_comfort_noise = np.zeros_like(comfort_noise)
    after_comfort_noise[1:] = comfort_noise[:-1]
    skip_in_stats = packets.marker | comfort_noise | after_comfort_noise
    audio = _tail_or_mask(_audio_mask(packets.payload_type, sequence.accepted & ~comfort_noise))
    audio_arrival_s, audio_ts = packets.arrival_s[audio], packets.rtp_ts[audio]
    audio_extended = sequence.extended[audio]
    seconds = seconds_of(packets.arrival_s)
    clock_rate = None if codec is None else codec.clock_rate

    ptime_ms = _packet_interval_ms(audio_arrival_s, audio_ts, audio_extended, clock_rate)
    if ptime_ms is None and codec is not None:
        ptime_ms = codec.ptime_ms

    jitter: JitterMs | None = None
    jitter_reason: str | None = None
    jitter_peaks = None
    discarded = np.zeros(0, dtype=np.int64)
    if clock_rate is None:
        jitter_reason = "codec unknown, so is the RTP clock rate that jitter needs"
    elif audio_extended.size == 0:
        jitter_reason = "no audio packets (comfort noise only)"
    else:
        jitter_ts = interarrival_jitter(audio_arrival_s, audio_ts, clock_rate)
        counted_mask = ~skip_in_stats[audio]
        counted_mask[0] = False
        counted = _tail_or_mask(counted_mask)
        jitter = summarise_jitter(jitter_ts, counted, clock_rate)
        jitter_peaks = (seconds[audio][counted], jitter_ts[counted] * 1000.0 / clock_rate)
        late = late_packets(audio_arrival_s, audio_ts, clock_rate, options.jitter_buffer_ms)
        discarded = discarded_numbers(audio_extended, late)

    played = unique[~np.isin(unique, discarded)] if discarded.size else unique
    bursts = burst_metrics(played, counts.lowest, counts.highest, ptime_ms)
    ppl_pct = 100.0 * (counts.lost + discarded.size) / counts.expected
    quality = _quality(codec, options, ppl_pct=ppl_pct, burst_r=bursts.burst_r, ptime_ms=ptime_ms)
    return StreamMetrics(
        packets=int(packets.seq.size),
        expected=counts.expected,
        lost=counts.lost,
        duplicates=counts.duplicates,
        reordered=counts.reordered,
        rfc3550_cumulative_lost=counts.rfc3550_cumulative_lost,
        sequence_jumps_ignored=counts.ignored,
        sequence_restarts=counts.restarts,
        loss_pct=100.0 * counts.lost / counts.expected,
        jitter_ms=jitter,
        jitter_null_reason=jitter_reason,
        max_delta_ms=_max_delta_ms(packets.arrival_s[accepted], skip_in_stats[accepted]),
        ptime_ms=ptime_ms,
        discarded=None if clock_rate is None else int(discarded.size),
        burst_density=bursts.burst_density,
        gap_density=bursts.gap_density,
        burst_mean_ms=bursts.burst_mean_ms,
        gap_mean_ms=bursts.gap_mean_ms,
        burst_r=bursts.burst_r,
        ppl_pct=ppl_pct,
        r_factor=quality.r_lq,
        mos_lq=quality.mos_lq,
        r_factor_cq=quality.r_cq,
        mos_cq=quality.mos_cq,
        cq_delay_ms=quality.cq_delay_ms,
        mos_null_reason=quality.null_reason,
        timeline=build_timeline(
            seconds=seconds,
            accepted=accepted,
            numbers=numbers,
            unique=unique,
            lowest=counts.lowest,
            jitter_peaks=jitter_peaks,
        ),
        duration_s=float(packets.arrival_s.max() - packets.arrival_s.min()),
    )
