"""The callee's leg of a two-leg call in the verdict: did the platform deliver the call and
relay its media well towards the callee?

The caller's leg is judged as any call (verdict/media.py); the callee's streams get the same
rules, each finding's summary naming the leg, so loss on the way to the callee (invisible to
the caller, whose own sending is only its floor) is a finding like loss on the way back.
"""

from __future__ import annotations

from dataclasses import replace

from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import CallResult, Finding, StepResult
from sipprobe.model.steps import CallDetail
from sipprobe.model.thresholds import Thresholds
from sipprobe.verdict.media import stream_findings


def callee_findings(
    step: StepResult, detail: CallDetail, call: CallResult, limits: Thresholds
) -> list[Finding]:
    callee = call.callee
    if callee is None or not call.answered:
        return []
    prefix = f"callee leg {callee.account}: "
    if callee.status_code is None:
        return [
            Finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "callee-not-reached",
                f"{prefix}the call was answered ({call.status_code}) but never reached the "
                f"callee's account ({callee.error or 'no INVITE arrived'})",
                step.index,
                step.events,
            )
        ]
    if not callee.streams:
        return []
    as_call = replace(call, streams=callee.streams, callee=None)
    return [
        replace(finding, summary=prefix + finding.summary)
        for finding in stream_findings(step, detail, as_call, limits)
    ]
