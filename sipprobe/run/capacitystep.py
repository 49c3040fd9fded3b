"""The scenario's ``capacity`` step: the trunk capacity test inside one run.

Unlike ``sipprobe capacity`` (run/capacity.py: a run per step), the steps here are call
steps of the one run, with its one capture, so the report is the usual document: every
call of every step is in ``steps`` and ``calls``, and one finding concludes the test
(``capacity-below-contract``, or ``capacity-held`` as info), worded by verdict/capacity.py.
"""

from __future__ import annotations

from typing import Protocol

from sipprobe.model.capacity import step_sizes
from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import Finding, RunReport, SipEvent, StepResult
from sipprobe.scenario.model import CallStep, CapacityTestStep, Scenario
from sipprobe.verdict.capacity import (
    attribute_failure,
    codec_bandwidth,
    first_failure,
    measure_step,
)
from sipprobe.verdict.policy import decide


class CallingRun(Protocol):
    scenario: Scenario

    def calls(self, index: int, step: CallStep, label: str = "") -> list[StepResult]: ...

    def snapshot(self) -> tuple[SipEvent, ...]: ...


def _bandwidth_text(scenario: Scenario, channels: int) -> str:
    found = [b for b in (codec_bandwidth(c, channels) for c in scenario.codecs) if b]
    if not found:
        return ""
    first = found[0]
    return (
        f" ({first.codec} needs {first.ethernet_kbit_s:g} kbit/s per call each way on "
        f"Ethernet, {first.channels_ethernet_kbit_s / 1000:.2f} Mbit/s for {channels})"
    )


def run_capacity_step(
    run: CallingRun, index: int, step: CapacityTestStep
) -> tuple[list[StepResult], Finding]:
    scenario = run.scenario
    results: list[StepResult] = []
    measured = []
    for size in step_sizes(step.channels, step.step):
        call = CallStep(
            to=step.to,
            duration_s=step.hold_s,
            answer_timeout_s=step.answer_timeout_s,
            parallel=size,
        )
        these = run.calls(index + len(results), call, label=f"capacity {size}: ")
        results.extend(these)
        report = RunReport(
            scenario=scenario.name,
            service=scenario.service,
            target=str(scenario.target),
            transport=scenario.transport,
            started_at="",
            duration_s=0.0,
            steps=tuple(these),
            timeline=run.snapshot(),
            verdict=decide(tuple(these), scenario.thresholds),
        )
        measured.append(measure_step(size, report))
        if not measured[-1].good:
            break
    bandwidth = _bandwidth_text(scenario, step.channels)
    if measured and measured[-1].good:
        return results, Finding(
            Severity.INFO,
            Side.PLATFORM,
            "messaging",
            "capacity-held",
            f"all {step.channels} contracted channels held {step.hold_s:g} s with every call "
            f"answered and media good{bandwidth}",
            step=index,
        )
    failure = first_failure(measured[-1])
    side, severity, conclusion = attribute_failure(tuple(measured), failure, step.channels)
    failed_steps = [s for s in measured[-1].report.steps if s.kind == "call"]
    culprit = failed_steps[failure.call_number - 1] if failed_steps else None
    highest = max((m.calls for m in measured if m.good), default=0)
    return results, Finding(
        severity,
        side,
        "media" if failure.how == "media" else "messaging",
        "capacity-below-contract",
        f"{highest} of {step.channels} contracted channels held: {conclusion}{bandwidth}",
        step=culprit.index if culprit is not None else index,
        evidence=culprit.events if culprit is not None else (),
    )
