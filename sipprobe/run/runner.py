"""Runs a scenario's steps in order and collects what each one measured.

A step that fails at the network is a result, not an error: the run goes on and the verdict
weighs it. A local failure (the stack cannot start, a callback broke) stops the run, but the
steps already measured are kept in the report. The steps with more to them live beside
this module (the call step in callstep.py, two legs in legs.py, answer in inbound.py,
capacity in capacitystep.py); assemble.py makes the report of what the run measured.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sipprobe.errors import SipProbeError
from sipprobe.model.capacity import step_sizes
from sipprobe.model.endpoint import Endpoint
from sipprobe.model.limits import MAX_CALLS, RTP_PORT_SPAN
from sipprobe.model.results import Finding, RunReport, SipEvent, StepResult
from sipprobe.model.steps import OptionsDetail, RegisterDetail, WaitDetail
from sipprobe.run.assemble import assemble_report
from sipprobe.run.callstep import call_step
from sipprobe.run.capture import RunCapture, choose_rtp_base
from sipprobe.run.workers import WorkerPorts, plan_worker_ports, workers_needed
from sipprobe.scenario.credentials import describe_source, read_password
from sipprobe.scenario.model import (
    AccountSpec,
    AnswerStep,
    CallStep,
    CapacityTestStep,
    NatCheckStep,
    OptionsStep,
    RegisterStep,
    Scenario,
    WaitStep,
)
from sipprobe.signalling.options import TlsSettings, send_options
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.contact import contact_binding

Progress = Callable[[str], None]


class _Run:
    """State of one run: the timeline, the SIP stack when needed, the results so far."""

    def __init__(self, scenario: Scenario, progress: Progress) -> None:
        self.scenario = scenario
        self.progress = progress
        self.timeline = Timeline(time.monotonic)
        self.results: list[StepResult] = []
        self.local_errors: list[str] = []
        self.findings: list[Finding] = []  # from outside the steps: failed call workers
        self.worker_ports = WorkerPorts((), ())
        self.stack: Any = None
        self.account: Any = None
        self.named_accounts: dict[str, Any] = {}  # ``accounts:`` by name (run/legs.py)
        self.registered: set[str | None] = set()  # accounts registered (None: the default)
        self.capture: RunCapture | None = None
        self.tls = TlsSettings(verify=scenario.tls.verify, ca_file=scenario.tls.ca_file)

    def say(self, text: str) -> None:
        self.progress(text)

    # -- the SIP stack, started only when a step needs it ----------------------------------
    def start_stack(self, exits: ExitStack) -> None:
        from sipprobe.signalling.account import (
            Credentials,
            Identity,
            create_account,
            media_bind_address,
        )
        from sipprobe.signalling.stack import SipStack, StackSettings, local_address_towards

        scenario = self.scenario
        target = scenario.target
        bind = scenario.bind or local_address_towards(
            target.host, target.effective_port(scenario.transport), target.is_ipv6
        )
        settings = StackSettings(
            transport=scenario.transport,
            ipv6=":" in bind,
            bind_host=bind,
            rtp_port=choose_rtp_base(media_bind_address(bind)),
            tls=self.tls,
            codecs=scenario.codecs,
            srtp=scenario.srtp,
            sip_port=scenario.sip_port,
        )
        credentials = None
        spec = scenario.account
        if spec is not None and spec.has_password:
            password = read_password(spec.password_env, spec.password_file)
            credentials = Credentials(spec.auth_user, password, spec.realm)
        domain = spec.domain if spec else target.hostport()
        identity = Identity(
            user=spec.user if spec else "sipprobe",
            domain=domain,
            credentials=credentials,
            outbound_proxy=None if domain == target.hostport() else target,
        )
        self.stack = exits.enter_context(SipStack(settings, self.timeline))
        self.plan_workers(settings.bind_host, media_bind_address(bind))
        has_register = any(isinstance(step, RegisterStep) for step in scenario.steps)
        expires = next((s.expires_s for s in scenario.steps if isinstance(s, RegisterStep)), 300)
        self.account = create_account(
            self.stack, identity, target if has_register else None, expires
        )
        if scenario.accounts:
            from sipprobe.run.legs import create_named_accounts

            self.named_accounts = create_named_accounts(self, self.account, expires)
        self.say(f"SIP stack on {self.stack.local_sip} ({scenario.transport.upper()})")

    def start_capture(self, workdir: Path | None) -> None:
        """Capture the run's SIP and RTP when it has calls (best effort, see runcapture)."""
        if not any(
            isinstance(step, CallStep | CapacityTestStep | AnswerStep)
            for step in self.scenario.steps
        ):
            return
        sip_port = Endpoint.parse(self.stack.local_sip).port or self.stack.settings.sip_port
        call_seconds = sum(
            # a two-leg call is two calls on the probe's side (through a media relay)
            step.parallel
            * (2 if step.callee else 1)
            * (step.answer_timeout_s + step.duration_s + 10.0)
            for step in self.scenario.steps
            if isinstance(step, CallStep)
        ) + sum(
            calls * (step.answer_timeout_s + step.hold_s + 10.0)
            for step in self.scenario.steps
            if isinstance(step, CapacityTestStep)
            for calls in step_sizes(step.channels, step.step)
        )
        # a call that came in is held duration_s; waiting for it adds no packets
        answered = (s.duration_s + 10.0 for s in self.scenario.steps if isinstance(s, AnswerStep))
        call_seconds += sum(answered)
        self.capture = RunCapture.start(
            self.target_address(),
            sip_port,
            self.stack.settings.rtp_port,
            workdir,
            call_seconds,
            also=self.worker_ports.capture_filters,
        )
        if self.capture.error:
            self.say(f"no packet capture: {self.capture.error}")

    def plan_workers(self, sip_host: str, rtp_host: str) -> None:
        """Ports for the call workers of the largest call step, chosen before the capture
        starts, so its filter covers them (run/workers.py)."""
        most = max(
            (
                s.parallel if isinstance(s, CallStep) else s.channels
                for s in self.scenario.steps
                if isinstance(s, CallStep | CapacityTestStep)
            ),
            default=1,
        )
        if most <= MAX_CALLS:
            return
        base = self.stack.settings.rtp_port
        self.worker_ports = plan_worker_ports(
            sip_host,
            rtp_host,
            workers_needed(most),
            self.scenario.transport != "udp",
            range(base, base + RTP_PORT_SPAN + 2) if base else range(0),
        )

    def target_address(self) -> str:
        target = self.scenario.target
        try:
            return str(socket.getaddrinfo(target.host, None)[0][4][0])
        except OSError:
            return target.host

    # -- steps ------------------------------------------------------------------------------
    def options(self, index: int, step: OptionsStep) -> StepResult:
        target = step.uri or self.scenario.target
        self.say(f"step {index + 1}: OPTIONS {target}")
        outcome = send_options(
            target, self.scenario.transport, step.timeout_s, self.timeline, self.tls
        )
        code = outcome.status_code
        return StepResult(
            index=index,
            kind="options",
            name=f"OPTIONS {target}",
            ok=code is not None and 200 <= code < 300,
            status_code=code,
            reason=outcome.reason if code else (outcome.error or ""),
            origin="network" if code else "none",
            timings_ms={"rtt": outcome.rtt_ms} if outcome.rtt_ms is not None else {},
            detail=OptionsDetail(
                server=outcome.server,
                user_agent=outcome.user_agent,
                allow=outcome.allow,
                supported=outcome.supported,
                retransmissions=outcome.retransmissions,
                error=outcome.error,
                timeout_s=step.timeout_s,
            ),
            reachable=outcome.reachable,
            events=outcome.events,
        )

    def register(self, index: int, step: RegisterStep, renew: bool = True) -> StepResult:
        from sipprobe.signalling.account import register

        action = "register" if renew else "unregister"
        account, spec = self.account_of(step.account)
        aor = self.account_aor(spec)
        self.say(f"step {index + 1}: {action.upper()} {aor} at {self.scenario.target}")
        outcome = register(self.stack, account, step.timeout_s, renew=renew)
        ok = outcome.status_code == 200 and outcome.origin == "network"
        if ok and renew:
            self.registered.add(step.account)
        reason = outcome.reason
        if outcome.timed_out:
            reason = f"no final response within {step.timeout_s:g} s"
        timings = {"total": outcome.elapsed_ms}
        if outcome.request_ms is not None:
            timings["request_to_final"] = outcome.request_ms
        return StepResult(
            index=index,
            kind="register",
            name=f"{action.upper()} {aor}",
            ok=ok,
            status_code=outcome.status_code if outcome.origin != "none" else None,
            reason=reason,
            origin="network"
            if outcome.origin == "network"
            else ("local" if outcome.origin == "local" else "none"),
            timings_ms=timings,
            detail=RegisterDetail(
                action="register" if renew else "unregister",
                expires_s=outcome.expires_s,
                requested_expires_s=step.expires_s if renew else 0,
                contacts=tuple(contact_binding(c) for c in outcome.contacts),
                contact_sent=contact_binding(outcome.contact_sent)
                if outcome.contact_sent is not None
                else None,
                challenge=outcome.challenge,
                credentials=describe_source(spec.password_env, spec.password_file)
                if spec and spec.has_password
                else None,
            ),
            reachable=outcome.origin == "network",
            events=outcome.events,
        )

    def account_of(self, name: str | None) -> tuple[Any, AccountSpec | None]:
        """The pjsua2 account and the scenario's spec of a named account (None: the default)."""
        if name is None:
            return self.account, self.scenario.account
        return self.named_accounts[name], self.scenario.named_account(name)

    @staticmethod
    def account_aor(spec: AccountSpec | None) -> str:
        return f"{spec.user}@{spec.domain}" if spec else "sipprobe (no account)"

    def snapshot(self) -> tuple[SipEvent, ...]:
        return self.timeline.snapshot()

    def calls(self, index: int, step: CallStep, label: str = "") -> list[StepResult]:
        """The call step: one call, or ``parallel`` simultaneous ones (a result each)."""
        if step.callee is not None:  # to one of the probe's own accounts: both legs measured
            from sipprobe.run.legs import two_leg_call

            return two_leg_call(self, index, step)
        return call_step(self, index, step, label)

    def nat_check(self, index: int, step: NatCheckStep) -> StepResult:
        from sipprobe.nat.step import nat_check_step

        self.say(f"step {index + 1}: NAT and SIP ALG check of {self.scenario.target}")
        return nat_check_step(index, self.scenario.target, step, self.timeline)

    def wait(self, index: int, step: WaitStep) -> StepResult:
        self.say(f"step {index + 1}: wait {step.seconds:g} s")
        started = time.monotonic()
        if self.stack is not None:
            self.stack.pump(step.seconds)
        else:
            time.sleep(step.seconds)
        return StepResult(
            index=index,
            kind="wait",
            name=f"wait {step.seconds:g} s",
            ok=True,
            status_code=None,
            reason="",
            origin="none",
            timings_ms={"total": round((time.monotonic() - started) * 1000, 3)},
            detail=WaitDetail(step.seconds),
        )

    def unregister_at_end(self) -> None:
        timeout = next(
            (s.timeout_s for s in self.scenario.steps if isinstance(s, RegisterStep)), 10.0
        )
        for name in sorted(self.registered, key=lambda n: n or ""):
            step = RegisterStep(timeout_s=min(timeout, 5.0), account=name)
            self.results.append(self.register(len(self.results), step, renew=False))


def run_scenario(
    scenario: Scenario,
    progress: Progress | None = None,
    workdir: Path | None = None,
    capture: bool = True,
) -> RunReport:
    """Run every step of ``scenario``; never raises for what the target does.

    With ``capture`` the calls' SIP and RTP are captured and measured; the pcap is kept as
    ``workdir/capture.pcap`` when a ``workdir`` is given.
    """
    run = _Run(scenario, progress or (lambda _text: None))
    started_wall = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    with ExitStack() as exits:
        try:
            if scenario.needs_sip_stack:
                run.start_stack(exits)
                if capture:
                    run.start_capture(workdir)
            for step in scenario.steps:
                index = len(run.results)  # a parallel call step adds one result per call
                if isinstance(step, OptionsStep):
                    run.results.append(run.options(index, step))
                elif isinstance(step, RegisterStep):
                    run.results.append(run.register(index, step))
                elif isinstance(step, CallStep):
                    run.results.extend(run.calls(index, step))
                elif isinstance(step, NatCheckStep):
                    run.results.append(run.nat_check(index, step))
                elif isinstance(step, AnswerStep):
                    from sipprobe.run.inbound import answer_step

                    result = answer_step(run, index, step)
                    run.results.append(result)
                    if getattr(result.detail, "interrupted", False):
                        run.local_errors.append(
                            "interrupted (SIGINT or SIGTERM): the run ended after the answer step"
                        )
                        break
                elif isinstance(step, CapacityTestStep):
                    from sipprobe.run.capacitystep import run_capacity_step

                    results, conclusion = run_capacity_step(run, index, step)
                    run.results.extend(results)
                    run.findings.append(conclusion)
                else:
                    run.results.append(run.wait(index, step))
            run.unregister_at_end()
        except SipProbeError as exc:
            if not run.results:
                if run.capture is not None:
                    run.capture.discard()
                raise
            run.local_errors.append(str(exc))
            run.say(f"run stopped early: {exc}")
    return assemble_report(run, started_wall, started)
