"""Baseline maths with exact values, and how a regression reaches the verdict."""

from __future__ import annotations

from dataclasses import replace

import pytest
from history_samples import call, report, rtcp
from media_samples import call_stream

from sipprobe.history.baseline import METRICS, Spread, compare, limit, spread
from sipprobe.history.figures import CallFigures, RunRecord
from sipprobe.model.results import ExitCode, Quality, Severity, Side, Verdict
from sipprobe.verdict.policy import with_findings

PDD = next(m for m in METRICS if m.field == "pdd_ms")
MOS = next(m for m in METRICS if m.field == "mos_lq")


def earlier(**series: list[float | None]) -> list[RunRecord]:
    """Earlier good runs, newest first, whose call step 1 had the given figures."""
    count = len(next(iter(series.values())))
    runs = []
    for n in range(count):
        figures: dict[str, float | None] = {
            "pdd_ms": None,
            "answer_ms": None,
            "mos_lq": None,
            "rx_loss_pct": None,
            "rx_jitter_mean_ms": None,
        }
        figures.update({name: values[n] for name, values in series.items()})
        runs.append(
            RunRecord(
                run_id=n + 1,
                scenario="trunk",
                target="sip:127.0.0.1:5062",
                service="sip-trunk",
                transport="udp",
                started_at="2026-11-20T10:00:00.000Z",
                started_unix=1795168800.0 - 300 * n,
                duration_s=6.0,
                messaging="good",
                media="good",
                exit_code=0,
                baseline_status="compared",
                calls=(
                    CallFigures(
                        1,
                        200,
                        tx_lost_reported=0,
                        tx_jitter_reported_ms=None,
                        rtt_ms=None,
                        **figures,
                    ),
                ),
                finding_codes=(),
            )
        )
    return runs


def test_baseline_spread_median_and_mad() -> None:
    assert spread([400, 410, 390, 420, 380, 400]) == Spread(400.0, 10.0)
    assert spread([100, 900, 300, 1200, 500]) == Spread(500.0, 400.0)
    assert spread([7.0]) == Spread(7.0, 0.0)


def test_baseline_limit_floor_wins_over_a_small_spread() -> None:
    # 3 * 1.4826 * 10 ms = 44.478 ms is below the 500 ms floor of post-dial delay
    assert limit(PDD, spread([400, 410, 390, 420, 380, 400])) == 900.0


def test_baseline_limit_spread_wins_over_the_floor() -> None:
    # 500 + 3 * 1.4826 * 400 = 2279.12
    assert limit(PDD, spread([100, 900, 300, 1200, 500])) == pytest.approx(2279.12)


def test_baseline_limit_mos_lower_is_worse() -> None:
    assert limit(MOS, spread([4.2, 4.3, 4.1, 4.2, 4.2])) == pytest.approx(3.9)


def test_baseline_too_few_runs_gives_no_verdict() -> None:
    baseline, findings = compare(report(call(pdd_ms=5000.0)), earlier(pdd_ms=[400.0] * 4))
    assert findings == ()
    assert (baseline.status, baseline.runs, baseline.window, baseline.minimum) == (
        "insufficient-history",
        4,
        20,
        5,
    )
    assert baseline.reason == (
        "4 earlier good runs of this scenario and target; 5 are needed before a run is "
        "compared with a baseline"
    )
    assert baseline.figures == ()


def test_baseline_first_run_says_so() -> None:
    baseline, _ = compare(report(), [])
    assert baseline.reason.startswith("0 earlier good runs of this scenario and target;")


def test_baseline_post_dial_delay_regression_with_both_figures() -> None:
    history = earlier(pdd_ms=[400, 410, 390, 420, 380, 400])
    baseline, findings = compare(report(call(pdd_ms=1900.0)), history)
    (finding,) = findings
    assert (finding.severity, finding.side, finding.area, finding.code) == (
        Severity.WARNING,
        Side.UNKNOWN,
        "messaging",
        "regression",
    )
    assert finding.summary == (
        "regression against baseline: post-dial delay 1.90 s against a baseline of 0.40 s "
        "(median of 6 earlier good runs; worse than 0.90 s counts)"
    )
    assert (finding.step, finding.evidence) == (1, (2, 3, 4, 5))
    assert baseline.status == "compared"
    assert baseline.reason == "compared with the last 6 good runs of this scenario and target"
    (figure,) = baseline.figures
    assert (figure.step, figure.metric, figure.value, figure.median, figure.mad) == (
        1,
        "pdd_ms",
        1900.0,
        400.0,
        10.0,
    )
    assert (figure.limit, figure.runs, figure.regression) == (900.0, 6, True)


def test_baseline_within_the_spread_is_no_regression() -> None:
    history = earlier(pdd_ms=[100, 900, 300, 1200, 500])
    baseline, findings = compare(report(call(pdd_ms=2279.0)), history)
    assert findings == ()
    assert [f.regression for f in baseline.figures] == [False]
    _, worse = compare(report(call(pdd_ms=2280.0)), history)
    assert len(worse) == 1


def test_baseline_loss_rise_below_the_absolute_threshold_is_a_media_regression() -> None:
    history = earlier(rx_loss_pct=[0.0] * 5, rx_jitter_mean_ms=[1.0, 1.2, 1.1, 0.9, 1.0])
    run = report(call(media=rtcp(loss_pct=0.6, jitter_ms=1.1)))
    baseline, findings = compare(run, history)
    (finding,) = findings
    assert finding.area == "media"
    assert finding.summary == (
        "regression against baseline: packet loss from the far end 0.60% against a baseline "
        "of 0.00% (median of 5 earlier good runs; worse than 0.50% counts)"
    )
    assert {f.metric: f.regression for f in baseline.figures} == {
        "rx_loss_pct": True,
        "rx_jitter_mean_ms": False,
    }


def test_baseline_mos_drop() -> None:
    history = earlier(mos_lq=[4.2, 4.3, 4.1, 4.2, 4.2])
    run = report(call(streams=(call_stream("rx", mos_lq=3.8),)))
    _, findings = compare(run, history)
    (finding,) = findings
    assert finding.area == "media"
    assert "MOS-LQ 3.80 against a baseline of 4.20" in finding.summary
    _, none = compare(report(call(streams=(call_stream("rx", mos_lq=3.95),))), history)
    assert none == ()


def test_baseline_figure_with_too_few_values_is_skipped() -> None:
    history = earlier(pdd_ms=[400.0] * 5, mos_lq=[4.2, 4.2, None, None, None])
    run = report(call(pdd_ms=420.0, streams=(call_stream("rx", mos_lq=2.0),)))
    baseline, findings = compare(run, history)
    assert findings == ()
    assert [f.metric for f in baseline.figures] == ["pdd_ms"]


def test_baseline_options_only_run_has_nothing_to_compare() -> None:
    run = report()
    run = replace(run, steps=run.steps[:1])
    baseline, findings = compare(run, earlier(pdd_ms=[400.0] * 5))
    assert (baseline.status, baseline.figures, findings) == ("compared", (), ())
    assert baseline.reason == "the run has no call figures to compare with its baseline"


def test_baseline_regression_degrades_a_good_verdict() -> None:
    _, findings = compare(report(call(pdd_ms=1900.0)), earlier(pdd_ms=[400.0] * 5))
    verdict = with_findings(report().verdict, findings)
    assert (verdict.messaging, verdict.media) == (Quality.DEGRADED, Quality.GOOD)
    assert verdict.exit_code is ExitCode.WARNING
    assert verdict.summary.startswith("messaging degraded, media good: regression against")


def test_baseline_merge_keeps_unmeasured_media_unknown() -> None:
    _, findings = compare(report(call(media=rtcp(loss_pct=5.0))), earlier(rx_loss_pct=[0.0] * 5))
    unmeasured = Verdict(Quality.GOOD, Quality.UNKNOWN, (), "signalling was good")
    merged = with_findings(unmeasured, findings)
    assert (merged.messaging, merged.media) == (Quality.GOOD, Quality.UNKNOWN)
    assert merged.findings == findings
    assert with_findings(unmeasured, ()) is unmeasured
