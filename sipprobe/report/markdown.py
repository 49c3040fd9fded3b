"""The run report as short Markdown, to paste into a ticket: verdict first, then the facts."""

from __future__ import annotations

from sipprobe.model.legs import CalleeLeg
from sipprobe.model.results import CallResult, Finding, RunReport
from sipprobe.report.inbound_text import answer_markdown
from sipprobe.report.legs_text import (
    LegDirection,
    callee_signalling,
    caller_signalling,
    four_directions,
    heard,
    legs_listened,
    media_path_text,
    stream_figures,
)
from sipprobe.report.media import received_media
from sipprobe.report.text import (
    call_feature_lines,
    format_ms,
    listening_line,
    printable,
    step_result,
    step_timings,
)
from sipprobe.verdict.headline import headline
from sipprobe.verdict.legs import media_path

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


def _direction(direction: LegDirection) -> str:
    stream = direction.stream
    if stream is None:
        return f"**{_cell(direction.label)}**: no stream captured"
    info = stream.measured.stream
    figures = ", ".join(stream_figures(stream))
    return f"**{_cell(direction.label)}**: {_cell(f'{info.src} to {info.dst}: {figures}')}"


def _two_legs(call: CallResult, callee: CalleeLeg) -> list[str]:
    """The caller's and the callee's leg side by side, media in the order it flows."""
    path = media_path(call, callee)
    to_platform, to_b, from_b, to_a = four_directions(call, callee, path)
    called_as = (
        f"From {callee.from_header or '-'}; To {callee.to_header or '-'}; "
        f"P-Asserted-Identity {callee.asserted_identity or '-'}"
    )
    rows: list[tuple[str, str, str]] = [
        ("signalling", _cell(caller_signalling(call)), _cell(callee_signalling(callee))),
        ("called", f"`{_cell(call.target)}`", _cell(called_as)),
        ("codec", call.codec or "-", _cell(callee.codec or "-")),
        ("caller to callee", _direction(to_platform), _direction(to_b)),
        ("callee to caller", _direction(to_a), _direction(from_b)),
    ]
    if legs_listened(call, callee):
        rows.append(
            (
                "heard (other leg's speech)",
                _cell(heard(call.listening, call.rx_stream)),
                _cell(heard(callee.listening, callee.rx_stream)),
            )
        )
    lines = [
        "",
        f"| `{_cell(call.target)}` | caller leg | callee leg {_cell(callee.account)} |",
        "|---|---|---|",
        *(f"| {label} | {caller} | {answered} |" for label, caller, answered in rows),
        "",
        f"Media {_cell(media_path_text(path))}.",
    ]
    if callee.error:
        lines.append(f"callee {_cell(callee.account)}: {_cell(callee.error)}")
    return lines


def _feature_lines(calls: tuple[CallResult, ...]) -> list[str]:
    """Each call's listening quality, DTMF, hold and session timer, as the text report says
    them, under the calls' table."""
    lines = []
    for number, call in enumerate(calls, 1):
        heard = [listening_line(call)] if call.listening is not None and call.callee is None else []
        lines += [f"- call {number}: {_cell(line)}" for line in (*heard, *call_feature_lines(call))]
    return ["", *lines] if lines else []


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
        lines += _feature_lines(report.calls)
    two_legs = [(call, call.callee) for call in report.calls if call.callee is not None]
    if two_legs:
        lines += ["", "#### Both legs"]
        for call, callee in two_legs:
            lines += _two_legs(call, callee)
    if report.local_errors:
        lines += ["", *(f"local error: {_cell(error)}" for error in report.local_errors)]
    return "\n".join(lines) + "\n"
