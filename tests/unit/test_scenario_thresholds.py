"""Per-scenario thresholds: parsed with file:line errors, and used by the verdict."""

from __future__ import annotations

import pytest
from media_samples import call_detail
from report_samples import call_result

from sipprobe.errors import ScenarioError
from sipprobe.model.results import Quality, Severity, StepResult
from sipprobe.model.thresholds import Metric, Thresholds
from sipprobe.scenario.loader import parse_scenario
from sipprobe.verdict.policy import decide

HEAD = "target: sip:h\nsteps: [options]\n"


def test_scenario_thresholds_override_some_and_keep_the_rest() -> None:
    text = HEAD + "thresholds:\n  pdd_degraded_ms: 1500\n  loss_bad_pct: '5'\n  mos_bad: 3\n"
    scenario = parse_scenario(text, "t.yaml", {})
    assert scenario.thresholds == Thresholds(pdd_degraded_ms=1500, loss_bad_pct=5, mos_bad=3)
    assert parse_scenario(HEAD, "t.yaml", {}).thresholds == Thresholds()


def test_scenario_thresholds_take_variables() -> None:
    text = HEAD + "thresholds: {pdd_bad_ms: '${PDD_BAD:-9000}'}\n"
    assert parse_scenario(text, "t.yaml", {}).thresholds.pdd_bad_ms == 9000
    assert parse_scenario(text, "t.yaml", {"PDD_BAD": "7000"}).thresholds.pdd_bad_ms == 7000


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("thresholds:\n  pdd_ms: 3\n", "t.yaml:4: thresholds.pdd_ms: unknown key (expected one of"),
        (
            "thresholds:\n  loss_bad_pct: lots\n",
            "t.yaml:4: thresholds.loss_bad_pct: expected a number, got 'lots'",
        ),
        (
            "thresholds:\n  loss_bad_pct: 120\n",
            "t.yaml:4: thresholds.loss_bad_pct: 120 is out of range (0 to 100)",
        ),
        ("thresholds:\n  mos_bad: 0.5\n", "t.yaml:4: thresholds.mos_bad: 0.5 is out of range"),
        (
            "thresholds:\n  jitter_degraded_ms: 80\n",
            "t.yaml:4: thresholds: jitter_degraded_ms (80) is above jitter_bad_ms (50)",
        ),
        (
            "thresholds:\n  mos_degraded: 3.5\n",
            "t.yaml:4: thresholds: mos_degraded (3.5) is below mos_bad (3.6)",
        ),
        ("thresholds: [1, 2]\n", "t.yaml:3: thresholds: expected a mapping"),
    ],
)
def test_scenario_thresholds_errors_name_file_line_key(body: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(HEAD + body, "t.yaml", {})
    assert str(caught.value).startswith(expected), str(caught.value)


def test_thresholds_reject_degraded_beyond_bad() -> None:
    with pytest.raises(ValueError, match="pdd_degraded_ms"):
        Thresholds(pdd_degraded_ms=7000)


def test_decide_uses_the_scenario_thresholds() -> None:
    call = call_result(pdd_ms=900.0)
    step = StepResult(
        index=0,
        kind="call",
        name="call",
        ok=True,
        status_code=200,
        reason="OK",
        origin="network",
        timings_ms={},
        detail=call_detail(duration_s=5.0),
        expected_status=200,
        reachable=True,
        call=call,
    )
    assert decide((step,)).messaging is Quality.GOOD
    strict = decide((step,), Thresholds(pdd_degraded_ms=500, pdd_bad_ms=800))
    (finding,) = strict.findings
    assert (finding.code, finding.severity) == ("post-dial-delay", Severity.CRITICAL)
    assert "good below 0.5 s" in finding.summary


@pytest.mark.parametrize(
    ("metric", "value", "quality"),
    [
        ("loss", 0.99, Quality.GOOD),
        ("loss", 1.0, Quality.DEGRADED),
        ("loss", 3.0, Quality.BAD),
        ("jitter", 30.0, Quality.DEGRADED),
        ("delay", 400.0, Quality.BAD),
        ("pdd", 2999.0, Quality.GOOD),
        ("pdd", 6000.0, Quality.BAD),
        ("mos", 4.0, Quality.GOOD),
        ("mos", 3.99, Quality.DEGRADED),
        ("mos", 3.59, Quality.BAD),
        ("loss", None, Quality.UNKNOWN),
    ],
)
def test_thresholds_grade_at_and_beyond_each_limit(
    metric: Metric, value: float | None, quality: Quality
) -> None:
    assert Thresholds().grade(metric, value) is quality


def test_thresholds_grade_follows_the_scenario_limits() -> None:
    strict = Thresholds(pdd_degraded_ms=500.0, pdd_bad_ms=800.0)
    assert strict.grade("pdd", 900.0) is Quality.BAD
    assert strict.limits("pdd") == (500.0, 800.0)
