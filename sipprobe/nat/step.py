"""The nat_check step as a StepResult, for ``run`` and for ``sipprobe nat-check`` alike."""

from __future__ import annotations

from sipprobe.model.results import StepResult
from sipprobe.model.steps import NatCheckDetail
from sipprobe.nat.check import NatCheckSettings, run_nat_check
from sipprobe.scenario.model import NatCheckStep
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.uri import SipUri


def nat_check_step(
    index: int,
    target: SipUri,
    step: NatCheckStep,
    timeline: Timeline,
    register_expires_s: int | None = None,
) -> StepResult:
    """Run the checks of ``step`` against ``target``; the result's detail is the evidence."""
    first_event = len(timeline)
    settings = NatCheckSettings(
        transports=step.transports,
        timeout_s=step.timeout_s,
        binding_intervals_s=step.binding_intervals_s,
        binding_max_s=step.binding_max_s,
        keepalive_s=step.keepalive_s,
        register_expires_s=register_expires_s,
    )
    result = run_nat_check(target, settings, timeline)
    answered = [r for r in result.exchanges if r.status_code is not None]
    first = answered[0] if answered else result.exchanges[0]
    return StepResult(
        index=index,
        kind="nat_check",
        name=f"NAT check {target.with_transport('udp')}",
        ok=bool(answered),
        status_code=first.status_code,
        reason=first.reason if answered else (first.error or "no response"),
        origin="network" if answered else "none",
        timings_ms={},
        detail=NatCheckDetail(result),
        reachable=bool(answered),
        events=tuple(range(first_event, len(timeline))),
    )
