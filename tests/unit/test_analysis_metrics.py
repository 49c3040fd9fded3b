"""stream_metrics end to end on streams whose truth is known by construction."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from sipprobe.analysis.metrics import MetricsOptions, StreamMetrics, stream_metrics
from sipprobe.analysis.timeline import Timeline
from sipprobe.report.analysis import metrics_json
from sipprobe.sip.codecs import CodecInfo, codec_by_name

PCMU = codec_by_name("PCMU", 8000)
CONTRACT_KEYS = {
    "packets",
    "expected",
    "lost",
    "loss_pct",
    "duplicates",
    "reordered",
    "rfc3550_cumulative_lost",
    "jitter_ms",
    "max_delta_ms",
    "discarded",
    "burst_r",
    "r_factor",
    "mos_lq",
    "mos_cq",
}


@dataclasses.dataclass
class Stream:
    """A 20 ms, 8 kHz stream in arrival order, built by the tests and then edited."""

    arrival_s: np.ndarray
    seq: np.ndarray
    rtp_ts: np.ndarray
    marker: np.ndarray
    payload_type: np.ndarray

    @classmethod
    def regular(cls, count: int, first_seq: int = 1000, first_ts: int = 5000) -> Stream:
        index = np.arange(count)
        return cls(
            arrival_s=100.0 + index * 0.020,
            seq=((first_seq + index) % 2**16).astype(np.uint16),
            rtp_ts=((first_ts + index * 160) % 2**32).astype(np.uint32),
            marker=np.zeros(count, dtype=bool),
            payload_type=np.zeros(count, dtype=np.uint8),
        )

    def select(self, keep: np.ndarray) -> Stream:
        return Stream(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))

    def metrics(
        self, codec: CodecInfo | None = PCMU, options: MetricsOptions | None = None
    ) -> StreamMetrics:
        return stream_metrics(
            self.arrival_s,
            self.seq,
            self.rtp_ts,
            self.marker,
            self.payload_type,
            codec,
            options or MetricsOptions(),
        )


def reference_jitter_samples(arrival_s: np.ndarray, rtp_ts: np.ndarray) -> list[float]:
    jitter, values = 0.0, [0.0]
    for i in range(1, arrival_s.size):
        ts_step = (int(rtp_ts[i]) - int(rtp_ts[i - 1]) + 2**31) % 2**32 - 2**31
        d = (arrival_s[i] - arrival_s[i - 1]) * 8000 - ts_step
        jitter += (abs(d) - jitter) / 16
        values.append(jitter)
    return values


def test_stream_metrics_clean_g711_call_scores_4_41() -> None:
    metrics = Stream.regular(500).metrics()
    assert (metrics.packets, metrics.expected, metrics.lost, metrics.loss_pct) == (500, 500, 0, 0.0)
    assert metrics.jitter_ms is not None
    assert metrics.jitter_ms.max == pytest.approx(0.0, abs=1e-6)
    assert metrics.max_delta_ms == pytest.approx(20.0)
    assert metrics.ptime_ms == 20.0
    assert (metrics.discarded, metrics.burst_density, metrics.burst_r) == (0, 0.0, 1.0)
    assert metrics.r_factor is not None and metrics.mos_lq is not None
    assert (round(metrics.r_factor, 4), round(metrics.mos_lq, 4)) == (93.2062, 4.4094)
    assert metrics.mos_cq is None
    assert metrics.mos_null_reason is not None and "one-way delay" in metrics.mos_null_reason
    assert metrics.duration_s == pytest.approx(499 * 0.020)


def test_stream_metrics_mos_cq_adds_buffer_and_packetisation_to_the_delay() -> None:
    metrics = Stream.regular(500).metrics(options=MetricsOptions(one_way_delay_ms=120.0))
    assert metrics.cq_delay_ms == pytest.approx(200.0)
    assert metrics.r_factor_cq is not None and metrics.mos_cq is not None
    assert (round(metrics.r_factor_cq, 4), round(metrics.mos_cq, 4)) == (85.8047, 4.2232)
    assert metrics.mos_null_reason is None


def test_stream_metrics_one_percent_random_loss() -> None:
    stream = Stream.regular(10_000)
    keep = np.arange(10_000) % 100 != 50
    metrics = stream.select(keep).metrics()
    assert (metrics.expected, metrics.lost, metrics.loss_pct) == (10_000, 100, 1.0)
    assert metrics.burst_r == 1.0
    assert metrics.r_factor is not None and metrics.mos_lq is not None
    assert (round(metrics.r_factor, 4), round(metrics.mos_lq, 4)) == (89.5664, 4.3282)
    assert metrics.gap_density == pytest.approx(0.01)


def test_stream_metrics_g711_without_plc_uses_bpl_4_3() -> None:
    keep = np.arange(10_000) % 100 != 50
    metrics = Stream.regular(10_000).select(keep).metrics(options=MetricsOptions(plc=False))
    assert metrics.r_factor == pytest.approx(93.20620 - 95 * 1 / (1 + 4.3), abs=1e-4)


def test_stream_metrics_g729_published_check_value() -> None:
    keep = np.arange(10_000) % 100 != 50
    options = MetricsOptions(one_way_delay_ms=20.0, jitter_buffer_ms=60.0)
    metrics = Stream.regular(10_000).select(keep).metrics(codec_by_name("G729", 8000), options)
    assert metrics.cq_delay_ms == pytest.approx(100.0)
    assert metrics.r_factor_cq is not None and metrics.mos_cq is not None
    assert (round(metrics.r_factor_cq, 4), round(metrics.mos_cq, 4)) == (75.4637, 3.8417)


def test_stream_metrics_loss_across_sequence_and_timestamp_wrap() -> None:
    stream = Stream.regular(2000, first_seq=64_900, first_ts=2**32 - 160 * 700)
    lost_positions = [10, 635, 636, 637, 1999 - 5]
    keep = np.ones(2000, dtype=bool)
    keep[lost_positions] = False
    metrics = stream.select(keep).metrics()
    assert (metrics.expected, metrics.lost, metrics.duplicates) == (2000, 5, 0)
    assert metrics.jitter_ms is not None
    assert metrics.jitter_ms.max == pytest.approx(0.0, abs=1e-6)
    assert metrics.ptime_ms == 20.0


def test_stream_metrics_reorder_and_duplicate() -> None:
    order = np.array([0, 1, 2, 4, 3, 5, 5, 6, 7, 9, 8])
    metrics = Stream.regular(10).select(order).metrics()
    assert metrics.packets == 11
    assert (metrics.expected, metrics.lost, metrics.duplicates, metrics.reordered) == (10, 0, 1, 2)
    assert metrics.rfc3550_cumulative_lost == -1


def test_stream_metrics_jitter_matches_reference() -> None:
    stream = Stream.regular(3000)
    stream.arrival_s = stream.arrival_s + np.random.default_rng(5).uniform(0, 0.012, 3000)
    metrics = stream.metrics()
    reference = np.array(reference_jitter_samples(stream.arrival_s, stream.rtp_ts)) / 8
    assert metrics.jitter_ms is not None
    assert metrics.jitter_ms.max == pytest.approx(reference[1:].max(), rel=1e-9)
    assert metrics.jitter_ms.mean == pytest.approx(reference[1:].mean(), rel=1e-9)
    assert metrics.jitter_ms.final == pytest.approx(reference[-1], rel=1e-9)


def test_stream_metrics_marker_packet_updates_j_but_not_max_and_mean() -> None:
    """Like Wireshark: J runs over every packet, marker packets stay out of max and mean."""
    stream = Stream.regular(100)
    stream.arrival_s[50:] += 1.0  # 1 s of silence whose timestamps did not advance
    stream.marker[50] = True
    stream.arrival_s[70] += 0.004
    metrics = stream.metrics()
    reference = np.array(reference_jitter_samples(stream.arrival_s, stream.rtp_ts)) / 8
    counted = np.ones(100, dtype=bool)
    counted[[0, 50]] = False
    assert metrics.jitter_ms is not None
    assert metrics.jitter_ms.final == pytest.approx(reference[-1])
    assert metrics.jitter_ms.max == pytest.approx(reference[counted].max())
    assert metrics.jitter_ms.max < reference[50]
    assert metrics.jitter_ms.mean == pytest.approx(reference[counted].mean())
    assert metrics.max_delta_ms == pytest.approx(24.0)


def test_stream_metrics_comfort_noise_is_counted_but_not_jitter() -> None:
    stream = Stream.regular(200)
    silence = np.arange(80, 120)
    stream.payload_type[silence] = 13
    stream.rtp_ts[silence] = 123  # nonsense timestamps would show as huge jitter
    stream.arrival_s[silence] += np.linspace(0, 0.3, silence.size)
    stream.marker[120] = True
    metrics = stream.metrics()
    assert (metrics.packets, metrics.expected, metrics.lost) == (200, 200, 0)
    assert metrics.jitter_ms is not None
    assert metrics.jitter_ms.max == pytest.approx(0.0, abs=1e-6)
    assert metrics.jitter_ms.final == pytest.approx(0.0, abs=1e-6)
    assert metrics.discarded == 0


def test_stream_metrics_telephone_events_stay_out_of_jitter() -> None:
    stream = Stream.regular(300)
    event = np.arange(100, 112)
    stream.payload_type[event] = 101
    stream.rtp_ts[event] = stream.rtp_ts[100]  # RFC 4733: one timestamp for the whole event
    metrics = stream.metrics()
    assert metrics.jitter_ms is not None
    assert metrics.jitter_ms.max == pytest.approx(0.0, abs=1e-6)
    assert metrics.lost == 0


def test_stream_metrics_late_packet_is_discarded_and_counts_for_mos() -> None:
    stream = Stream.regular(1000)
    stream.arrival_s[500] += 0.100
    keep = np.arange(1000) != 200
    metrics = stream.select(keep).metrics()
    assert (metrics.lost, metrics.discarded) == (1, 1)
    assert metrics.ppl_pct == pytest.approx(0.2)
    deeper = stream.select(keep).metrics(options=MetricsOptions(jitter_buffer_ms=150.0))
    assert deeper.discarded == 0
    assert deeper.mos_lq is not None and metrics.mos_lq is not None
    assert deeper.mos_lq > metrics.mos_lq


def test_stream_metrics_burst_of_loss() -> None:
    keep = np.ones(1000, dtype=bool)
    keep[[300, 301, 302, 305, 306]] = False
    metrics = Stream.regular(1000).select(keep).metrics()
    assert metrics.burst_density == pytest.approx(5 / 7)
    assert metrics.burst_mean_ms == pytest.approx(7 * 20.0)
    assert metrics.gap_mean_ms == pytest.approx((1000 - 7) * 20.0 / 2)
    assert metrics.burst_r > 1.0


def test_stream_metrics_timeline_per_second() -> None:
    keep = np.ones(150, dtype=bool)
    keep[[60, 61, 70]] = False
    stream = Stream.regular(150)
    stream.arrival_s[75] += 0.005
    metrics = stream.select(keep).metrics()
    timeline = metrics.timeline
    assert [p.second for p in timeline] == [0, 1, 2]
    assert [p.expected for p in timeline] == [50, 50, 50]
    assert [p.lost for p in timeline] == [0, 3, 0]
    assert timeline[0].jitter_ms == pytest.approx(0.0, abs=1e-6)
    assert timeline[1].jitter_ms is not None and timeline[1].jitter_ms > 0.2
    assert sum(p.lost for p in timeline) == metrics.lost


def test_stream_metrics_timeline_attributes_reordered_loss_to_its_second() -> None:
    stream = Stream.regular(6).select(np.array([0, 1, 2, 4, 5, 3]))
    stream.arrival_s = 100.0 + np.array([0.0, 0.5, 0.9, 0.95, 1.2, 1.5])
    metrics = stream.metrics()
    assert [(p.expected, p.lost) for p in metrics.timeline] == [(5, 0), (1, 0)]


def test_stream_metrics_restart_and_ignored_jump() -> None:
    stream = Stream.regular(300)
    stream.seq[100] = 40_000
    stream.seq[200:] = (stream.seq[200:].astype(np.int64) + 20_000).astype(np.uint16)
    metrics = stream.metrics()
    assert metrics.sequence_restarts == 1
    assert metrics.sequence_jumps_ignored == 2
    # The number the stray packet replaced is lost; the first packet of the restart is
    # ignored (RFC 3550 re-syncs on the second), so its run spans packets 201 to 299.
    assert (metrics.expected, metrics.lost) == (200 + 99, 1)


def test_stream_metrics_without_codec_states_what_is_missing() -> None:
    keep = np.arange(100) != 40
    metrics = Stream.regular(100).select(keep).metrics(codec=None)
    assert metrics.lost == 1
    assert metrics.jitter_ms is None and metrics.jitter_null_reason
    assert metrics.discarded is None
    assert metrics.mos_lq is None and metrics.mos_cq is None and metrics.mos_null_reason
    assert metrics.ptime_ms == pytest.approx(20.0)
    assert all(p.jitter_ms is None for p in metrics.timeline)
    json.dumps(metrics_json(metrics), allow_nan=False)


def test_stream_metrics_codec_without_planning_values() -> None:
    metrics = Stream.regular(100).metrics(codec=codec_by_name("opus", 48000))
    assert metrics.jitter_ms is not None
    assert metrics.mos_lq is None and metrics.r_factor is None
    assert metrics.mos_null_reason is not None and "opus" in metrics.mos_null_reason


def test_stream_metrics_single_packet() -> None:
    metrics = Stream.regular(1).metrics(options=MetricsOptions(one_way_delay_ms=10.0))
    assert (metrics.expected, metrics.lost, metrics.max_delta_ms) == (1, 0, 0.0)
    assert metrics.jitter_ms is not None and metrics.jitter_ms.final == 0.0
    assert metrics.ptime_ms == 20.0  # the codec default when nothing can be measured
    assert metrics.mos_cq is not None


def test_stream_metrics_to_json_has_the_contract_keys_and_no_nan() -> None:
    data = metrics_json(Stream.regular(100).metrics())
    assert set(data) >= CONTRACT_KEYS
    assert set(data["jitter_ms"]) == {"max", "mean", "final"}  # type: ignore[arg-type]
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["timeline"][0] == {
        "second": 0,
        "expected": 50,
        "lost": 0,
        "jitter_ms": pytest.approx(0.0, abs=1e-6),
    }


def test_stream_metrics_result_is_frozen() -> None:
    metrics = Stream.regular(10).metrics()
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.lost = 3  # type: ignore[misc]
    assert isinstance(metrics.timeline, Timeline)
    with pytest.raises(ValueError, match="read-only"):
        metrics.timeline.lost[0] = 1


@pytest.mark.parametrize(
    "options",
    [
        {"jitter_buffer_ms": -1.0},
        {"jitter_buffer_ms": float("nan")},
        {"one_way_delay_ms": -5.0},
        {"one_way_delay_ms": float("inf")},
    ],
)
def test_metrics_options_reject_impossible_values(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be a finite number"):
        MetricsOptions(**options)  # type: ignore[arg-type]


def test_stream_metrics_rejects_malformed_input() -> None:
    stream = Stream.regular(5)
    with pytest.raises(ValueError, match="equal length"):
        stream_metrics(
            stream.arrival_s,
            stream.seq[:4],
            stream.rtp_ts,
            stream.marker,
            stream.payload_type,
            PCMU,
        )
    with pytest.raises(ValueError, match="at least one packet"):
        Stream.regular(0).metrics()
    stream.arrival_s[2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        stream.metrics()
