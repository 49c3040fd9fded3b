"""JUnit XML: valid against the JUnit schema, failures carry the findings, any byte survives."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from report_samples import HOSTILE, clean_report, troubled_report

from sipprobe.model.results import RunReport
from sipprobe.report.junit import render_junit, xml_text

SCHEMA = xmlschema.XMLSchema(Path(__file__).parents[1] / "data" / "junit.xsd")


@pytest.mark.parametrize("report", [clean_report(), troubled_report()], ids=["clean", "troubled"])
def test_junit_validates_against_the_schema(report: RunReport) -> None:
    SCHEMA.validate(render_junit(report))


def test_junit_clean_run_one_suite_one_case_per_step_and_verdict() -> None:
    root = ET.fromstring(render_junit(clean_report()))
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "trunk-check"
    names = [case.get("name") for case in suite.findall("testcase")]
    assert names == [
        "01 OPTIONS sip:pbx:5060",
        "02 REGISTER 1001@pbx",
        "03 call sip:echo@pbx",
        "04 UNREGISTER 1001@pbx",
        "verdict messaging",
        "verdict media",
    ]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "0", "0")
    assert root.get("tests") == "6"
    assert suite.find("testcase/failure") is None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["messaging"] == "good"
    assert properties["exit_code"] == "0"
    system_out = suite.find("system-out")
    assert system_out is not None and system_out.text is not None
    assert "INVITE sip:echo@pbx SIP/2.0" in system_out.text  # the SIP log


def test_junit_failures_carry_the_finding_text() -> None:
    report = troubled_report()
    suite = ET.fromstring(render_junit(report)).find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    register = cases["02 REGISTER 1001@pbx"].find("failure")
    assert register is not None
    finding = next(f for f in report.verdict.findings if f.code == "register-rejected")
    assert register.get("message") == finding.summary
    assert register.get("type") == "register-rejected"
    assert register.text is not None and "customer-equipment" in register.text
    assert cases["01 OPTIONS sip:pbx:5060"].find("failure") is None
    assert cases["verdict messaging"].find("failure") is not None
    skipped = cases["verdict media"].find("skipped")
    assert skipped is not None  # the busy call carried no media
    assert (suite.get("failures"), suite.get("skipped"), suite.get("tests")) == ("3", "1", "5")
    system_err = suite.find("system-err")
    assert system_err is not None and system_err.text == "stack\\x07 stopped"


def test_junit_characters_xml_cannot_carry_are_made_visible() -> None:
    text = render_junit(troubled_report())
    assert "\x00" not in text and "\x1b" not in text
    root = ET.fromstring(text)  # well-formed despite the hostile SIP text
    failure = root.find("testsuite/testcase[3]/failure")
    assert failure is not None and failure.text is not None
    assert "<script>alert(1)</script> | now\\x00\\x1b[31m" in failure.text
    assert HOSTILE not in text


def test_xml_text_keeps_what_xml_allows() -> None:
    allowed = "tab\tnewline\ncr\r é € \U0001f4de"
    assert xml_text(allowed) == allowed
    assert xml_text("a\x01b\ufffec\ud800") == "a\\x01b\\xfffec\\xd800"
