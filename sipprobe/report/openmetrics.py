"""The run as OpenMetrics text, for Prometheus and node_exporter's textfile collector.

Only gauges, no sample timestamps and base units (seconds, ratios): that subset reads the
same in OpenMetrics and in the Prometheus text format that node_exporter's textfile collector
parses. The run's figures have the exporter's names (report/metrics.py), so one set of alert
rules reads both. Every sample carries ``scenario`` and ``target``, so several checks can share
one textfile directory; ``sipprobe_run_timestamp_seconds`` lets an alert catch a check that
stopped running.
"""

from __future__ import annotations

import datetime as dt

from sipprobe.model.results import RunReport
from sipprobe.report.metrics import Gauge, run_gauges


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _lines(gauge: Gauge, common: dict[str, str]) -> list[str]:
    if not gauge.samples:
        return []
    head = [f"# TYPE {gauge.name} gauge"]
    if gauge.unit:
        head.append(f"# UNIT {gauge.name} {gauge.unit}")
    head.append(f"# HELP {gauge.name} {gauge.help}")
    return head + [
        f"{gauge.name}{_labels(common | dict(zip(gauge.labels, values, strict=True)))} "
        f"{_number(value)}"
        for values, value in gauge.samples
    ]


def _started(report: RunReport) -> float | None:
    try:
        return dt.datetime.fromisoformat(report.started_at).timestamp()
    except ValueError:
        return None


def _run_gauges(report: RunReport) -> list[Gauge]:
    """What only a textfile needs: the exporter's scrape says these itself."""
    info = Gauge(
        "sipprobe_run_info",
        "the run's scenario, service and probe; always 1",
        ("service", "transport", "version", "host"),
    )
    info.add(
        (
            report.service,
            report.transport,
            report.probe.get("version", ""),
            report.probe.get("host", ""),
        ),
        1,
    )
    started = Gauge("sipprobe_run_timestamp_seconds", "when the run started", unit="seconds")
    started.add((), _started(report))
    duration = Gauge("sipprobe_run_duration_seconds", "how long the run took", unit="seconds")
    duration.add((), report.duration_s)
    return [info, started, duration]


def render_openmetrics(report: RunReport) -> str:
    common = {"scenario": report.scenario, "target": report.target}
    lines: list[str] = []
    for gauge in _run_gauges(report) + run_gauges(report):
        lines += _lines(gauge, common)
    return "\n".join([*lines, "# EOF"]) + "\n"
