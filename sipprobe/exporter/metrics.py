"""A probe's answer as OpenMetrics, built with prometheus_client (a fresh registry per probe).

``probe_success`` and ``probe_duration_seconds`` are the blackbox_exporter's names, so
dashboards and rules written for it read these too. ``probe_success`` is 1 when the run was
decided and nothing was bad (exit code 0 OK or 1 WARNING): a degraded target answers, and its
degradation is in ``sipprobe_verdict``. The run's figures are report/metrics.py's, the same
names ``--format openmetrics`` writes for a textfile. The run's evidence is linked from
``sipprobe_probe_report_info{report_url=...}``, so an alert can point at report.html.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from sipprobe.exporter.probe import ProbeOutcome
from sipprobe.model.results import ExitCode, RunReport
from sipprobe.report.metrics import run_gauges

_SUCCESS = (ExitCode.OK, ExitCode.WARNING)


def _report_metrics(report: RunReport) -> Iterable[Metric]:
    for gauge in run_gauges(report):
        family = GaugeMetricFamily(
            gauge.name, gauge.help, labels=list(gauge.labels), unit=gauge.unit
        )
        for values, value in gauge.samples:
            family.add_metric(list(values), value)
        yield family


class _ProbeCollector(Collector):
    def __init__(self, outcome: ProbeOutcome, report_url: str | None) -> None:
        self._outcome = outcome
        self._report_url = report_url

    def collect(self) -> Iterable[Metric]:
        outcome, report = self._outcome, self._outcome.report
        success = report is not None and report.verdict.exit_code in _SUCCESS
        yield GaugeMetricFamily(
            "probe_success", "1 when the run was decided and nothing was bad", value=int(success)
        )
        yield GaugeMetricFamily(
            "probe_duration_seconds",
            "how long the probe took, its child process included",
            value=outcome.duration_s,
        )
        if self._report_url is not None:
            yield InfoMetricFamily(
                "sipprobe_probe_report",
                "where the run's evidence bundle is served",
                value={"report_url": self._report_url, "module": outcome.module},
            )
        if outcome.error is not None:
            yield InfoMetricFamily(
                "sipprobe_probe_error",
                "why the probe gave no report",
                value={"reason": outcome.error},
            )
        if report is not None:
            yield from _report_metrics(report)


def probe_registry(outcome: ProbeOutcome, report_url: str | None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProbeCollector(outcome, report_url))
    return registry


def render_probe(outcome: ProbeOutcome, report_url: str | None) -> bytes:
    text: bytes = generate_latest(probe_registry(outcome, report_url))  # type: ignore[no-untyped-call]
    return text
