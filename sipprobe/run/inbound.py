"""The ``answer`` step: wait for a call, answer it, hold it, measure it like any call.

Without ``account`` the probe takes calls that arrive at its own address (an IP-authenticated
trunk sends them to a fixed address and port: the scenario's ``bind`` and ``sip_port``);
with one, calls to that account (registered by an earlier ``register`` step). The step's
``CallResult`` is the answered call seen from the probe's side (``rx``: the caller's audio);
its ``AnswerDetail`` says who called and what arrived. SIGINT and SIGTERM end the wait or the
call early, with what was measured, and stop the run after this step.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sipprobe.model.inbound import AnswerDetail
from sipprobe.model.results import StepResult
from sipprobe.scenario.model import AnswerStep, Scenario
from sipprobe.signalling.timeline import Timeline

# The live line a person waiting with a phone in hand looks for (cli/answer.py prints it).
WAITING = "waiting for a call"


class InboundRun(Protocol):
    """What the answer step needs of the run (run/runner.py)."""

    scenario: Scenario
    stack: Any  # the SipStack
    timeline: Timeline
    account: Any
    named_accounts: dict[str, Any]
    results: list[StepResult]

    def say(self, text: str) -> None: ...


@contextmanager
def _stop_on_signals() -> Iterator[Callable[[], bool]]:
    """SIGINT and SIGTERM set a flag instead of ending the process, while the block runs
    (only the main thread may set handlers; elsewhere the defaults stay)."""
    stopped = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopped.is_set
        return

    def handler(_number: int, _frame: object) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopped.is_set
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _registered_at(run: InboundRun, account: str | None) -> int | None:
    """The last earlier register step of ``account`` (None: the default account) that
    succeeded, or None (its result is named after the address of record, run/runner.py)."""
    spec = run.scenario.named_account(account) if account else run.scenario.account
    if spec is None:
        return None
    name = f"REGISTER {spec.user}@{spec.domain}"
    found = None
    for result in run.results:
        if result.kind == "register" and result.ok and result.name == name:
            found = result.index
    return found


def answer_step(run: InboundRun, index: int, step: AnswerStep) -> StepResult:
    from sipprobe.signalling.call import REFERENCE_AUDIO
    from sipprobe.signalling.inbound import wait_and_answer
    from sipprobe.signalling.inbound_read import answered_dialog

    if step.account is not None:
        accounts = [run.named_accounts[step.account]]
        spec = run.scenario.named_account(step.account)
        where = f"{spec.user}@{spec.domain} (via {run.stack.local_sip})"
    else:  # any call to the probe's address, whichever account pjsua hands it to
        accounts = [run.account, *(a for a in run.named_accounts.values() if a is not run.account)]
        where = f"{run.stack.local_sip} ({run.scenario.transport.upper()})"
    registered = _registered_at(run, step.account)
    with _stop_on_signals() as stop:  # said once SIGINT/SIGTERM end the wait, not the process
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=step.timeout_s)
        run.say(
            f"step {index + 1}: {WAITING} on {where} until "
            f"{until.strftime('%H:%M:%S')} UTC ({step.timeout_s:g} s)"
        )
        outcome = wait_and_answer(
            run.stack,
            accounts,
            run.scenario.media_file or str(REFERENCE_AUDIO),
            step.timeout_s,
            step.duration_s,
            stop,
            lambda text: run.say(f"step {index + 1}: {text}"),
        )
    events = list(run.timeline.since(outcome.first_event))
    waited_from = outcome.started - run.timeline.t0
    dialog = answered_dialog(events, waited_from, outcome.rtcp) if outcome.arrived else None
    waited_ms = round((time.monotonic() - outcome.started) * 1000.0, 3)
    if dialog is not None:
        waited_ms = dialog.caller.invite_after_ms
    hangup = None
    if dialog is not None and dialog.call.hangup_by is not None:
        hangup = "caller" if dialog.call.hangup_by == "remote" else "probe"
    detail = AnswerDetail(
        account=step.account,
        listening_on=where,
        timeout_s=step.timeout_s,
        duration_s=step.duration_s,
        waited_ms=waited_ms,
        caller=dialog.caller if dialog is not None else None,
        hangup_by=hangup,
        interrupted=outcome.interrupted,
        error="; ".join(outcome.errors) or None,
        registered_at_step=registered,
        expect_from=step.expect_from,
        expect_to=step.expect_to,
    )
    if dialog is None:
        why = "interrupted" if outcome.interrupted else f"no call within {step.timeout_s:g} s"
        return StepResult(
            index=index,
            kind="answer",
            name=f"answer on {where}",
            ok=False,
            status_code=None,
            reason=why,
            origin="none",
            timings_ms={"waited": waited_ms},
            detail=detail,
        )
    call = dialog.call
    caller = dialog.caller
    timings = {"invite_after": caller.invite_after_ms}
    for name, value in (
        ("ringing_sent", caller.ringing_sent_ms),
        ("answered_sent", caller.answered_sent_ms),
        ("ack_after", caller.ack_after_ms),
    ):
        if value is not None:
            timings[name] = value
    return StepResult(
        index=index,
        kind="answer",
        name=f"answer on {where}",
        ok=call.answered and detail.error is None,
        status_code=call.status_code,
        reason=call.reason,
        origin="network",
        timings_ms=timings,
        detail=detail,
        expected_status=200,
        reachable=True,
        call=call,
        events=dialog.events,
    )
