"""The run's resource bounds in the report: the SIP timeline's drops and the capture's cap,
written to JSON (schema), read back, and shown in the text report; the cap's sizing."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources

import jsonschema
from report_samples import captured_report

from sipprobe.model.results import CaptureSummary, RunReport, SipLimits
from sipprobe.report.json_read import read_report
from sipprobe.report.json_report import report_to_json
from sipprobe.report.text import render_run_text
from sipprobe.run.capture import capture_bounds

LIMITS = SipLimits(
    max_messages=5000,
    max_repeats=3,
    max_text_chars=16384,
    dropped=(("over-limit", 2), ("repeated-provisional", 7480)),
    dropped_from=(("192.0.2.10:5060", 7482),),
    dropped_calls=(("a84b4c76e66710@probe", 7482),),
    truncated=1,
)


def _bounded_report() -> RunReport:
    report = captured_report()
    capture = CaptureSummary(
        path="capture.pcap",  # as the JSON names it
        interface="lo",
        bpf_filter="(port 5060) or (udp and portrange 30000-30400)",
        packets=5520,
        not_captured=0,
        limit="the capture stopped at its limit of 5520 packets",
        rtp_packets=12,
        max_packets=5520,
        max_bytes=3_312_000,
    )
    return replace(report, sip_limits=LIMITS, capture=capture)


def test_run_bounds_json_keys_schema_and_read_back() -> None:
    report = _bounded_report()
    document = report_to_json(report)
    assert document["sip_limits"] == {
        "max_messages": 5000,
        "max_repeats": 3,
        "max_text_chars": 16384,
        "dropped": {"over-limit": 2, "repeated-provisional": 7480},
        "dropped_from": {"192.0.2.10:5060": 7482},
        "dropped_calls": {"a84b4c76e66710@probe": 7482},
        "truncated": 1,
        "unparsed": 0,
    }
    capture = document["capture"]
    assert (capture["limit"], capture["rtp_packets"], capture["max_packets"]) == (
        "the capture stopped at its limit of 5520 packets",
        12,
        5520,
    )
    assert capture["max_bytes"] == 3_312_000
    assert all(call["unusable_answer"] is None for call in document["calls"])
    schema = json.loads(
        resources.files("sipprobe").joinpath("schema/report.schema.json").read_text()
    )
    jsonschema.validate(document, schema)
    again = read_report(json.loads(json.dumps(document)))
    assert again.sip_limits == LIMITS
    assert again.capture == report.capture
    assert report_to_json(again) == document


def test_run_bounds_text_report_says_what_was_not_kept() -> None:
    text = render_run_text(_bounded_report())
    timeline_kept = len(_bounded_report().timeline)
    assert (
        f"SIP timeline: {timeline_kept} messages kept; not kept: 2 over limit, "
        "7480 repeated provisional, 1 cut at 16384 characters\n"
    ) in text
    assert (
        "capture: the capture stopped at its limit of 5520 packets (" in text
        and "packets); later packets are not in it\n" in text
    )
    assert "not kept" not in render_run_text(captured_report())


def test_capture_bounds_sized_for_the_calls() -> None:
    assert capture_bounds(0.0) == (5000, 3_000_000)  # at least 5,000 packets
    # a 10 s call with a 30 s answer bound: (30 + 10 + 10) s at 240 packets a second
    assert capture_bounds(50.0) == (12_000, 7_200_000)
    assert capture_bounds(4 * 50.0) == (48_000, 28_800_000)  # four parallel calls
