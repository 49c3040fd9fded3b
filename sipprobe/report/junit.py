"""The run as JUnit XML, for CI systems: one testsuite per scenario, one testcase per check.

The checks are the run's steps, then the verdict on messaging and on media. A step's
critical and warning findings make its testcase fail, with the finding's text; info
findings go to its system-out. Media that the run did not measure is a skipped testcase.
The suite's system-out is the SIP log. Built with xml.etree; characters that XML 1.0 cannot
carry (SIP text may hold any byte) are written as ``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from sipprobe.model.results import Finding, Quality, RunReport, Severity, StepResult
from sipprobe.report.siplog import render_sip_log
from sipprobe.verdict.headline import headline

_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by a visible ``\\xNN``."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _element(parent: ET.Element, tag: str, text: str = "", **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items()})
    if text:
        element.text = xml_text(text)
    return element


def _finding_text(finding: Finding) -> str:
    evidence = ", ".join(f"#{index}" for index in finding.evidence) or "-"
    return (
        f"[{finding.severity.value}] {finding.side.value} ({finding.area}, {finding.code}): "
        f"{finding.summary}\nSIP messages: {evidence}"
    )


def _step_seconds(step: StepResult, report: RunReport) -> float:
    """From the step's first SIP message to its last, or its own measured total."""
    times = [report.timeline[i].t_s for i in step.events if i < len(report.timeline)]
    if len(times) > 1:
        return max(times) - min(times)
    return step.timings_ms.get("total", 0.0) / 1000


def _step_case(suite: ET.Element, step: StepResult, report: RunReport, classname: str) -> bool:
    """Add the step's testcase; True when it failed."""
    case = _element(
        suite,
        "testcase",
        name=f"{step.index + 1:02d} {step.name}",
        classname=classname,
        time=f"{_step_seconds(step, report):.3f}",
    )
    findings = [f for f in report.verdict.findings if f.step == step.index]
    serious = [f for f in findings if f.severity is not Severity.INFO]
    if serious:
        _element(
            case,
            "failure",
            "\n\n".join(_finding_text(f) for f in serious),
            message=serious[0].summary,
            type=serious[0].code,
        )
    elif not step.ok:
        _element(case, "failure", step.reason, message=step.reason or "step failed", type="step")
    infos = "\n".join(_finding_text(f) for f in findings if f.severity is Severity.INFO)
    if infos:
        _element(case, "system-out", infos)
    return bool(serious) or not step.ok


def _verdict_case(suite: ET.Element, report: RunReport, area: str, classname: str) -> str:
    """Add the testcase of one verdict area; returns "failure", "skipped" or "passed"."""
    verdict = report.verdict
    quality = verdict.messaging if area == "messaging" else verdict.media
    case = _element(suite, "testcase", name=f"verdict {area}", classname=classname, time="0")
    if quality is Quality.UNKNOWN:
        _element(case, "skipped", message=f"{area} was not measured or could not be judged")
        return "skipped"
    if quality in (Quality.BAD, Quality.DEGRADED):
        unattached = [f for f in verdict.findings if f.area == area and f.step is None]
        text = "\n\n".join([verdict.summary, *(_finding_text(f) for f in unattached)])
        _element(case, "failure", text, message=f"{area} {quality.value}", type=quality.value)
        return "failure"
    return "passed"


def render_junit(report: RunReport) -> str:
    root = ET.Element("testsuites", {"name": "sipprobe"})
    suite = _element(
        root,
        "testsuite",
        name=report.scenario,
        timestamp=report.started_at,
        hostname=report.probe.get("host", ""),
        time=f"{report.duration_s:.3f}",
    )
    properties = _element(suite, "properties")
    for name, value in (
        ("service", report.service),
        ("target", report.target),
        ("transport", report.transport),
        ("sipprobe", report.probe.get("version", "")),
        ("messaging", report.verdict.messaging.value),
        ("media", report.verdict.media.value),
        ("exit_code", str(int(report.verdict.exit_code))),
        ("location", report.location.value),
        ("headline", headline(report.verdict, report.location)),
    ):
        _element(properties, "property", name=name, value=value)
    classname = f"sipprobe.{report.scenario}"
    failed = sum(_step_case(suite, step, report, classname) for step in report.steps)
    outcomes = [_verdict_case(suite, report, area, classname) for area in ("messaging", "media")]
    failed += outcomes.count("failure")
    _element(suite, "system-out", render_sip_log(report.timeline))
    if report.local_errors:
        _element(suite, "system-err", "\n".join(report.local_errors))
    counts = {
        "tests": str(len(report.steps) + len(outcomes)),
        "failures": str(failed),
        "errors": "0",
        "skipped": str(outcomes.count("skipped")),
    }
    suite.attrib.update(counts)
    root.attrib.update({k: v for k, v in counts.items() if k != "skipped"})
    root.set("time", suite.attrib["time"])
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
