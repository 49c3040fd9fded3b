"""A call step with more calls than one SIP stack holds: the workers' results joined into the run.

Each worker's timeline counts time from its own start on the machine's monotonic clock (the
same clock in every process), so its messages are re-timed against the run's timeline, put in
time order with the other workers' messages, and re-indexed; each call's message indexes
follow. Calls of a worker that failed become results without a call, and one finding per
worker says why they were not measured.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import Finding, StepResult
from sipprobe.model.steps import CallDetail
from sipprobe.run.crossing import WorkerCall
from sipprobe.run.workers import WorkerResult, WorkerSpec
from sipprobe.scenario.model import CallStep, Scenario
from sipprobe.signalling.timeline import Timeline


@dataclass(frozen=True, slots=True)
class JoinedCalls:
    """The step's calls in worker order; None for a call a failed worker did not place."""

    calls: tuple[WorkerCall | None, ...]
    failures: tuple[WorkerResult, ...]


def join_worker_results(timeline: Timeline, results: list[WorkerResult]) -> JoinedCalls:
    pending = [
        (result.report.t0 + event.t_s, result.number, event)
        for result in results
        if result.report is not None
        for event in result.report.events
    ]
    pending.sort(key=lambda item: item[0])
    moved: dict[tuple[int, int], int] = {}
    for at, number, event in pending:
        added = timeline.add(
            event.direction, event.transport, event.peer, event.text.replace("\n", "\r\n"), at
        )
        if added is not None:
            moved[(number, event.index)] = added.index
    calls: list[WorkerCall | None] = []
    for result in results:
        if result.report is None:
            calls.extend([None] * result.count)
            continue
        for call in result.report.calls:
            events = tuple(
                moved[(result.number, i)] for i in call.events if (result.number, i) in moved
            )
            calls.append(replace(call, events=events))
    return JoinedCalls(tuple(calls), tuple(r for r in results if r.failure is not None))


def worker_failure_reason(result: WorkerResult) -> str:
    tail = f" ({result.stderr_tail})" if result.stderr_tail else ""
    return f"probe worker {result.number + 1} {result.failure}{tail}"


def worker_findings(failures: tuple[WorkerResult, ...], step_index: int) -> tuple[Finding, ...]:
    """One finding per failed worker: the probe's own failure, which says nothing about either
    side of the demarc, so it is a warning with side unknown."""
    return tuple(
        Finding(
            severity=Severity.WARNING,
            side=Side.UNKNOWN,
            area="messaging",
            code="probe-worker-failed",
            summary=(
                f"{worker_failure_reason(result)}: its {result.count} calls were not measured "
                "(a failure of the probe, not of the path)"
            ),
            step=step_index,
        )
        for result in failures
    )


def worker_spec(scenario: Scenario, bind_host: str, uri: str, step: CallStep) -> WorkerSpec:
    """What each worker of ``step`` needs; the password stays where the scenario keeps it."""
    spec = scenario.account
    domain = spec.domain if spec else scenario.target.hostport()
    return WorkerSpec(
        transport=scenario.transport,
        bind_host=bind_host,
        codecs=scenario.codecs,
        srtp=scenario.srtp,
        tls_verify=scenario.tls.verify,
        tls_ca_file=scenario.tls.ca_file,
        user=spec.user if spec else "sipprobe",
        domain=domain,
        outbound_proxy=None if domain == scenario.target.hostport() else str(scenario.target),
        auth_user=spec.auth_user if spec else None,
        realm=spec.realm if spec else "*",
        password_env=spec.password_env if spec and spec.has_password else None,
        password_file=spec.password_file if spec and spec.has_password else None,
        uri=uri,
        duration_s=step.duration_s,
        answer_timeout_s=step.answer_timeout_s,
        expect_status=step.expect_status,
        media_file=scenario.media_file or None,
        dtmf=step.dtmf,
        dtmf_method=step.dtmf_method,
        hold_s=step.hold_s,
        hold_mode=step.hold_mode,
        session_expires_s=step.session_expires_s,
        session_timer=step.session_timer,
    )


def unplaced_call(
    index: int, name: str, step: CallStep, srtp: str, credentials: str | None
) -> StepResult:
    """The result of a call whose worker failed before it placed or reported it."""
    return StepResult(
        index=index,
        kind="call",
        name=name,
        ok=False,
        status_code=None,
        reason="not placed: its probe worker failed",
        origin="local",
        timings_ms={},
        detail=CallDetail(
            duration_s=step.duration_s,
            expect_dscp=step.expect_dscp,
            srtp=srtp,
            timed_out=None,
            credentials=credentials,
        ),
        expected_status=step.expect_status,
        reachable=False,
    )
