"""The end of a run: the capture measured into the steps, the verdict decided and
attributed, and everything put together as the run's report (model/results.py RunReport)."""

from __future__ import annotations

import datetime as dt
import platform
import socket
import time
from typing import Protocol

from sipprobe import __version__
from sipprobe.model.results import Finding, RunReport, StepResult
from sipprobe.run.capture import RunCapture
from sipprobe.scenario.model import Scenario
from sipprobe.signalling.timeline import Timeline
from sipprobe.verdict.attribution import attribute
from sipprobe.verdict.policy import decide, run_findings, with_findings


class FinishedRun(Protocol):
    """What the report needs of the run (run/runner.py)."""

    scenario: Scenario
    timeline: Timeline
    results: list[StepResult]
    local_errors: list[str]
    findings: list[Finding]
    capture: RunCapture | None

    def target_address(self) -> str: ...


def assemble_report(run: FinishedRun, started_wall: dt.datetime, started: float) -> RunReport:
    """The report of a run that began at ``started_wall`` (``started`` on the monotonic
    clock), its steps measured."""
    scenario = run.scenario
    steps = tuple(run.results)
    timeline = run.timeline.snapshot()
    sip_limits = run.timeline.limits()
    capture_summary = None
    if run.capture is not None:
        steps, capture_summary = run.capture.finish(steps, timeline)
    verdict = with_findings(
        decide(steps, scenario.thresholds, str(scenario.target)),
        run_findings(
            sip_limits,
            capture_summary,
            # only looked up (DNS) when there is a flood to say it of
            run.target_address() if sip_limits.dropped else None,
            steps,
        )
        + tuple(run.findings),
    )
    return RunReport(
        scenario=scenario.name,
        service=scenario.service,
        target=str(scenario.target),
        transport=scenario.transport,
        started_at=started_wall.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        duration_s=round(time.monotonic() - started, 3),
        steps=steps,
        timeline=timeline,
        verdict=attribute(
            verdict,
            steps,
            scenario.service,
            scenario.equipment_in_effect,
            scenario.location,
        ),
        probe={
            "version": __version__,
            "host": socket.gethostname(),
            "python": platform.python_version(),
        },
        local_errors=tuple(run.local_errors),
        capture=capture_summary,
        thresholds=scenario.thresholds,
        location=scenario.location,
        equipment=scenario.equipment_in_effect,
        sip_limits=sip_limits,
    )
