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

from sipprobe.model.demarc import Location, default_equipment
from sipprobe.model.media import CallListening, FarEndReport
from sipprobe.model.results import CallResult, RunReport
from sipprobe.model.thresholds import Thresholds
from sipprobe.report.html import render_html
from sipprobe.report.json_read import read_report
from sipprobe.report.json_report import report_to_json
from sipprobe.report.markdown import render_markdown
from sipprobe.report.text import render_run_text
from sipprobe.verdict.attribution import attribute
from sipprobe.verdict.legs import MediaPath, media_path, relay_loss_findings
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


def _lossy(stream: Any, lost: int) -> Any:
    metrics = stream.measured.metrics
    loss = replace(metrics, lost=lost, packets=metrics.expected - lost,
                   loss_pct=100.0 * lost / metrics.expected)  # fmt: skip
    return replace(stream, measured=replace(stream.measured, metrics=loss))


def _relay_verdict(
    run: str, callee_rx_lost: int = 0, caller_rx_lost: int = 0, reported_back: bool = False
) -> Any:
    """The recorded run's verdict decided again with losses put into the streams; with
    ``reported_back`` the relay passed b's RTCP reports of its loss to the caller."""
    report = _report(run)
    call = _call(run)
    assert call.callee is not None
    callee = replace(
        call.callee,
        streams=tuple(
            _lossy(s, callee_rx_lost) if s.direction == "rx" else s for s in call.callee.streams
        ),
    )
    far_end = FarEndReport(2, 0.05, callee_rx_lost, 0.5, None) if reported_back else None
    call = replace(
        call,
        streams=tuple(
            _lossy(s, caller_rx_lost)
            if s.direction == "rx"
            else replace(s, measured=replace(s.measured, far_end=far_end))
            for s in call.streams
        ),
    )
    return decide(_with_callee(call, callee), report.thresholds)


def test_two_legs_relay_loss_towards_b_with_the_other_direction_whole_is_the_platforms() -> None:
    verdict = _relay_verdict("relayed", callee_rx_lost=8)
    (relay,) = [f for f in verdict.findings if f.code == "relay-loss"]
    assert relay.side.value == "platform" and relay.severity.value == "critical"
    assert relay.summary == (
        "platform -> b lost 5.33% (8 of 150 packets) while caller -> platform was sent whole "
        "(150 packets) and platform -> caller, over the same access at the same time, lost none "
        "of 150: the platform's media relay (media address 127.0.0.44:27568) lost them, not "
        "the access"
    )
    # The stream's own loss is its consequence: kept, as info.
    (measured,) = [f for f in verdict.findings if f.code == "rx-loss"]
    assert measured.summary == (
        "callee leg b: 5.33% of RTP from 127.0.0.44:27568 lost (8 of 150 packets; burst ratio "
        "1.00) (the platform's relay lost them: relay-loss)"
    )
    assert (measured.side.value, measured.severity.value) == ("unknown", "info")
    assert verdict.media.value == "bad"


def test_two_legs_relay_loss_explains_the_callers_tx_loss_reported_back_through_the_relay() -> None:
    """rtpengine passes b's RTCP to the caller: the caller's far end then reports the loss of
    its stream, which is the relay's loss seen from the other end: kept, as info."""
    verdict = _relay_verdict("relayed", callee_rx_lost=8, reported_back=True)
    (reported,) = [f for f in verdict.findings if f.code == "tx-loss"]
    assert reported.summary.startswith("the far end reports 5.3% of the probe's RTP to 127.0.0.44")
    assert reported.summary.endswith("(the platform's relay lost them: relay-loss)")
    assert reported.severity.value == "info"
    assert [f.code for f in verdict.findings if f.severity.value != "info"] == ["relay-loss"]
    # Without the relay's evidence the same report stands as it is.
    (alone,) = [
        f for f in _relay_verdict("direct", 8, reported_back=True).findings if f.code == "tx-loss"
    ]
    assert alone.severity.value == "critical"


def test_two_legs_relay_loss_towards_the_caller_names_the_relays_caller_side() -> None:
    verdict = _relay_verdict("relayed", caller_rx_lost=2)
    (relay,) = [f for f in verdict.findings if f.code == "relay-loss"]
    assert relay.severity.value == "warning"  # 1.33 %: degraded
    assert relay.summary.startswith("platform -> caller lost 1.33% (2 of 150 packets) while "
                                    "b -> platform was sent whole")  # fmt: skip
    assert "(media address 127.0.0.44:27588)" in relay.summary


@pytest.mark.parametrize(
    ("run", "callee_rx_lost", "caller_rx_lost"),
    [
        ("relayed", 8, 1),  # the other direction lost one too: the shared access may have
        ("relayed", 1, 0),  # 0.67 %: not graded
        ("direct", 8, 0),  # no relay: one stream seen from both ends, nothing to compare
    ],
)
def test_two_legs_relay_loss_needs_the_evidence(
    run: str, callee_rx_lost: int, caller_rx_lost: int
) -> None:
    verdict = _relay_verdict(run, callee_rx_lost, caller_rx_lost)
    assert not [f for f in verdict.findings if f.code == "relay-loss"]


def test_two_legs_relay_loss_stays_the_platforms_from_the_customers_lan() -> None:
    """The location pass leaves it alone: the evidence is two directions over one access."""
    report = _report("relayed")
    verdict = attribute(
        _relay_verdict("relayed", callee_rx_lost=8),
        report.steps,
        "hosted-pbx",
        default_equipment("hosted-pbx"),
        Location.CUSTOMER_LAN,
    )
    (relay,) = [f for f in verdict.findings if f.code == "relay-loss"]
    assert (relay.side.value, relay.responsible.value) == ("platform", "cleartrunk")
    assert relay.summary.endswith("lost them, not the access")
    (measured,) = [f for f in verdict.findings if f.code == "rx-loss"]
    assert measured.side.value == "unknown"


def test_two_legs_relay_loss_not_judged_for_legs_on_two_addresses() -> None:
    call = _call("relayed")
    assert call.callee is not None
    lossy = replace(call.callee, streams=tuple(
        _lossy(s, 8) if s.direction == "rx" else s for s in call.callee.streams))  # fmt: skip
    path = media_path(call, lossy)
    assert path is not None
    apart = replace(path, callee_own="192.0.2.7:4000")
    step = _report("relayed").steps[2]
    assert relay_loss_findings(step, call, lossy, path, Thresholds())  # one address: judged
    assert relay_loss_findings(step, call, lossy, apart, Thresholds()) == []


def test_two_legs_each_leg_heard_the_others_speech_in_every_report() -> None:
    """Each leg's MOS-LQO (what it heard of the other leg's speech) beside the E-model's
    MOS-LQ of the stream it received, in JSON, text, Markdown and the HTML table."""
    call = _call("relayed")
    assert call.callee is not None
    caller_heard = CallListening(4.48, "P.862 nb", 0.0, 2.9)
    callee_heard = CallListening(3.21, "P.862 nb", -20.0, 2.7)
    scored = replace(call, listening=caller_heard)
    scored = replace(scored, callee=replace(call.callee, listening=callee_heard))
    report = replace(_report("relayed"), steps=_with_callee(scored, scored.callee))
    document = json.loads(json.dumps(report_to_json(report)))
    schema = json.loads(
        resources.files("sipprobe").joinpath("schema/report.schema.json").read_text()
    )
    jsonschema.validate(document, schema)
    (written,) = document["calls"]
    assert written["listening"]["mos_lqo"] == 4.48
    assert written["callee"]["listening"]["mos_lqo"] == 3.21
    assert read_report(document) == report
    assert (
        "      heard: caller MOS-LQO 4.48 (P.862 nb), MOS-LQ 4.41; callee b MOS-LQO 3.21 "
        "(P.862 nb), MOS-LQ 4.41"
    ) in render_run_text(report).splitlines()
    assert (
        "| heard (other leg's speech) | MOS-LQO 4.48 (P.862 nb), MOS-LQ 4.41 | "
        "MOS-LQO 3.21 (P.862 nb), MOS-LQ 4.41 |"
    ) in render_markdown(report)
    assert (
        "<tr><th>heard (other leg&#x27;s speech)</th><td>MOS-LQO 4.48 (P.862 nb), MOS-LQ 4.41"
        "</td><td>MOS-LQO 3.21 (P.862 nb), MOS-LQ 4.41</td></tr>"
    ) in render_html(report)
    # Unscored legs add no row: the recorded reports render as they were recorded.
    assert "heard" not in render_run_text(_report("relayed"))
