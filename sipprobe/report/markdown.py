"""The run report as short Markdown, to paste into a ticket: verdict first, then the facts."""

from __future__ import annotations

from sipprobe.model.results import CallResult, Finding, RunReport
from sipprobe.report.inbound_text import answer_markdown
from sipprobe.report.media import received_media
from sipprobe.report.text import format_ms, printable, step_result, step_timings
from sipprobe.verdict.headline import headline

_MARKUP = str.maketrans({"|": "\\|", "`": "'", "<": "&lt;", ">": "&gt;"})


def _cell(text: str) -> str:
    """Text that cannot break a table row or a code span, nor smuggle HTML into a ticket."""
    return printable(" ".join(text.split())).translate(_MARKUP)


def _finding(finding: Finding) -> str:
    evidence = ", ".join(f"#{index}" for index in finding.evidence)
    refs = f" (SIP {evidence})" if evidence else ""
    return (
        f"- **{finding.severity.value}** · {finding.side.value} "
        f"({finding.responsible.value}) · {finding.area}: "
        f"{_cell(finding.summary)}{refs}"
    )


def _figure(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def _call_row(call: CallResult) -> str:
    media = received_media(call)
    loss = _figure(media.loss_pct if media else None, ".2f", " %")
    jitter = _figure(media.jitter_mean_ms if media else None, ".1f", " ms")
    mos = _figure(media.mos_lq if media else None, ".2f")
    hold = f"{call.hold_s:.1f} s" if call.hold_s is not None else "-"
    cells = (
        f"`{_cell(call.target)}`",
        _cell(call.disconnect_reason) or "-",
        format_ms(call.pdd_ms),
        format_ms(call.answer_ms),
        hold,
        call.codec or "-",
        loss,
        jitter,
        mos,
        media.source if media else "-",
    )
    return "| " + " | ".join(cells) + " |"


def render_markdown(report: RunReport) -> str:
    verdict = report.verdict
    code = verdict.exit_code
    probe = report.probe
    lines = [
        f"### sipprobe: messaging **{verdict.messaging.value.upper()}**, "
        f"media **{verdict.media.value.upper()}** (exit {int(code)} {code.name})",
        "",
        _cell(verdict.summary),
        "",
        _cell(headline(verdict, report.location)),
        "",
        f"- scenario `{_cell(report.scenario)}` ({report.service}) to "
        f"`{_cell(report.target)}` over {report.transport.upper()}",
        f"- started {report.started_at} from {report.location.value}, "
        f"took {report.duration_s:.2f} s",
        f"- sipprobe {probe.get('version', '?')} on {_cell(probe.get('host', '?'))}",
        "",
        "#### Findings",
        "",
    ]
    lines += [_finding(f) for f in verdict.findings] or ["None."]
    lines += ["", "#### Steps", "", "| # | step | result | timings |", "|---|---|---|---|"]
    lines += [
        f"| {step.index + 1} | {_cell(step.name)} | {_cell(step_result(step))} | "
        f"{_cell(step_timings(step)) or '-'} |"
        for step in report.steps
    ]
    lines += answer_markdown(report.steps, _cell)  # who called, for an answer step
    if report.calls:
        lines += [
            "",
            "#### Calls",
            "",
            "| call | final | PDD | answer | held | codec | rx loss | rx jitter | MOS-LQ | from |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        lines += [_call_row(call) for call in report.calls]
    if report.local_errors:
        lines += ["", *(f"local error: {_cell(error)}" for error in report.local_errors)]
    return "\n".join(lines) + "\n"
