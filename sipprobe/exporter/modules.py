"""A module and a target as the command line of the child that probes it.

Each probe is ``python -m sipprobe options|call|run ...`` in a child process: pjsua2 allows
one Endpoint per process (sipprobe/run/fanout.py says more), and a probe that hangs or
crashes the SIP stack must cost that probe only. The time budget is split so that the child
ends by itself before the exporter would have to kill it: the step timeouts get what is left
after the child's own start and finish (measured on loopback, 2 busy cores: ~0.5 s to start,
~1.5 s to start the SIP stack and the capture for a call, ~1.5 s to render and write the
evidence bundle, its report.html with plots included).
"""

from __future__ import annotations

from pathlib import Path

from sipprobe.exporter.config import Module

CALL_DURATION_S = 5.0
CALL_OVERHEAD_S = 4.0  # stack and capture start, BYE, analysis, bundle
OPTIONS_TIMEOUT_S = 5.0
OPTIONS_OVERHEAD_S = 2.5


def child_argv(module: Module, target: str, budget_s: float, out: Path) -> list[str]:
    """The ``sipprobe`` arguments (after ``python -m sipprobe``) for one probe."""
    common = ["--format", "json", "--quiet", "--no-history", "--out", str(out)]
    if module.scenario is not None:
        variables = [arg for k, v in module.variables for arg in ("--var", f"{k}={v}")]
        return [
            "run",
            str(module.scenario),
            "--var",
            f"TARGET={target}",
            *variables,
            *common,
        ]
    if module.name == "options":
        timeout = max(0.5, min(OPTIONS_TIMEOUT_S, budget_s - OPTIONS_OVERHEAD_S))
        return ["options", target, "--timeout", f"{timeout:.1f}", *common]
    answer = max(1.0, budget_s - CALL_DURATION_S - CALL_OVERHEAD_S)
    return [
        "call",
        target,
        "--duration",
        f"{CALL_DURATION_S:g}",
        "--answer-timeout",
        f"{answer:.1f}",
        *common,
    ]
