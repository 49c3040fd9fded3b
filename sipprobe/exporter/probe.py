"""One probe: the child process that runs a module against a target, and what it gave.

The child writes its evidence bundle straight into the run store and its JSON report on
stdout; a child that outlives the budget is killed with everything it started (its
tcpdump), and the probe is then a failure with the reason, never a hung scrape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sipprobe.errors import SipProbeError
from sipprobe.exporter.config import Module
from sipprobe.exporter.modules import child_argv
from sipprobe.model.results import RunReport
from sipprobe.report.json_read import read_report
from sipprobe.run.fanout import run_child


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What a probe gave: a report, or the reason there is none."""

    target: str
    module: str
    duration_s: float
    report: RunReport | None
    error: str | None = None  # why there is no report
    bundle: Path | None = None  # the run's evidence folder, when the child wrote one


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_probe(module: Module, target: str, budget_s: float, out: Path) -> ProbeOutcome:
    """Run ``module`` against ``target`` in a child, killed after ``budget_s``."""
    argv = child_argv(module, target, budget_s, out)
    child = run_child(target, argv, max(0.1, budget_s))
    if child.timed_out:
        why = f"no result within the {budget_s:.1f} s budget: the probe was stopped"
        return ProbeOutcome(target, module.name, child.wall_s, None, why)
    bundle = out if (out / "manifest.json").is_file() else None
    try:
        report = read_report(json.loads(child.stdout))
    except (ValueError, KeyError, TypeError, SipProbeError):
        why = _last_line(child.stderr).removeprefix("error: ")
        why = why or child.note or f"exit status {child.exit_code}"
        return ProbeOutcome(target, module.name, child.wall_s, None, why, bundle)
    return ProbeOutcome(target, module.name, child.wall_s, report, None, bundle)
