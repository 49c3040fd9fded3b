"""The call step towards one target: one call, or ``parallel`` simultaneous ones, placed on
the run's SIP stack or, beyond what one stack holds, by call workers (run/workers.py).

A call to one of the probe's own accounts (two legs) goes through run/legs.py, which places
its caller's leg here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from sipprobe.model.limits import MAX_CALLS
from sipprobe.model.results import Finding, StepResult
from sipprobe.model.steps import CallDetail
from sipprobe.nat.answer import with_far_end_answer
from sipprobe.run.workers import WorkerPorts
from sipprobe.scenario.credentials import describe_source
from sipprobe.scenario.model import AccountSpec, CallStep, Scenario
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.uri import parse_uri


class CallStepRun(Protocol):
    """What the call step needs of the run (run/runner.py)."""

    scenario: Scenario
    stack: Any  # the SipStack
    timeline: Timeline
    findings: list[Finding]
    worker_ports: WorkerPorts

    def say(self, text: str) -> None: ...

    def account_of(self, name: str | None) -> tuple[Any, AccountSpec | None]: ...


def call_uri(scenario: Scenario, to: str) -> str:
    """The Request-URI of a call ``to`` a URI, or to a user at the account's domain."""
    if to.lower().startswith(("sip:", "sips:")):
        return str(parse_uri(to))
    spec = scenario.account
    domain = spec.domain if spec else scenario.target.hostport()
    uri = parse_uri(f"sip:{to}@{domain}")
    if domain == scenario.target.hostport():
        uri = uri.with_transport(scenario.transport)
    return str(uri)


def calls_in_workers(run: CallStepRun, index: int, uri: str, step: CallStep) -> list[Any]:
    """More calls than one stack holds: placed by worker processes, joined into the run.
    A call a failed worker did not place is None."""
    from sipprobe.run.manycalls import join_worker_results, worker_findings, worker_spec
    from sipprobe.run.workers import run_workers

    results = run_workers(
        worker_spec(run.scenario, run.stack.settings.bind_host, uri, step),
        step.parallel,
        run.worker_ports,
        lambda text: run.say(f"step {index + 1}: {text}"),
    )
    joined = join_worker_results(run.timeline, results)
    run.findings.extend(worker_findings(joined.failures, index))
    return list(joined.calls)


def call_step(run: CallStepRun, index: int, step: CallStep, label: str = "") -> list[StepResult]:
    """Place the step's calls and make a result of each (``label`` prefixes their names)."""
    from sipprobe.run.manycalls import unplaced_call
    from sipprobe.signalling.call import CallPlan, place_calls

    scenario = run.scenario
    uri = call_uri(scenario, step.to)
    count = step.parallel
    many = f"{count} calls" if count > 1 else "call"
    run.say(f"step {index + 1}: {many} {uri} for {step.duration_s:g} s")
    plan = CallPlan(
        uri=uri,
        duration_s=step.duration_s,
        answer_timeout_s=step.answer_timeout_s,
        expect_status=step.expect_status,
        dtmf=step.dtmf,
        dtmf_method=step.dtmf_method,
        hold_s=step.hold_s,
        hold_mode=step.hold_mode,
        session_expires_s=step.session_expires_s,
        session_timer=step.session_timer,
    )
    if scenario.media_file:
        plan = replace(plan, media_file=scenario.media_file)
    outcomes: list[Any] = (
        calls_in_workers(run, index, uri, step)
        if count > MAX_CALLS
        else place_calls(
            run.stack,
            run.account_of(step.caller)[0],
            plan,
            count,
            lambda text: run.say(f"step {index + 1}: {text}"),
        )
    )
    timeline = run.timeline.snapshot()
    spec = run.account_of(step.caller)[1]
    credentials = (
        describe_source(spec.password_env, spec.password_file)
        if spec and spec.has_password
        else None
    )
    results = []
    for number, outcome in enumerate(outcomes):
        name = f"{label}call {uri}" + (f" [{number + 1}/{count}]" if count > 1 else "")
        if outcome is None:
            results.append(unplaced_call(index + number, name, step, scenario.srtp, credentials))
            continue
        # What the far end's 2xx says: its RTP marking, the INVITE as it arrived (nat/answer.py)
        call = with_far_end_answer(outcome.result, [timeline[i] for i in outcome.events])
        # An answer the probe could not use (or had to end itself) is no working call.
        torn_down = call.answered and (
            call.unusable_answer is not None or call.local_disconnect is not None
        )
        timings = {
            name: value
            for name, value in (
                ("trying", call.trying_ms),
                ("pdd", call.pdd_ms),
                ("answer", call.answer_ms),
                ("bye", call.bye_ms),
            )
            if value is not None
        }
        origin = outcome.origin if outcome.origin in ("network", "local") else "none"
        results.append(
            StepResult(
                index=index + number,
                kind="call",
                name=name,
                ok=call.status_code == step.expect_status and origin == "network" and not torn_down,
                status_code=call.status_code if origin == "network" else None,
                reason=call.reason,
                origin=origin,  # type: ignore[arg-type]
                timings_ms=timings,
                detail=CallDetail(
                    duration_s=step.duration_s,
                    expect_dscp=step.expect_dscp,
                    srtp=scenario.srtp,
                    timed_out=outcome.timed_out,
                    credentials=credentials,
                ),
                expected_status=step.expect_status,
                reachable=any(timeline[i].direction == "rx" for i in outcome.events),
                call=call,
                events=outcome.events,
            )
        )
    return results
