"""The capacity test's report: as text for a person, as JSON for scripts.

The JSON holds each step's figures and the failed step's whole run report (the usual
document, sipprobe/schema/report.schema.json), so its calls and SIP messages are there as
evidence.
"""

from __future__ import annotations

import json
from typing import Any

from sipprobe.model.capacity import CapacityResult, CapacityStep
from sipprobe.report.json_report import report_to_json
from sipprobe.report.text import printable


def _figure(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _step_line(step: CapacityStep) -> str:
    mark = "ok  " if step.good else "FAIL"
    return (
        f"  {mark} {step.calls:>4} calls  {step.answered:>4} answered  "
        f"setup max {_figure(step.setup_max_ms, '.1f')} ms  "
        f"rx loss max {_figure(step.rx_loss_max_pct, '.2f')} %  "
        f"tx loss max {_figure(step.tx_loss_max_pct, '.2f')} %  "
        f"exit {int(step.report.verdict.exit_code)}"
    )


def render_capacity_text(result: CapacityResult) -> str:
    lines = [
        f"capacity test of {result.target}: {result.channels} channels contracted, steps of "
        f"{result.step}, each held {result.hold_s:g} s",
        "",
        *(_step_line(s) for s in result.steps),
        "",
        f"CHANNELS  {result.highest_good} of {result.channels} held with every call answered "
        "and media good",
    ]
    failure = result.failure
    if failure is not None:
        setup = f", setup {failure.setup_ms:.1f} ms" if failure.setup_ms is not None else ""
        lines.append(
            f"  first failure: call {failure.call_number} of {failure.calls} ({failure.how}"
            f"{setup}): {failure.detail}"
        )
        severity = result.severity.value if result.severity else "info"
        lines.append(f"  [{severity}] {result.side.value}: {result.conclusion}")
        failed = result.steps[-1].report
        lines.extend(
            f"  [{f.severity.value}] {f.side.value}: {f.summary}"
            for f in failed.verdict.findings[:5]
        )
    else:
        lines.append(f"  {result.conclusion}")
    if result.bandwidth:
        lines.append(f"bandwidth each way (per call, and for {result.channels} channels):")
        lines.extend(
            f"  {b.codec} {b.ptime_ms:g} ms: {b.ip_kbit_s:g} kbit/s IP, {b.ethernet_kbit_s:g} "
            f"kbit/s Ethernet; {b.channels_ethernet_kbit_s / 1000:.2f} Mbit/s for all"
            for b in result.bandwidth
        )
    code = result.exit_code
    lines.append(f"exit {int(code)} ({code.name})")
    return printable("\n".join(lines)) + "\n"


def capacity_to_json(result: CapacityResult) -> dict[str, Any]:
    failure = result.failure
    return {
        "target": result.target,
        "channels": result.channels,
        "step": result.step,
        "hold_s": result.hold_s,
        "highest_good": result.highest_good,
        "steps": [
            {
                "calls": s.calls,
                "answered": s.answered,
                "good": s.good,
                "setup_max_ms": s.setup_max_ms,
                "rx_loss_max_pct": s.rx_loss_max_pct,
                "tx_loss_max_pct": s.tx_loss_max_pct,
                "exit_code": int(s.report.verdict.exit_code),
                "not_captured": s.report.capture.not_captured if s.report.capture else None,
            }
            for s in result.steps
        ],
        "failure": None
        if failure is None
        else {
            "calls": failure.calls,
            "call": failure.call_number,
            "how": failure.how,
            "status_code": failure.status_code,
            "setup_ms": failure.setup_ms,
            "detail": failure.detail,
        },
        "side": result.side.value,
        "severity": result.severity.value if result.severity else None,
        "conclusion": result.conclusion,
        "bandwidth": [
            {
                "codec": b.codec,
                "ptime_ms": b.ptime_ms,
                "ip_kbit_s": b.ip_kbit_s,
                "ethernet_kbit_s": b.ethernet_kbit_s,
                "channels_ethernet_kbit_s": b.channels_ethernet_kbit_s,
            }
            for b in result.bandwidth
        ],
        "failed_step_report": report_to_json(result.steps[-1].report)
        if failure is not None
        else None,
        "exit_code": int(result.exit_code),
    }


def render_capacity_json(result: CapacityResult) -> str:
    return json.dumps(capacity_to_json(result), indent=2) + "\n"
