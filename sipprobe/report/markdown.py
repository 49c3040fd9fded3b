"""The run report as short Markdown, to paste into a ticket: verdict first, then the facts."""

from __future__ import annotations

from sipprobe.models import CallResult, Finding, RunReport
from sipprobe.report.text import format_ms, step_result, step_timings


def _cell(text: str) -> str:
    """Text that cannot break a table row or a code span."""
    return " ".join(text.split()).replace("|", "\\|").replace("`", "'")


def _finding(finding: Finding) -> str:
    evidence = ", ".join(f"#{index}" for index in finding.evidence)
    refs = f" (SIP {evidence})" if evidence else ""
    return (
        f"- **{finding.severity.value}** · {finding.side.value} · {finding.area}: "
        f"{_cell(finding.summary)}{refs}"
    )


def _call_row(call: CallResult) -> str:
    rtcp = call.rtcp
    loss = f"{rtcp.rx_loss_pct:.2f}%" if rtcp and rtcp.rx_loss_pct is not None else "-"
    jitter = (
        f"{rtcp.rx_jitter_mean_ms:.1f} ms" if rtcp and rtcp.rx_jitter_mean_ms is not None else "-"
    )
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
        f"- scenario `{_cell(report.scenario)}` ({report.service}) to "
        f"`{_cell(report.target)}` over {report.transport.upper()}",
        f"- started {report.started_at}, took {report.duration_s:.2f} s",
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
    if report.calls:
        lines += [
            "",
            "#### Calls",
            "",
            "| call | final | PDD | answer | held | codec | rx loss | rx jitter |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [_call_row(call) for call in report.calls]
    lines += [f"\nlocal error: {_cell(error)}" for error in report.local_errors]
    return "\n".join(lines) + "\n"
