"""The ``answer`` step of a scenario: ``answer: {account: b, timeout_s: 60, duration_s: 10}``.

Parsed here rather than in loader.py, which calls it with its reader (every error names the
file, the line and the key). ``account`` is checked against ``accounts:`` by the loader, as
the other steps' accounts are.
"""

from __future__ import annotations

from typing import Protocol

import yaml

from sipprobe.scenario.model import AnswerStep

ANSWER_KEYS = ("account", "timeout_s", "duration_s")
MAX_WAIT_S = 3600.0  # an hour of waiting for a call is already a long ticket


class Reader(Protocol):
    """What the loader's reader offers (scenario/loader.py)."""

    def number(self, node: yaml.Node, key: str, low: float, high: float) -> float: ...

    def text(self, node: yaml.Node, key: str, numbers: bool = False) -> str: ...


def parse_answer_step(
    reader: Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], key: str
) -> AnswerStep:
    default = AnswerStep()
    timeout = default.timeout_s
    if "timeout_s" in fields:
        timeout = reader.number(fields["timeout_s"][1], f"{key}.timeout_s", 0.1, MAX_WAIT_S)
    duration = default.duration_s
    if "duration_s" in fields:
        duration = reader.number(fields["duration_s"][1], f"{key}.duration_s", 0, 86400)
    account = None
    if "account" in fields:
        account = reader.text(fields["account"][1], f"{key}.account", numbers=True)
    return AnswerStep(account=account, timeout_s=timeout, duration_s=duration)
