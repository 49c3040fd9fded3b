"""The ``answer`` step of a scenario: ``answer: {account: b, timeout_s: 60, duration_s: 10}``,
optionally with ``expect_from`` and ``expect_to`` (regular expressions the call should match).

Parsed here, as call_step.py is for ``call``, with the loader's reader (scenario/reader.py:
every error names the file, the line and the key). ``account`` is checked against
``accounts:`` by accounts.py, as the other steps' accounts are.
"""

from __future__ import annotations

import re

from sipprobe.scenario.model import AnswerStep
from sipprobe.scenario.reader import Fields, Reader

ANSWER_KEYS = ("account", "timeout_s", "duration_s", "expect_from", "expect_to")
MAX_WAIT_S = 3600.0  # an hour of waiting for a call is already a long ticket


def _pattern(reader: Reader, fields: Fields, name: str, key: str) -> str | None:
    """A regular expression, checked now so that a typo is a file:line error, not a crash."""
    if name not in fields:
        return None
    node = fields[name][1]
    pattern = reader.text(node, f"{key}.{name}", numbers=True)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise reader.fail(node, f"{key}.{name}", f"not a regular expression: {exc}") from exc
    return pattern


def parse_answer_step(reader: Reader, fields: Fields, key: str) -> AnswerStep:
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
    return AnswerStep(
        account=account,
        timeout_s=timeout,
        duration_s=duration,
        expect_from=_pattern(reader, fields, "expect_from", key),
        expect_to=_pattern(reader, fields, "expect_to", key),
    )
