"""The nagios status line follows the monitoring-plugins guidelines."""

from __future__ import annotations

import re
from dataclasses import replace

from report_samples import captured_report, clean_report, troubled_report

from sipprobe.model.results import RunReport
from sipprobe.model.thresholds import Thresholds
from sipprobe.report.nagios import PerfData, render_nagios

# monitoring-plugins development guidelines, "Performance data":
# 'label'=value[UOM];[warn];[crit];[min];[max], value U when it could not be determined;
# UOM one of s us ms % B KB MB TB c (or none); space-separated; quoted label without '=' or "'".
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_RANGE = rf"@?(?:{_NUMBER}|~)?:?(?:{_NUMBER})?"
PERFDATA = re.compile(
    rf"'[^'=]+'=(?:U|{_NUMBER}(?:s|us|ms|%|B|KB|MB|TB|c)?)"
    rf"(?:;(?:{_RANGE})?(?:;(?:{_RANGE})?(?:;(?:{_NUMBER})?(?:;(?:{_NUMBER})?)?)?)?)?"
)
STATUS = re.compile(r"^SIPPROBE (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+?(?: \| (.+))?$")


def status_line(report: RunReport) -> tuple[str, dict[str, str]]:
    first, *_ = render_nagios(report).splitlines()
    match = STATUS.match(first)
    assert match is not None, first
    items = match.group(2).split(" ") if match.group(2) else []
    for item in items:
        assert PERFDATA.fullmatch(item), item
    return match.group(1), {item.split("=")[0].strip("'"): item for item in items}


def test_nagios_clean_run_ok_with_perfdata_and_levels() -> None:
    status, perf = status_line(clean_report())
    assert status == "OK"
    assert list(perf) == ["options_rtt", "pdd", "answer", "loss", "jitter", "mos"]
    assert perf["options_rtt"] == "'options_rtt'=0.012s;;;0"
    assert perf["pdd"] == "'pdd'=0.08s;3;6;0"
    assert perf["answer"] == "'answer'=0.32s;;;0"
    assert perf["loss"] == "'loss'=0%;1;3;0;100"
    assert perf["jitter"] == "'jitter'=0.4ms;30;50;0"
    assert perf["mos"] == "'mos'=U;4:;3.6:;1;5"  # only a capture gives a MOS
    # No findings: the long output is the headline alone.
    assert render_nagios(clean_report()).splitlines()[1:] == [
        "ClearTrunk's side: good. Customer's side: good."
    ]


def test_nagios_levels_follow_the_scenario_thresholds() -> None:
    limits = Thresholds(pdd_degraded_ms=50, pdd_bad_ms=1500, jitter_degraded_ms=0.3)
    status, perf = status_line(clean_report(limits))
    assert status == "WARNING"  # 80 ms of post-dial delay is degraded at 50 ms
    assert perf["pdd"] == "'pdd'=0.08s;0.05;1.5;0"
    assert perf["jitter"].startswith("'jitter'=0.4ms;0.3;50;")


def test_nagios_troubled_run_critical_unmeasured_is_u_and_findings_follow() -> None:
    text = render_nagios(troubled_report())
    status, perf = status_line(troubled_report())
    assert status == "CRITICAL"
    assert perf["answer"] == "'answer'=U;;;0"
    assert perf["loss"] == "'loss'=U;1;3;0;100"
    first, *rest = text.splitlines()
    assert "|" not in first.split(" | ")[0]  # the busy reason's '|' cannot start perfdata
    assert any(line.startswith("[critical] customer-equipment: REGISTER") for line in rest)
    assert all("|" not in line for line in rest)
    assert rest[-1] == "local error: stack\\x07 stopped"
    assert "\x1b" not in text  # a hostile reason phrase cannot drive a terminal


def test_nagios_media_from_the_capture_with_mos_levels_as_lower_bounds() -> None:
    status, perf = status_line(captured_report())
    assert status == "WARNING"  # 1.6 % lost on the received stream
    assert perf["loss"] == "'loss'=1.6%;1;3;0;100"  # the capture's figure, not pjmedia's 0 %
    assert perf["jitter"] == "'jitter'=2.5ms;30;50;0"
    assert perf["mos"] == "'mos'=4.1;4:;3.6:;1;5"


def test_nagios_later_calls_and_options_get_numbered_labels() -> None:
    report = clean_report()
    steps = (*report.steps, replace(report.steps[0], index=4), replace(report.steps[2], index=5))
    _, perf = status_line(replace(report, steps=steps))
    assert {"options2_rtt", "call2_pdd", "call2_jitter"} <= set(perf)


def test_perfdata_number_formatting() -> None:
    assert str(PerfData("x", 1e-7, "s")) == "'x'=0s"
    assert str(PerfData("x", 12345678.5, "ms", "1", "2")) == "'x'=12345678.5ms;1;2"
    assert str(PerfData("x", None, "%", minimum=0, maximum=100)) == "'x'=U;;;0;100"
