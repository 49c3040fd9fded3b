"""OpenMetrics text as Prometheus' own parser reads it."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.parser import text_string_to_metric_families as prometheus_families
from report_samples import captured_report, clean_report, troubled_report

from sipprobe.exporter.metrics import render_probe
from sipprobe.exporter.probe import ProbeOutcome
from sipprobe.model.results import RunReport
from sipprobe.report.openmetrics import render_openmetrics


def samples(report: RunReport) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(render_openmetrics(report)):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            assert sample.labels["scenario"] == "trunk-check"
            assert sample.labels["target"] == "sip:pbx:5060"
            labels = tuple(
                (k, v) for k, v in sorted(sample.labels.items()) if k not in ("scenario", "target")
            )
            found[(sample.name, labels)] = sample.value
    return found


def test_openmetrics_clean_run_parses_with_verdict_and_figures() -> None:
    values = samples(clean_report())
    assert values[("sipprobe_exit_code", ())] == 0
    assert values[("sipprobe_run_timestamp_seconds", ())] == 1741064767.089
    assert values[("sipprobe_verdict", (("area", "messaging"), ("quality", "good")))] == 1
    assert values[("sipprobe_verdict", (("area", "media"), ("quality", "bad")))] == 0
    call = (("step", "3"),)
    rx = (("direction", "rx"), ("step", "3"))
    assert values[("sipprobe_call_pdd_seconds", call)] == 0.08
    assert values[("sipprobe_call_loss_ratio", rx)] == 0
    assert values[("sipprobe_call_jitter_seconds", rx)] == 0.0004
    assert values[("sipprobe_options_rtt_seconds", (("step", "1"),))] == 0.012
    assert values[("sipprobe_step_ok", (("kind", "register"), ("step", "4")))] == 1
    assert sum(v for (name, _), v in values.items() if name == "sipprobe_findings") == 0
    assert ("sipprobe_call_mos_lq", rx) not in values  # no capture, no MOS


def test_openmetrics_media_from_the_capture() -> None:
    values = samples(captured_report())
    rx = (("direction", "rx"), ("step", "3"))
    assert values[("sipprobe_call_loss_ratio", rx)] == 0.016
    assert values[("sipprobe_call_jitter_seconds", rx)] == 0.0025
    assert values[("sipprobe_call_mos_lq", rx)] == 4.1
    assert values[("sipprobe_verdict", (("area", "media"), ("quality", "degraded")))] == 1


def test_openmetrics_troubled_run_counts_findings_and_omits_unmeasured() -> None:
    report = troubled_report()
    values = samples(report)
    assert values[("sipprobe_exit_code", ())] == 2
    rejected = (("severity", "critical"), ("side", "customer-equipment"))
    assert values[("sipprobe_side_findings", rejected)] == 1
    call = (("step", "3"),)
    rx = (("direction", "rx"), ("step", "3"))
    assert values[("sipprobe_step_status_code", (("kind", "call"), ("step", "3")))] == 486
    assert ("sipprobe_call_answer_seconds", call) not in values
    assert ("sipprobe_call_loss_ratio", rx) not in values


def test_openmetrics_is_also_prometheus_text_for_the_textfile_collector() -> None:
    text = render_openmetrics(troubled_report())
    assert text.endswith("# EOF\n")
    names = {family.name for family in prometheus_families(text)}
    assert "sipprobe_exit_code" in names
    assert all(" " not in line.split("} ")[-1] for line in text.splitlines() if "{" in line)


def test_openmetrics_label_values_are_escaped() -> None:
    awkward = 'it\'s "quoted"\\ and\nsplit'
    report = replace(clean_report(), scenario=awkward)
    (sample,) = next(
        f
        for f in text_string_to_metric_families(render_openmetrics(report))
        if f.name == "sipprobe_exit_code"
    ).samples
    assert sample.labels["scenario"] == awkward


def test_openmetrics_has_the_exporters_series_names_and_labels() -> None:
    """One alert rule reads a textfile and an exporter scrape alike."""
    report = captured_report()
    exporter_text = render_probe(ProbeOutcome("sip:pbx:5060", "call", 6.5, report, None), None)
    exported = {
        (sample.name, tuple(sorted(sample.labels)))
        for family in text_string_to_metric_families(exporter_text.decode())
        for sample in family.samples
        if sample.name.startswith("sipprobe_")
    }
    written = {
        (sample.name, tuple(sorted(set(sample.labels) - {"scenario", "target"})))
        for family in text_string_to_metric_families(render_openmetrics(report))
        for sample in family.samples
    }
    assert ("sipprobe_call_loss_ratio", ("direction", "step")) in exported
    assert exported <= written
