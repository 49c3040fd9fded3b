"""The run as a monitoring-plugins status line with performance data.

    SIPPROBE OK - signalling was good at the demarc | 'options_rtt'=0.0012s;;;0 'pdd'=0.21s;3;6;0

The first line is what Nagios, Icinga and friends show and graph; the findings follow on the
next lines (the plugin's long output). Perfdata follows the monitoring-plugins guidelines:
``'label'=value[UOM];[warn];[crit];[min];[max]``, with ``U`` when a figure could not be
measured (a call that was never answered has no answer time), so each check keeps the same
labels from run to run. warn and crit are the verdict's own thresholds (``4:`` for MOS: below
4 alerts); the exit code is the verdict's, so the status word and the exit code always agree.
Loss, jitter and MOS are what the probe received (``report.media.received_media``).

Labels: the first OPTIONS and the first call are unprefixed (``options_rtt``, ``pdd``,
``answer``, ``loss``, ``jitter``, ``mos``); later ones get their number (``options2_rtt``,
``call2_pdd``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipprobe.model.results import CallResult, RunReport, StepResult
from sipprobe.model.thresholds import Thresholds
from sipprobe.report.media import received_media
from sipprobe.report.text import printable
from sipprobe.verdict.headline import headline


@dataclass(frozen=True, slots=True)
class PerfData:
    label: str
    value: float | None  # None: not measured, written as U
    unit: str  # "s", "ms", "%" or ""
    warn: str = ""  # a plugin range: "3" alerts above 3, "4:" below 4
    crit: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def __str__(self) -> str:
        value = "U" if self.value is None else f"{_number(self.value)}{self.unit}"
        bounds = ("" if b is None else _number(b) for b in (self.minimum, self.maximum))
        fields = ";".join((self.warn, self.crit, *bounds))
        return f"'{self.label}'={value};{fields}".rstrip(";")


def _number(value: float) -> str:
    """Plain decimal notation (the guidelines allow no exponent), at most 6 decimals."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000


def _above(limit: float) -> str:
    return _number(limit)


def _below(limit: float) -> str:
    return f"{_number(limit)}:"


def _options(step: StepResult, prefix: str) -> list[PerfData]:
    return [PerfData(f"{prefix}rtt", _seconds(step.timings_ms.get("rtt")), "s", minimum=0)]


def _call(call: CallResult, prefix: str, limits: Thresholds) -> list[PerfData]:
    media = received_media(call)
    pdd_warn, pdd_crit = _above(limits.pdd_degraded_ms / 1000), _above(limits.pdd_bad_ms / 1000)
    return [
        PerfData(f"{prefix}pdd", _seconds(call.pdd_ms), "s", pdd_warn, pdd_crit, 0),
        PerfData(f"{prefix}answer", _seconds(call.answer_ms), "s", minimum=0),
        PerfData(
            f"{prefix}loss",
            media.loss_pct if media else None,
            "%",
            _above(limits.loss_degraded_pct),
            _above(limits.loss_bad_pct),
            0,
            100,
        ),
        PerfData(
            f"{prefix}jitter",
            media.jitter_mean_ms if media else None,
            "ms",
            _above(limits.jitter_degraded_ms),
            _above(limits.jitter_bad_ms),
            0,
        ),
        PerfData(
            f"{prefix}mos",
            media.mos_lq if media else None,
            "",
            _below(limits.mos_degraded),
            _below(limits.mos_bad),
            1,
            5,
        ),
    ]


def perfdata(report: RunReport) -> list[PerfData]:
    """Figures of the run's OPTIONS and call steps, in step order."""
    items: list[PerfData] = []
    options = calls = 0
    for step in report.steps:
        if step.kind == "options":
            options += 1
            items += _options(step, "options_" if options == 1 else f"options{options}_")
        elif step.call is not None:
            calls += 1
            items += _call(step.call, "" if calls == 1 else f"call{calls}_", report.thresholds)
    return items


def _one_line(text: str) -> str:
    """Free text for the status line: no newline, and no '|', which starts the perfdata."""
    return printable(" ".join(text.split())).replace("|", "/")


def render_nagios(report: RunReport) -> str:
    verdict = report.verdict
    status = f"SIPPROBE {verdict.exit_code.name} - {_one_line(verdict.summary)}"
    figures = " ".join(str(item) for item in perfdata(report))
    lines = [f"{status} | {figures}" if figures else status]
    lines += [
        f"[{f.severity.value}] {f.side.value}: {_one_line(f.summary)}" for f in verdict.findings
    ]
    lines.append(_one_line(headline(verdict, report.location)))
    lines += [f"local error: {_one_line(error)}" for error in report.local_errors]
    return "\n".join(lines) + "\n"
