"""A call's listening quality, DTMF, hold and session timer in the HTML and Markdown reports:
the same lines the text report prints, under the call's facts and under the calls' table."""

from __future__ import annotations

from dataclasses import replace
from html import escape

from report_samples import captured_report

from sipprobe.model.dtmf import CallDtmf, DtmfDigit
from sipprobe.model.hold import CallHold, Reinvite
from sipprobe.model.media import CallListening
from sipprobe.model.results import RunReport
from sipprobe.model.session_timer import SessionRefresh, SessionTimer
from sipprobe.report.html import render_html
from sipprobe.report.markdown import render_markdown
from sipprobe.report.text import render_run_text

DIGITS = tuple(DtmfDigit(d, 2.0 + i * 0.25, 160.0) for i, d in enumerate("159#"))
DTMF = CallDtmf("159#", "inband", 160, 2.0, None, "159#", "inband", DIGITS, DIGITS, "159#")
HOLD = CallHold(
    3.0, None, (Reinvite("hold", 2.0, "inactive", 200, 1.0, "inactive"),), (), "inactive"
)
TIMER = SessionTimer(
    90, 90, 90, 90, True, None, None, 90, "uac", True,
    (SessionRefresh(45.0, "UPDATE", "probe", 200, 90),),
)  # fmt: skip


def _report() -> RunReport:
    report = captured_report()
    call = report.steps[2].call
    assert call is not None
    call = replace(
        call,
        dtmf=DTMF,
        hold=HOLD,
        session_timer=TIMER,
        listening=CallListening(4.12, "P.862 nb", 0.0, 9.5),
    )
    steps = list(report.steps)
    steps[2] = replace(steps[2], call=call)
    return replace(report, steps=tuple(steps))


def test_call_features_in_html_and_markdown_are_the_text_reports_lines() -> None:
    report = _report()
    text = render_run_text(report).splitlines()
    wanted = [
        next(line.strip() for line in text if line.strip().startswith(start))
        for start in ("listening: MOS-LQO 4.12", "DTMF sent '159#'", "hold 3 s (inactive)",
                      "session timer: asked 90 s")
    ]  # fmt: skip
    html = render_html(report)
    assert "<tr><th>call features</th><td>" + "<br>".join(escape(line) for line in wanted) in html
    markdown = render_markdown(report).splitlines()
    assert [line for line in markdown if line.startswith("- call 1: ")] == [
        f"- call 1: {line}".replace(">", "&gt;")  # Markdown cells carry no markup
        for line in wanted
    ]


def test_calls_without_features_show_none() -> None:
    report = captured_report()
    assert "call features" not in render_html(report)
    assert not [line for line in render_markdown(report).splitlines() if line.startswith("- call")]
