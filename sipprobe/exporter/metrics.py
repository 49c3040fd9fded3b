"""A probe's answer as OpenMetrics, built with prometheus_client (a fresh registry per probe).

``probe_success`` and ``probe_duration_seconds`` are the blackbox_exporter's names, so
dashboards and rules written for it read these too. ``probe_success`` is 1 when the run was
decided and nothing was bad (exit code 0 OK or 1 WARNING): a degraded target answers, and its
degradation is in ``sipprobe_verdict``. Media figures carry ``direction``: ``rx`` is what the
probe received and measured, ``tx`` what the far end reported over RTCP about the probe's
stream. A figure not measured has no sample. The run's evidence is linked from
``sipprobe_probe_report_info{report_url=...}``, so an alert can point at report.html.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from sipprobe.exporter.probe import ProbeOutcome
from sipprobe.model.results import CallResult, ExitCode, Quality, RunReport, Severity, Side

_SUCCESS = (ExitCode.OK, ExitCode.WARNING)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _ratio(pct: float | None) -> float | None:
    return None if pct is None else pct / 100


def _gauge(name: str, doc: str, labels: Iterable[str] = (), unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels), unit=unit)


def _add(family: GaugeMetricFamily, labels: list[str], value: float | None) -> None:
    if value is not None:
        family.add_metric(labels, value)


def _media(call: CallResult) -> Iterator[tuple[str, float | None, float | None, float | None]]:
    """(direction, loss %, mean jitter ms, MOS-LQ) of each direction measured."""
    for stream in call.streams:
        metrics = stream.measured.metrics
        if stream.direction == "rx":
            jitter = metrics.jitter_ms
            yield "rx", metrics.loss_pct, jitter.mean if jitter else None, metrics.mos_lq
        else:
            far_end = stream.measured.far_end
            voip = far_end.voip_metrics if far_end else None
            yield (
                "tx",
                stream.far_end_loss_pct(),
                far_end.jitter_ms if far_end else None,
                voip.mos_lq if voip else None,
            )
    if not call.streams and call.rtcp is not None:
        yield "rx", call.rtcp.rx_loss_pct, call.rtcp.rx_jitter_mean_ms, None


def _report_metrics(report: RunReport) -> list[Metric]:
    exit_code = _gauge("sipprobe_exit_code", "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN")
    exit_code.add_metric([], int(report.verdict.exit_code))
    verdict = _gauge(
        "sipprobe_verdict", "1 for the quality the verdict gave each area", ("area", "quality")
    )
    for area, given in (("messaging", report.verdict.messaging), ("media", report.verdict.media)):
        for quality in Quality:
            verdict.add_metric([area, quality.value], int(quality is given))
    by_side = _gauge(
        "sipprobe_side_findings", "findings by demarc side and severity", ("side", "severity")
    )
    for side in Side:
        for severity in Severity:
            count = sum(
                1 for f in report.verdict.findings if f.side is side and f.severity is severity
            )
            by_side.add_metric([side.value, severity.value], count)
    findings = _gauge(
        "sipprobe_findings",
        "findings by code, severity, demarc side and who must fix them",
        ("code", "severity", "side", "responsible"),
    )
    counted = Counter(
        (f.code, f.severity.value, f.side.value, f.responsible.value)
        for f in report.verdict.findings
    )
    for key, count in sorted(counted.items()):
        findings.add_metric(list(key), count)
    rtt = _gauge("sipprobe_options_rtt_seconds", "OPTIONS request to response", ("step",))
    pdd = _gauge("sipprobe_call_pdd_seconds", "post-dial delay: INVITE to first 18x", ("step",))
    answer = _gauge("sipprobe_call_answer_seconds", "INVITE to 200 OK", ("step",))
    status = _gauge("sipprobe_call_status_code", "the call's final SIP status", ("step",))
    loss = _gauge("sipprobe_call_loss_ratio", "RTP lost", ("step", "direction"))
    jitter = _gauge("sipprobe_call_jitter_seconds", "mean RTP jitter", ("step", "direction"))
    mos = _gauge("sipprobe_call_mos_lq", "E-model MOS-LQ", ("step", "direction"))
    for step in report.steps:
        number = str(step.index + 1)
        if step.kind == "options":
            _add(rtt, [number], _seconds(step.timings_ms.get("rtt")))
        call = step.call
        if call is None:
            continue
        _add(pdd, [number], _seconds(call.pdd_ms))
        _add(answer, [number], _seconds(call.answer_ms))
        _add(status, [number], call.status_code)
        for direction, loss_pct, jitter_ms, mos_lq in _media(call):
            _add(loss, [number, direction], _ratio(_finite(loss_pct)))
            _add(jitter, [number, direction], _seconds(_finite(jitter_ms)))
            _add(mos, [number, direction], _finite(mos_lq))
    return [exit_code, verdict, by_side, findings, rtt, pdd, answer, status, loss, jitter, mos]


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
