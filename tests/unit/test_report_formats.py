"""Every output format renders; the CLI offers exactly the formats there are."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace

import pytest
from report_samples import HOSTILE, captured_report, clean_report, troubled_report

from sipprobe.cli import build_parser
from sipprobe.model.results import RunReport
from sipprobe.model.thresholds import Thresholds
from sipprobe.report.formats import OutputFormat
from sipprobe.report.html import render_html
from sipprobe.report.markdown import render_markdown

REPORTS = {"clean": clean_report(), "troubled": troubled_report(), "captured": captured_report()}
# any attribute or CSS that could make a browser fetch: src/href/action/srcset not pointing
# into the page itself or at inline data, and CSS url()/@import
EXTERNAL = re.compile(
    r"""\b(?:src|href|action|srcset|poster|data)\s*=\s*(?!["']?(?:#|data:image/png;base64,))"""
    r"""|url\(|@import""",
    re.IGNORECASE,
)


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("name", list(REPORTS))
def test_output_format_every_member_renders(fmt: OutputFormat, name: str) -> None:
    text = fmt.render(REPORTS[name])
    assert text.endswith("\n")
    assert len(text.splitlines()) >= 1


def _format_choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                for option in sub._actions:
                    if "--format" in option.option_strings and option.choices is not None:
                        found[name] = list(option.choices)
    return found


def test_output_format_cli_offers_every_format() -> None:
    choices = _format_choices(build_parser())
    expected = [f.value for f in OutputFormat]
    assert {name: choices[name] for name in ("run", "options", "call", "demo")} == dict.fromkeys(
        ("run", "options", "call", "demo"), expected
    )


def test_output_format_json_carries_the_thresholds() -> None:
    limits = Thresholds(pdd_degraded_ms=50)
    data = json.loads(OutputFormat.JSON.render(clean_report(limits)))
    assert data["thresholds"]["pdd_degraded_ms"] == 50
    assert data["thresholds"]["loss_bad_pct"] == 3.0


def test_markdown_short_with_verdict_findings_and_steps() -> None:
    clean = render_markdown(REPORTS["clean"])
    assert clean.startswith("### sipprobe: messaging **GOOD**, media **GOOD** (exit 0 OK)")
    assert "signalling and media were good at the demarc" in clean
    assert "#### Findings\n\nNone." in clean
    assert "| 3 | call sip:echo@pbx | ok 200 OK | 100 4.0 ms 18x 80.0 ms" in clean
    assert len(clean.splitlines()) < 40
    troubled = render_markdown(REPORTS["troubled"])
    assert (
        "- **critical** · customer-equipment (customer) · messaging: REGISTER failed with 403"
        in troubled
    )
    assert "(SIP #2, #3, #4, #5)" in troubled
    row = next(line for line in troubled.splitlines() if line.startswith("| `sip:echo@pbx`"))
    assert row.count(" | ") == 9  # the '|' in the busy reason is escaped, not a new column
    assert "486 Busy &lt;script&gt;alert(1)&lt;/script&gt; \\| now\\x00\\x1b[31m" in row
    assert "local error: stack\\x07 stopped" in troubled
    assert "\x1b" not in troubled and "\x00" not in troubled


@pytest.mark.parametrize("name", list(REPORTS))
def test_html_is_self_contained(name: str) -> None:
    page = render_html(REPORTS[name])
    assert EXTERNAL.search(page) is None, EXTERNAL.search(page)
    assert "default-src 'none'" in page
    assert page.count('<img alt="Call signalling timing" src="data:image/png;base64,') == 1
    media_plot = '<img alt="Media second by second" src="data:image/png;base64,'
    assert page.count(media_plot) == (name == "captured")


def test_html_external_reference_check_is_not_blind() -> None:
    for markup in ('<img src="http://x/a.png">', "<link href='x.css'>", "a { b: url(x) }"):
        assert EXTERNAL.search(markup), markup


def test_html_banner_findings_ladder_and_messages() -> None:
    report = REPORTS["troubled"]
    page = render_html(report)
    assert '<header class="banner bad">' in page
    assert 'messaging <span class="q bad">BAD</span>' in page
    assert "<strong>customer-equipment</strong>" in page
    assert page.count('<svg class="ladder"') == len(report.calls) == 1
    assert '<a href="#sip-9"><title>#9 SIP/2.0 486 Busy Here</title>' in page
    assert '<details id="sip-2" open>' in page  # cited by the REGISTER finding
    assert '<details id="sip-0">' in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE not in page


def test_html_and_markdown_show_the_captured_streams() -> None:
    report = REPORTS["captured"]
    page = render_html(report)
    assert "<h4>Streams in the capture</h4>" in page
    assert "<code>192.0.2.10:4000 → 192.0.2.1:40000</code>" in page
    assert "<td>1.60 %</td><td>2.50 / 5.00 ms</td><td>4.10</td><td>46</td>" in page
    markdown = render_markdown(report)
    assert "| 1.60 % | 2.5 ms | 4.10 | capture |" in markdown
    assert "| 0.00 % | 0.4 ms | - | pjmedia |" in render_markdown(REPORTS["clean"])


def test_html_names_probe_and_marks_scenario_thresholds() -> None:
    report = clean_report(Thresholds(pdd_degraded_ms=2000))
    page = render_html(replace(report, local_errors=()))
    assert "sipprobe 0.1.0" in page and "probe-1" in page
    assert "<td><code>pdd_degraded_ms</code></td><td>2000</td><td>scenario</td>" in page
    assert "<td><code>pdd_bad_ms</code></td><td>6000</td><td></td>" in page


def test_html_without_calls_has_no_call_section_or_plot() -> None:
    report: RunReport = clean_report()
    options_only = replace(report, steps=report.steps[:1])
    page = render_html(options_only)
    assert "<h2>Calls</h2>" not in page
    assert "<h2>Plots</h2>" not in page


def test_text_report_shows_control_characters_instead_of_sending_them() -> None:
    text = OutputFormat.TEXT.render(REPORTS["troubled"])
    assert "\x1b" not in text and "\x00" not in text
    assert "Busy <script>alert(1)</script> | now\\x00\\x1b[31m" in text
