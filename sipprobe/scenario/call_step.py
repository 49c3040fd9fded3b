"""The ``call`` step of a scenario: ``call: {to: echo, duration_s: 5}`` with its expected
status and DSCP, ``parallel`` calls, ``from`` an account, DTMF, hold and session timers.

Parsed here with the loader's reader (scenario/reader.py), as answer_step.py is for ``answer``;
``from`` and a ``to`` naming an account are checked against ``accounts:`` by accounts.py.
"""

from __future__ import annotations

from typing import cast

import yaml

from sipprobe.model.dtmf import DTMF_METHODS, DtmfMethod, dtmf_problem
from sipprobe.model.hold import HOLD_MODES, HoldMode, hold_duration_problem
from sipprobe.model.limits import MAX_PARALLEL_CALLS
from sipprobe.model.session_timer import MIN_SE_S, TIMER_USES, TimerUse
from sipprobe.scenario.model import CallStep
from sipprobe.scenario.reader import Fields, Reader, optional

CALL_KEYS = (
    *("to", "duration_s", "answer_timeout_s", "expect", "expect_dscp", "parallel"),
    *("from", "dtmf", "dtmf_method", "hold_s", "hold_mode"),
    *("session_expires_s", "session_timer"),
)


def parse_call_step(reader: Reader, fields: Fields, key: str) -> CallStep:
    def num(name: str, low: float, high: float, default: float) -> float:
        return optional(
            fields, name, lambda n: reader.number(n, f"{key}.{name}", low, high), default
        )

    expect = optional(fields, "expect", lambda n: reader.integer(n, f"{key}.expect", 200, 699), 200)
    dtmf, dtmf_method = _dtmf(reader, fields, key)
    parallel = optional(
        fields,
        "parallel",
        lambda n: reader.integer(n, f"{key}.parallel", 1, MAX_PARALLEL_CALLS),
        1,
    )
    duration_s = num("duration_s", 0, 86400, 5.0)
    hold_s = num("hold_s", 0, 3600, 0.0)
    problem = hold_duration_problem(hold_s, duration_s, dtmf) if hold_s > 0 else None
    if problem:
        raise reader.fail(fields["hold_s"][1], f"{key}.hold_s", problem)
    return CallStep(
        to=optional(fields, "to", lambda n: reader.text(n, f"{key}.to", numbers=True), "echo"),
        duration_s=duration_s,
        answer_timeout_s=num("answer_timeout_s", 0.1, 600, 30.0),
        expect_status=expect,
        parallel=parallel,
        expect_dscp=_dscp(reader, fields["expect_dscp"][1], key)
        if "expect_dscp" in fields
        else None,
        caller=optional(fields, "from", lambda n: reader.text(n, f"{key}.from"), None),
        dtmf=dtmf,
        dtmf_method=dtmf_method,
        hold_s=hold_s,
        hold_mode=cast(
            HoldMode,
            optional(
                fields,
                "hold_mode",
                lambda n: reader.choice(n, f"{key}.hold_mode", HOLD_MODES),
                "sendonly",
            ),
        ),
        session_expires_s=optional(
            fields,
            "session_expires_s",
            lambda n: reader.integer(n, f"{key}.session_expires_s", MIN_SE_S, 86400),
            None,
        ),
        session_timer=cast(
            TimerUse,
            optional(
                fields,
                "session_timer",
                lambda n: reader.choice(n, f"{key}.session_timer", TIMER_USES),
                "optional",
            ),
        ),
    )


def _dscp(reader: Reader, node: yaml.Node, key: str) -> int | None:
    """``expect_dscp``: a DSCP value 0-63, or null/none when the far end's marking is not known."""
    if isinstance(node, yaml.ScalarNode) and str(node.value).lower() in ("null", "none", "~"):
        return None
    return reader.integer(node, f"{key}.expect_dscp", 0, 63)


def _dtmf(reader: Reader, fields: Fields, key: str) -> tuple[str, DtmfMethod]:
    dtmf = optional(fields, "dtmf", lambda n: reader.text(n, f"{key}.dtmf", numbers=True), "")
    if "dtmf" in fields:
        problem = dtmf_problem(dtmf)
        if problem:
            raise reader.fail(fields["dtmf"][1], f"{key}.dtmf", problem)
    method = optional(
        fields,
        "dtmf_method",
        lambda n: reader.choice(n, f"{key}.dtmf_method", DTMF_METHODS),
        "rfc4733",
    )
    return dtmf, method  # type: ignore[return-value]
