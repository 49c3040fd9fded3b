"""Named accounts and two-leg calls: the probe calls one of its own accounts and answers.

``accounts: {a: ..., b: ...}`` gives the probe several identities on one SIP stack (one
pjsua2 Account each, the first one is the run's default account). A call step ``to`` a named
account (``call: {from: a, to: b}``) arms account ``b`` to answer, places the call from
``a`` as any call step does, and adds the callee's leg to the call's result: what ``b`` saw
of the INVITE, its answer, and (after the capture is analysed, run/callmedia.py) its streams.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from sipprobe.model.results import StepResult
from sipprobe.scenario.credentials import read_password
from sipprobe.scenario.model import AccountSpec, CallStep, RegisterStep, Scenario
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.uri import parse_uri


class LegsRun(Protocol):
    """What a two-leg call needs of the run (run/runner.py)."""

    scenario: Scenario
    stack: Any  # the SipStack
    timeline: Timeline
    named_accounts: dict[str, Any]

    def calls(self, index: int, step: CallStep, label: str = "") -> list[StepResult]: ...


def create_named_accounts(run: LegsRun, default: Any, expires_s: int) -> dict[str, Any]:
    """A pjsua2 account per named account; the first is ``default`` (already created)."""
    from sipprobe.signalling.account import Credentials, Identity, create_account

    scenario = run.scenario
    target = scenario.target
    registers = any(isinstance(step, RegisterStep) for step in scenario.steps)
    accounts: dict[str, Any] = {}
    for number, (name, spec) in enumerate(scenario.accounts):
        if number == 0:
            accounts[name] = default
            continue
        credentials = None
        if spec.has_password:
            password = read_password(spec.password_env, spec.password_file)
            credentials = Credentials(spec.auth_user, password, spec.realm)
        identity = Identity(
            user=spec.user,
            domain=spec.domain,
            credentials=credentials,
            outbound_proxy=None if spec.domain == target.hostport() else target,
        )
        accounts[name] = create_account(
            run.stack, identity, target if registers else None, expires_s
        )
    return accounts


def callee_uri(run: LegsRun, spec: AccountSpec) -> str:
    """Where a call to a named account goes: its address of record, over the run's transport
    when its domain is the target itself."""
    uri = parse_uri(f"sip:{spec.user}@{spec.domain}")
    if spec.domain == run.scenario.target.hostport():
        uri = uri.with_transport(run.scenario.transport)
    return str(uri)


def two_leg_call(run: LegsRun, index: int, step: CallStep) -> list[StepResult]:
    """Call from ``step.caller`` to ``step.callee``; the callee's account answers."""
    from sipprobe.signalling.answer import callee_leg, expect_call
    from sipprobe.signalling.call import REFERENCE_AUDIO

    assert step.callee is not None and step.caller is not None  # the loader resolved both
    callee_spec = run.scenario.named_account(step.callee)
    expected = expect_call(
        run.stack,
        run.named_accounts[step.callee],
        step.callee,
        run.scenario.media_file or str(REFERENCE_AUDIO),
    )
    try:
        leg_a = replace(step, to=callee_uri(run, callee_spec), callee=None)
        results = run.calls(index, leg_a, label=f"{step.caller} -> {step.callee}: ")
    finally:
        expected.stop()
    timeline = run.timeline.snapshot()
    joined = []
    for result in results:
        call = result.call
        if call is None:
            joined.append(result)
            continue
        first_invite = next(
            (
                timeline[i].t_s
                for i in result.events
                if timeline[i].method == "INVITE" and timeline[i].direction == "tx"
            ),
            None,
        )
        leg_b = callee_leg(expected, first_invite)
        joined.append(replace(result, call=replace(call, callee=leg_b)))
    return joined
