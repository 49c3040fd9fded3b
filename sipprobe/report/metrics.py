"""A run's figures as Prometheus gauges: one set of names for every way they leave the probe.

``sipprobe --format openmetrics`` (a textfile for node_exporter, report/openmetrics.py) and
``sipprobe exporter``'s ``/probe`` answer (exporter/metrics.py) both build their run figures
here, so one alert rule or dashboard reads either. Base units (seconds, ratios); a figure that
was not measured has no sample (never NaN). Media figures carry ``direction``: ``rx`` is what
the probe received and measured (the capture, else pjmedia's own receiver), ``tx`` what the far
end reported over RTCP about the probe's stream. docs/measurement.md defines each figure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sipprobe.model.results import CallResult, Quality, RunReport, Severity, Side


@dataclass(slots=True)
class Gauge:
    """One gauge family and its samples (label values in the order of ``labels``)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    unit: str = ""
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    def add(self, values: Sequence[str], value: float | None) -> None:
        """Add a sample; an unmeasured (None) or non-finite value adds nothing."""
        if value is not None and math.isfinite(value):
            self.samples.append((tuple(values), value))


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _ratio(pct: float | None) -> float | None:
    return None if pct is None else pct / 100


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
    if call.rx_stream is None and call.rtcp is not None:
        yield "rx", call.rtcp.rx_loss_pct, call.rtcp.rx_jitter_mean_ms, None


def _verdict_gauges(report: RunReport) -> list[Gauge]:
    exit_code = Gauge("sipprobe_exit_code", "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN")
    exit_code.add((), int(report.verdict.exit_code))
    verdict = Gauge(
        "sipprobe_verdict", "1 for the quality the verdict gave each area", ("area", "quality")
    )
    for area, given in (("messaging", report.verdict.messaging), ("media", report.verdict.media)):
        for quality in Quality:
            verdict.add((area, quality.value), int(quality is given))
    by_side = Gauge(
        "sipprobe_side_findings", "findings by demarc side and severity", ("side", "severity")
    )
    for side in Side:
        for severity in Severity:
            count = sum(
                1 for f in report.verdict.findings if f.side is side and f.severity is severity
            )
            by_side.add((side.value, severity.value), count)
    findings = Gauge(
        "sipprobe_findings",
        "findings by code, severity, demarc side and who must fix them",
        ("code", "severity", "side", "responsible"),
    )
    counted = Counter(
        (f.code, f.severity.value, f.side.value, f.responsible.value)
        for f in report.verdict.findings
    )
    for key, count in sorted(counted.items()):
        findings.add(key, count)
    return [exit_code, verdict, by_side, findings]


def _step_gauges(report: RunReport) -> list[Gauge]:
    ok = Gauge("sipprobe_step_ok", "1 when the step did what it was meant to", ("step", "kind"))
    status = Gauge(
        "sipprobe_step_status_code", "final SIP status the target sent", ("step", "kind")
    )
    rtt = Gauge("sipprobe_options_rtt_seconds", "OPTIONS request to response", ("step",), "seconds")
    pdd = Gauge(
        "sipprobe_call_pdd_seconds", "post-dial delay: INVITE to first 18x", ("step",), "seconds"
    )
    answer = Gauge("sipprobe_call_answer_seconds", "INVITE to 200 OK", ("step",), "seconds")
    bye = Gauge("sipprobe_call_bye_seconds", "BYE to its final response", ("step",), "seconds")
    per_direction = ("step", "direction")
    loss = Gauge("sipprobe_call_loss_ratio", "RTP lost", per_direction, "ratio")
    jitter = Gauge("sipprobe_call_jitter_seconds", "mean RTP jitter", per_direction, "seconds")
    mos = Gauge("sipprobe_call_mos_lq", "E-model MOS-LQ", per_direction)
    for step in report.steps:
        number = str(step.index + 1)
        ok.add((number, step.kind), int(step.ok))
        status.add((number, step.kind), step.status_code)
        if step.kind == "options":
            rtt.add((number,), _seconds(step.timings_ms.get("rtt")))
        call = step.call
        if call is None:
            continue
        pdd.add((number,), _seconds(call.pdd_ms))
        answer.add((number,), _seconds(call.answer_ms))
        bye.add((number,), _seconds(call.bye_ms))
        for direction, loss_pct, jitter_ms, mos_lq in _media(call):
            loss.add((number, direction), _ratio(loss_pct))
            jitter.add((number, direction), _seconds(jitter_ms))
            mos.add((number, direction), mos_lq)
    return [ok, status, rtt, pdd, answer, bye, loss, jitter, mos]


def run_gauges(report: RunReport) -> list[Gauge]:
    """The run's verdict, steps and call figures, the same for the textfile and the exporter."""
    return _verdict_gauges(report) + _step_gauges(report)
