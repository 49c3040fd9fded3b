"""The ``answer`` step in a scenario: good steps, and bad ones with file, line and key."""

from __future__ import annotations

import pytest

from sipprobe.errors import ScenarioError
from sipprobe.scenario.loader import parse_scenario
from sipprobe.scenario.model import AnswerStep, RegisterStep

TWO_ACCOUNTS = """\
target: sip:pbx.example.com
sip_port: 5070
accounts:
  a: {user: "1001", password_env: PW_A}
  b: {user: "1002", password_env: PW_B}
steps:
  - register: {account: b}
  - answer: {account: b, timeout_s: 30, duration_s: 12.5}
  - answer
  - answer: {expect_from: '^<sip:\\+4420', expect_to: "1002"}
"""


def test_answer_steps_with_and_without_account() -> None:
    scenario = parse_scenario(TWO_ACCOUNTS, "t.yaml", {})
    assert scenario.steps == (
        RegisterStep(account="b"),
        AnswerStep(account="b", timeout_s=30.0, duration_s=12.5),
        AnswerStep(account=None, timeout_s=60.0, duration_s=10.0),
        AnswerStep(expect_from="^<sip:\\+4420", expect_to="1002"),
    )
    assert scenario.sip_port == 5070
    assert scenario.step_lines == (7, 8, 9, 10)
    assert scenario.needs_sip_stack


def test_answer_step_alone_needs_the_sip_stack() -> None:
    scenario = parse_scenario("target: sip:10.0.0.1\nsteps: [answer: {duration_s: 0}]\n", "t", {})
    assert scenario.steps == (AnswerStep(duration_s=0.0),)
    assert scenario.needs_sip_stack
    assert scenario.sip_port == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "target: sip:h\nsteps:\n  - answer: {timeout_s: 0}\n",
            "t.yaml:3: steps[0].answer.timeout_s: 0 is out of range",
        ),
        (
            "target: sip:h\nsteps:\n  - answer: {timeout_s: 3601}\n",
            "t.yaml:3: steps[0].answer.timeout_s: 3601 is out of range",
        ),
        (
            "target: sip:h\nsteps:\n  - options\n  - answer:\n      duration_s: long\n",
            "t.yaml:5: steps[1].answer.duration_s: expected a number, got 'long'",
        ),
        (
            "target: sip:h\nsteps:\n  - answer:\n      expect_pai: alice\n",
            "t.yaml:4: steps[0].answer.expect_pai: unknown key",
        ),
        (
            "target: sip:h\nsteps:\n  - answer: {account: b}\n",
            "t.yaml:3: steps[0].answer.account: no account 'b' (none: add accounts:)",
        ),
        (
            "target: sip:h\naccounts: {a: {user: x}}\nsteps:\n  - answer: {account: c}\n",
            "t.yaml:4: steps[0].answer.account: no account 'c' (a)",
        ),
        (
            "target: sip:h\nsteps:\n  - options\n  - answer:\n      expect_to: '(1002'\n",
            "t.yaml:5: steps[1].answer.expect_to: not a regular expression: missing ), "
            "unterminated subpattern at position 0",
        ),
        (
            "target: sip:h\nsip_port: 70000\nsteps: [answer]\n",
            "t.yaml:2: sip_port: 70000 is out of range",
        ),
    ],
)
def test_bad_answer_steps(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text, "t.yaml", {})
    assert str(error.value).startswith(expected), str(error.value)
