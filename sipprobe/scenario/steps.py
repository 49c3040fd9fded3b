"""The ``steps:`` list of a scenario and the small steps: ``options``, ``register``,
``wait``, ``capacity`` and ``nat_check``. The bigger steps have their own modules
(call_step.py, answer_step.py); every step is read with the loader's reader (reader.py).
"""

from __future__ import annotations

import yaml

from sipprobe.errors import UsageError
from sipprobe.model.limits import MAX_PARALLEL_CALLS
from sipprobe.scenario.answer_step import ANSWER_KEYS, parse_answer_step
from sipprobe.scenario.call_step import CALL_KEYS, parse_call_step
from sipprobe.scenario.model import (
    STEP_KINDS,
    CapacityTestStep,
    NatCheckStep,
    OptionsStep,
    RegisterStep,
    Step,
    WaitStep,
)
from sipprobe.scenario.reader import Fields, Reader, optional
from sipprobe.sip.uri import parse_uri


def parse_steps(reader: Reader, node: yaml.Node) -> tuple[tuple[Step, ...], tuple[int | None, ...]]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise reader.fail(node, "steps", "expected a non-empty list of steps")
    steps: list[Step] = []
    lines: list[int | None] = []
    for index, item in enumerate(node.value):
        key = f"steps[{index}]"
        if isinstance(item, yaml.ScalarNode):  # "- options": the step with its defaults
            kind, body = str(item.value), None
        elif isinstance(item, yaml.MappingNode) and len(item.value) == 1:
            kind, body = str(item.value[0][0].value), item.value[0][1]
        else:
            raise reader.fail(item, key, "a step is one key, e.g. '- call: {to: echo}'")
        if kind not in STEP_KINDS:
            raise reader.fail(
                item, key, f"unknown step {kind!r} (expected one of: {', '.join(STEP_KINDS)})"
            )
        steps.append(_step(reader, kind, body, f"{key}.{kind}"))
        lines.append(item.start_mark.line + 1)
    return tuple(steps), tuple(lines)


def _step(reader: Reader, kind: str, body: yaml.Node | None, key: str) -> Step:
    if body is not None and isinstance(body, yaml.ScalarNode) and body.value in ("", "~", "null"):
        body = None
    if kind == "wait" and isinstance(body, yaml.ScalarNode):
        return WaitStep(seconds=reader.number(body, key, 0, 3600))
    fields: Fields = {}
    allowed = {
        "options": ("timeout_s", "uri"),
        "register": ("expires_s", "timeout_s", "account"),
        "call": CALL_KEYS,
        "wait": ("seconds",),
        "answer": ANSWER_KEYS,
        "capacity": ("to", "channels", "step", "hold_s", "answer_timeout_s"),
        "nat_check": (
            "transports",
            "timeout_s",
            "binding_intervals_s",
            "binding_max_s",
            "keepalive_s",
        ),
    }[kind]
    if body is not None:
        fields = reader.mapping(body, key, allowed)

    def num(name: str, low: float, high: float, default: float) -> float:
        return optional(
            fields, name, lambda n: reader.number(n, f"{key}.{name}", low, high), default
        )

    if kind == "options":
        uri = None
        if "uri" in fields:
            uri_node = fields["uri"][1]
            try:
                uri = parse_uri(reader.text(uri_node, f"{key}.uri"))
            except UsageError as exc:
                raise reader.fail(uri_node, f"{key}.uri", str(exc)) from exc
        return OptionsStep(timeout_s=num("timeout_s", 0.1, 120, 5.0), uri=uri)
    if kind == "register":
        expires = optional(
            fields, "expires_s", lambda n: reader.integer(n, f"{key}.expires_s", 1, 86400), 300
        )
        return RegisterStep(
            expires_s=expires,
            timeout_s=num("timeout_s", 0.1, 120, 10.0),
            account=optional(fields, "account", lambda n: reader.text(n, f"{key}.account"), None),
        )
    if kind == "call":
        return parse_call_step(reader, fields, key)
    if kind == "nat_check":
        return _nat_check(reader, fields, key)
    if kind == "answer":
        return parse_answer_step(reader, fields, key)
    if kind == "capacity":
        return _capacity(reader, fields, key)
    return WaitStep(seconds=num("seconds", 0, 3600, 1.0))


def _capacity(reader: Reader, fields: Fields, key: str) -> CapacityTestStep:
    if "channels" not in fields:
        raise reader.fail(None, f"{key}.channels", "the channels the customer bought are needed")
    channels = reader.integer(fields["channels"][1], f"{key}.channels", 1, MAX_PARALLEL_CALLS)
    step = optional(fields, "step", lambda n: reader.integer(n, f"{key}.step", 1, channels), 1)
    return CapacityTestStep(
        channels=channels,
        to=optional(fields, "to", lambda n: reader.text(n, f"{key}.to", numbers=True), "echo"),
        step=step,
        hold_s=optional(
            fields, "hold_s", lambda n: reader.number(n, f"{key}.hold_s", 1, 3600), 10.0
        ),
        answer_timeout_s=optional(
            fields,
            "answer_timeout_s",
            lambda n: reader.number(n, f"{key}.answer_timeout_s", 0.1, 600),
            30.0,
        ),
    )


def _nat_check(reader: Reader, fields: Fields, key: str) -> NatCheckStep:
    default = NatCheckStep()
    transports = default.transports
    if "transports" in fields:
        node = fields["transports"][1]
        transports = reader.text_list(node, f"{key}.transports")
        for name in transports:
            if name not in ("udp", "tcp"):
                raise reader.fail(node, f"{key}.transports", f"{name!r} is not one of: udp, tcp")
    intervals = default.binding_intervals_s
    if "binding_intervals_s" in fields:
        node = fields["binding_intervals_s"][1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise reader.fail(node, f"{key}.binding_intervals_s", "expected a non-empty list")
        intervals = tuple(
            reader.number(item, f"{key}.binding_intervals_s[{i}]", 0.1, 3600)
            for i, item in enumerate(node.value)
        )
    return NatCheckStep(
        transports=transports,
        timeout_s=optional(
            fields, "timeout_s", lambda n: reader.number(n, f"{key}.timeout_s", 0.1, 120), 5.0
        ),
        binding_intervals_s=intervals,
        binding_max_s=optional(
            fields,
            "binding_max_s",
            lambda n: reader.number(n, f"{key}.binding_max_s", 0, 3600),
            default.binding_max_s,
        ),
        keepalive_s=optional(
            fields, "keepalive_s", lambda n: reader.number(n, f"{key}.keepalive_s", 1, 86400), None
        ),
    )
