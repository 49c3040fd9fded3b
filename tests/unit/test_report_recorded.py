"""Reports of real runs (tests/data/recorded/, written before the model was typed) read back
into the typed model and written again: the JSON contract, the verdict and the text outputs
are what they were."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sipprobe.model.nat import NatCheckResult
from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import Finding
from sipprobe.model.steps import CallDetail, NatCheckDetail, OptionsDetail, RegisterDetail
from sipprobe.report.json_read import load_report, nat_check_result, read_report
from sipprobe.report.json_report import render_json, report_to_json
from sipprobe.report.markdown import render_markdown
from sipprobe.report.nat import render_nat_json, render_nat_text
from sipprobe.report.text import render_run_text
from sipprobe.verdict.policy import decide

RECORDED = Path(__file__).parent.parent / "data" / "recorded"
RUNS = sorted(p.name for p in RECORDED.iterdir() if (p / "report.json").is_file())

# Keys written since the recordings were made (README, "JSON report", lists them): where the
# probe stood, the customer's equipment, the plain-words headline, who must fix each
# finding under which policy clause, what a sipprobe responder's 200 OK said of each call
# (its RTP marking, the INVITE as it arrived), the SIP timeline's bounds, the capture's cap,
# the unusable SDP answer of a call, its listening quality, DTMF, hold and 200 OKs resent
# after its ACK, its session timers. Everything else must come back as recorded.
ADDITIONS = (
    "location",
    "equipment",
    "verdict.headline",
    "findings[].responsible/policy",
    "calls[].far_end_dscp/sip_alg",
    "sip_limits",
    "capture.limit/rtp_packets/max_packets/max_bytes",
    "calls[].unusable_answer",
    "calls[].listening/dtmf/hold/ok_resent_after_ack",
    "calls[].session_timer",
)
CAPTURE_CAP = ("limit", "rtp_packets", "max_packets", "max_bytes")
LOCATIONS = ("customer-lan", "customer-wan", "internet", "platform")
PARTIES = ("cleartrunk", "customer", "undetermined")


def _without_additions(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the documented additions checked for shape and taken out."""
    rest = {k: v for k, v in document.items() if k not in ("location", "equipment", "sip_limits")}
    assert document["sip_limits"] is None  # the recordings did not say: read as not told
    if rest["capture"] is not None:
        capture = dict(rest["capture"])
        assert all(capture.pop(key) is None for key in CAPTURE_CAP)
        rest["capture"] = capture
    calls = []
    for written in rest["calls"]:
        call = dict(written)
        assert call.pop("unusable_answer") is None
        assert call.pop("dtmf") is None
        assert call.pop("hold") is None
        assert call.pop("ok_resent_after_ack") == 0
        assert call.pop("listening") is None
        assert call.pop("session_timer") is None  # recorded before it was read
        calls.append(call)
    rest["calls"] = calls
    assert document["location"] in LOCATIONS
    assert set(document["equipment"]) == {"phones", "qos_device", "iad", "pbx"}
    verdict = dict(rest["verdict"])
    assert isinstance(verdict.pop("headline"), str) and document["verdict"]["headline"]
    findings = []
    for written in verdict["findings"]:
        finding = dict(written)
        assert finding.pop("responsible") in PARTIES
        assert isinstance(finding.pop("policy"), str)
        findings.append(finding)
    verdict["findings"] = findings
    rest["verdict"] = verdict
    calls = []
    for written in rest["calls"]:
        call = dict(written)
        # the recordings predate the responder's headers: nothing was read from the answers
        assert (call.pop("far_end_dscp"), call.pop("sip_alg")) == (None, None)
        calls.append(call)
    rest["calls"] = calls
    return rest


def _text_without_additions(text: str) -> str:
    """Text or markdown output with the location, the headline and (responsible) taken out."""
    lines = []
    for written in text.split("\n"):
        if written.lstrip().startswith(("Could not tell whose side", "ClearTrunk's side")):
            continue
        line = written
        for location in LOCATIONS:
            line = line.replace(f" from {location}, took", ", took")
        for party in PARTIES:
            line = line.replace(f" ({party}):", ":").replace(f" ({party}) ·", " ·")
        lines.append(line)
    return re.sub(r"\n\n\n+", "\n\n", "\n".join(lines))


def _recorded(run: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((RECORDED / run / "report.json").read_text())
    return document


def test_report_recorded_runs_are_all_there() -> None:
    assert RUNS == [
        "call-auth-failed",
        "demo",
        "nat-check-run",
        "options-closed-port",
        "register-no-answer",
    ]


@pytest.mark.parametrize("run", RUNS)
def test_report_recorded_json_round_trip_is_unchanged(run: str) -> None:
    recorded = _recorded(run)
    again = _without_additions(report_to_json(read_report(recorded)))
    assert again == recorded
    assert list(again) == list(recorded)  # the keys in the same order too
    # the whole text, as --format json prints it, apart from the indentation of the file
    printed = json.loads(render_json(load_report(RECORDED / run / "report.json")))
    assert _without_additions(printed) == recorded


@pytest.mark.parametrize("run", RUNS)
def test_report_recorded_json_matches_the_schema(run: str) -> None:
    schema = json.loads(
        resources.files("sipprobe").joinpath("schema/report.schema.json").read_text()
    )
    jsonschema.validate(report_to_json(read_report(_recorded(run))), schema)


@pytest.mark.parametrize("run", RUNS)
def test_report_recorded_verdict_is_decided_again_from_the_typed_steps(run: str) -> None:
    report = read_report(_recorded(run))
    assert decide(report.steps, report.thresholds) == report.verdict


@pytest.mark.parametrize("run", RUNS)
def test_report_recorded_text_and_markdown_are_unchanged(run: str) -> None:
    report = read_report(_recorded(run))
    text, markdown = render_run_text(report), render_markdown(report)
    assert _text_without_additions(text) == (RECORDED / run / "report.txt").read_text()
    assert _text_without_additions(markdown) == (RECORDED / run / "report.md").read_text()


def test_report_recorded_details_are_typed() -> None:
    demo = read_report(_recorded("demo"))
    options, call_step = demo.steps
    assert isinstance(options.detail, OptionsDetail) and options.detail.timeout_s == 3.0
    assert isinstance(call_step.detail, CallDetail) and call_step.detail.expect_dscp == 46
    call = call_step.call
    assert call is not None and call.echo is not None and call.echo.mos_cq is not None
    rx = call.rx_stream
    assert rx is not None and rx.announced_rtp is not None
    assert rx.from_announced_address is True
    assert str(rx.announced_rtp) == rx.measured.stream.src
    assert [s.direction for s in call.streams] == ["rx", "tx"]
    register = read_report(_recorded("register-no-answer")).steps[0].detail
    assert isinstance(register, RegisterDetail) and register.contact_sent is not None
    address = register.contact_sent.address
    assert address is not None and address.host == "127.0.0.1" and address.port is not None
    nat = read_report(_recorded("nat-check-run")).steps[1].detail
    assert isinstance(nat, NatCheckDetail) and nat.result.binding is not None
    assert [(e.method, e.transport) for e in nat.result.exchanges] == [
        ("OPTIONS", "udp"),
        ("INVITE", "udp"),
        ("OPTIONS", "tcp"),
        ("INVITE", "tcp"),
    ]


def test_report_recorded_nat_check_output_is_unchanged() -> None:
    document = json.loads((RECORDED / "nat-check.json").read_text())
    result: NatCheckResult = nat_check_result(
        {
            **{k: document[k] for k in ("nat_detected", "alg_detected", "mirror")},
            "binding_lifetime_s": document["binding_lifetime_s"],
            "binding_lifetime_upper_s": document["binding_lifetime_upper_s"],
            "keepalive_s": None,
            "register_expires_s": None,
            **document["evidence"],
        }
    )
    findings = tuple(
        Finding(Severity(f["severity"]), Side(f["side"]), f["area"], f["code"], f["summary"])
        for f in document["findings"]
    )
    target = document["target"]
    assert render_nat_json(target, result, findings) == (RECORDED / "nat-check.json").read_text()
    # the text was printed by a second run: only the probe's ephemeral ports differ
    text = render_nat_text(target, result, findings)
    assert _ports_masked(text) == _ports_masked((RECORDED / "nat-check.txt").read_text())


def _ports_masked(text: str) -> str:
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:P", text)
