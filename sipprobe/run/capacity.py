"""The trunk capacity test: K, 2K, ... N simultaneous calls, each step held, up to the channels.

Each step is a run of its own (one call step with ``parallel`` calls, its own capture), so a
step's calls are measured as any run's are; the test stops at the first step that is not
good, and verdict/capacity.py says how its first failed call failed and which side that
points to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sipprobe.model.capacity import CapacityResult, CapacityStep, step_sizes
from sipprobe.model.outcome import Side
from sipprobe.run.runner import run_scenario
from sipprobe.scenario.model import CallStep, Scenario
from sipprobe.verdict.capacity import (
    attribute_failure,
    codec_bandwidth,
    first_failure,
    measure_step,
)

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class CapacityPlan:
    channels: int
    step: int
    hold_s: float
    call: CallStep  # what each call does; its parallel is set per step


def run_capacity(
    scenario: Scenario,
    plan: CapacityPlan,
    progress: Progress,
    workdir: Path | None = None,
    capture: bool = True,
) -> CapacityResult:
    steps: list[CapacityStep] = []
    for calls in step_sizes(plan.channels, plan.step):
        progress(f"capacity: {calls} simultaneous calls for {plan.hold_s:g} s")
        call = replace(plan.call, parallel=calls, duration_s=plan.hold_s)
        step_dir = workdir / f"step-{calls}" if workdir is not None else None
        report = run_scenario(
            replace(scenario, steps=(call,)),
            _labelled(progress, f"[{calls} calls] "),
            workdir=step_dir,
            capture=capture,
        )
        measured = measure_step(calls, report)
        steps.append(measured)
        if not measured.good:
            break
    done = tuple(steps)
    highest = max((s.calls for s in done if s.good), default=0)
    bandwidth = tuple(
        b for b in (codec_bandwidth(c, plan.channels) for c in scenario.codecs) if b is not None
    )
    if done and not done[-1].good:
        failure = first_failure(done[-1])
        side, severity, conclusion = attribute_failure(done, failure, plan.channels)
        return CapacityResult(
            str(scenario.target),
            plan.channels,
            plan.step,
            plan.hold_s,
            done,
            highest,
            failure,
            side,
            severity,
            conclusion,
            bandwidth,
        )
    return CapacityResult(
        str(scenario.target),
        plan.channels,
        plan.step,
        plan.hold_s,
        done,
        highest,
        None,
        Side.UNKNOWN,
        None,
        f"all {plan.channels} contracted channels held {plan.hold_s:g} s with every call "
        "answered and media good",
        bandwidth,
    )


def _labelled(progress: Progress, label: str) -> Progress:
    return lambda text: progress(label + text)
