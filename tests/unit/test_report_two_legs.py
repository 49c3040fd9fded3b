"""Two-leg calls of real lab runs (tests/data/two-leg/) in every report: the caller's and the
callee's leg side by side, the four directions in the order media flows, and whether the
platform relayed the media; and the media path judged from both legs' evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sipprobe.model.results import CallResult, RunReport
from sipprobe.report.html import render_html
from sipprobe.report.json_read import read_report
from sipprobe.report.json_report import report_to_json
from sipprobe.report.markdown import render_markdown
from sipprobe.report.text import render_run_text
from sipprobe.verdict.legs import MediaPath, media_path
from sipprobe.verdict.policy import decide

RECORDED = Path(__file__).parent.parent / "data" / "two-leg"
RUNS = ("direct", "relayed")


def _document(run: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((RECORDED / run / "report.json").read_text())
    return document


def _report(run: str) -> RunReport:
    return read_report(_document(run))


def _call(run: str) -> CallResult:
    (call,) = _report(run).calls
    return call


@pytest.mark.parametrize("run", RUNS)
def test_two_legs_recorded_json_round_trip_and_schema(run: str) -> None:
    document = _document(run)
    again = json.loads(json.dumps(report_to_json(read_report(document))))
    assert again == document
    schema = json.loads(
        resources.files("sipprobe").joinpath("schema/report.schema.json").read_text()
    )
    jsonschema.validate(again, schema)


@pytest.mark.parametrize("run", RUNS)
def test_two_legs_recorded_verdict_is_decided_again(run: str) -> None:
    report = _report(run)
    assert decide(report.steps, report.thresholds) == report.verdict


@pytest.mark.parametrize("run", RUNS)
def test_two_legs_recorded_text_markdown_and_html_table_are_unchanged(run: str) -> None:
    report = _report(run)
    assert render_run_text(report) == (RECORDED / run / "report.txt").read_text()
    assert render_markdown(report) == (RECORDED / run / "report.md").read_text()
    html = render_html(report)
    start = html.index("<h4>Both legs</h4>")
    table = html[start : html.index("<h4>Streams in the capture</h4>", start)]
    assert table + "\n" == (RECORDED / run / "legs.html").read_text()


def test_two_legs_relayed_media_path_from_both_legs_sdp_and_capture() -> None:
    call = _call("relayed")
    assert call.callee is not None
    path = media_path(call, call.callee)
    assert path == MediaPath(
        callee="b",
        caller_own="127.0.0.1:56756",
        callee_own="127.0.0.1:56758",
        caller_sends_to="127.0.0.44:27588",
        callee_sends_to="127.0.0.44:27568",
    )
    assert path.relayed
    assert path.describe() == (
        "relayed by the platform (media address 127.0.0.44:27588 towards the caller, "
        "127.0.0.44:27568 towards b)"
    )


def test_two_legs_direct_media_path_each_leg_sends_to_the_other() -> None:
    call = _call("direct")
    assert call.callee is not None
    path = media_path(call, call.callee)
    assert path == MediaPath("b", "127.0.0.1:27574", "127.0.0.1:27576", "127.0.0.1:27576",
                             "127.0.0.1:27574")  # fmt: skip
    assert not path.relayed
    assert path.describe() == (
        "direct between the legs (caller 127.0.0.1:27574, b 127.0.0.1:27576): the platform "
        "relays signalling only"
    )


def test_two_legs_one_side_relayed_is_relayed() -> None:
    """A platform that relays one direction only (b told to send to the relay, a told b's own
    address) is still a relay in the path."""
    path = MediaPath("b", "127.0.0.1:4000", "127.0.0.1:4002", "127.0.0.1:4002", "10.0.0.9:30000")
    assert path.relayed


def test_two_legs_media_path_unknown_without_the_callees_streams() -> None:
    call = _call("relayed")
    assert call.callee is not None
    callee = replace(call.callee, streams=())
    assert media_path(call, callee) is None
    text = render_run_text(replace(_report("relayed"), steps=_with_callee(call, callee)))
    assert "      media not known (no stream of both legs captured)" in text.splitlines()
    assert "        platform -> b" not in text  # no relay seen: the plain labels
    assert "        callee b receives  no stream captured" in text.splitlines()


def _with_callee(call: CallResult, callee: Any) -> tuple[Any, ...]:
    report = _report("relayed")
    return tuple(
        replace(step, call=replace(call, callee=callee)) if step.call is not None else step
        for step in report.steps
    )


def test_two_legs_markdown_escapes_what_the_platform_sent() -> None:
    call = _call("relayed")
    assert call.callee is not None
    hostile = replace(call.callee, asserted_identity="<sip:x@y>|`rm`", error="a|b")
    markdown = render_markdown(replace(_report("relayed"), steps=_with_callee(call, hostile)))
    assert "P-Asserted-Identity &lt;sip:x@y&gt;\\|'rm' |" in markdown
    assert "callee b: a\\|b" in markdown
    html = render_html(replace(_report("relayed"), steps=_with_callee(call, hostile)))
    assert "P-Asserted-Identity &lt;sip:x@y&gt;|`rm`</td>" in html
