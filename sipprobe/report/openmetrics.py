"""The run as OpenMetrics text, for Prometheus and node_exporter's textfile collector.

Only gauges, no sample timestamps and base units (seconds, ratios): that subset reads the
same in OpenMetrics and in the Prometheus text format that node_exporter's textfile collector
parses. Every sample carries ``scenario`` and ``target``, so several checks can share one
textfile directory; ``sipprobe_run_timestamp_seconds`` lets an alert catch a check that
stopped running. A figure that was not measured has no sample (rather than NaN). Media figures
are what the probe received (``report.media.received_media``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sipprobe.model.results import Quality, RunReport, Severity, Side
from sipprobe.report.media import received_media


@dataclass(slots=True)
class _Family:
    """One metric family while its samples are collected."""

    name: str
    help: str
    unit: str = ""
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, labels: dict[str, str], value: float | None) -> None:
        if value is not None:
            self.samples.append((labels, value))

    def lines(self, common: dict[str, str]) -> list[str]:
        if not self.samples:
            return []
        head = [f"# TYPE {self.name} gauge"]
        if self.unit:
            head.append(f"# UNIT {self.name} {self.unit}")
        head.append(f"# HELP {self.name} {self.help}")
        return head + [
            f"{self.name}{_labels(common | labels)} {_number(value)}"
            for labels, value in self.samples
        ]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _ratio(pct: float | None) -> float | None:
    return None if pct is None else pct / 100


def _started(report: RunReport) -> float | None:
    try:
        return dt.datetime.fromisoformat(report.started_at).timestamp()
    except ValueError:
        return None


def _run_families(report: RunReport) -> list[_Family]:
    info = _Family("sipprobe_run_info", "the run's scenario, service and probe; always 1")
    info.add(
        {
            "service": report.service,
            "transport": report.transport,
            "version": report.probe.get("version", ""),
            "host": report.probe.get("host", ""),
        },
        1,
    )
    started = _Family("sipprobe_run_timestamp_seconds", "when the run started", "seconds")
    started.add({}, _started(report))
    duration = _Family("sipprobe_run_duration_seconds", "how long the run took", "seconds")
    duration.add({}, report.duration_s)
    exit_code = _Family("sipprobe_exit_code", "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN")
    exit_code.add({}, int(report.verdict.exit_code))
    verdict = _Family(
        "sipprobe_verdict", "1 for the quality the verdict gave each area, 0 for the others"
    )
    for area, given in (("messaging", report.verdict.messaging), ("media", report.verdict.media)):
        for quality in Quality:
            verdict.add({"area": area, "quality": quality.value}, int(quality is given))
    findings = _Family("sipprobe_findings", "findings of the run by severity and demarc side")
    for severity in Severity:
        for side in Side:
            count = sum(
                1 for f in report.verdict.findings if f.severity is severity and f.side is side
            )
            findings.add({"severity": severity.value, "side": side.value}, count)
    return [info, started, duration, exit_code, verdict, findings]


def _step_families(report: RunReport) -> list[_Family]:
    ok = _Family("sipprobe_step_ok", "1 when the step did what it was meant to")
    status = _Family("sipprobe_step_status_code", "final SIP status the target sent")
    rtt = _Family("sipprobe_options_rtt_seconds", "OPTIONS request to response", "seconds")
    pdd = _Family("sipprobe_call_pdd_seconds", "post-dial delay: INVITE to first 18x", "seconds")
    answer = _Family("sipprobe_call_answer_seconds", "INVITE to 200 OK", "seconds")
    bye = _Family("sipprobe_call_bye_seconds", "BYE to its final response", "seconds")
    loss = _Family("sipprobe_call_rx_loss_ratio", "RTP from the far end lost", "ratio")
    jitter = _Family(
        "sipprobe_call_rx_jitter_seconds", "mean jitter of RTP from the far end", "seconds"
    )
    mos = _Family("sipprobe_call_rx_mos_lq", "E-model MOS-LQ of RTP from the far end (capture)")
    for step in report.steps:
        labels = {"step": str(step.index + 1), "kind": step.kind}
        ok.add(labels, int(step.ok))
        status.add(labels, step.status_code)
        rtt.add(labels, _seconds(step.timings_ms.get("rtt")) if step.kind == "options" else None)
        call = step.call
        if call is None:
            continue
        pdd.add(labels, _seconds(call.pdd_ms))
        answer.add(labels, _seconds(call.answer_ms))
        bye.add(labels, _seconds(call.bye_ms))
        media = received_media(call)
        if media is not None:
            loss.add(labels, _ratio(media.loss_pct))
            jitter.add(labels, _seconds(media.jitter_mean_ms))
            mos.add(labels, media.mos_lq)
    return [ok, status, rtt, pdd, answer, bye, loss, jitter, mos]


def render_openmetrics(report: RunReport) -> str:
    common = {"scenario": report.scenario, "target": report.target}
    lines: list[str] = []
    for family in _run_families(report) + _step_families(report):
        lines += family.lines(common)
    return "\n".join([*lines, "# EOF"]) + "\n"
