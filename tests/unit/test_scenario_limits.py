"""Hostile or broken scenario files: one ScenarioError each, never another exception."""

from __future__ import annotations

import pytest

from sipprobe.errors import ScenarioError
from sipprobe.scenario.loader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_SCALAR_CHARS,
    parse_scenario,
)

HEAD = "target: sip:127.0.0.1\nsteps: [options]\n"


def _error(text: str, variables: dict[str, str] | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml", variables or {})
    assert "\n" not in str(caught.value)
    return caught.value


def test_scenario_limits_deep_nesting_stops_before_composing() -> None:
    deep = "x: " + "[" * 2000 + "]" * 2000 + "\n"
    error = _error(HEAD + deep)
    assert f"nested more than {MAX_DEPTH} deep" in str(error)
    assert "s.yaml:3" in str(error)


def test_scenario_limits_nesting_at_the_limit_is_only_an_unknown_key() -> None:
    nested = "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert "unknown key" in str(_error(HEAD + nested))


def test_scenario_limits_too_many_values() -> None:
    keys = "".join(f"  k{i}: {i}\n" for i in range(MAX_NODES))
    error = _error(HEAD + "thresholds:\n" + keys)
    assert f"more than {MAX_NODES} values" in str(error)


def test_scenario_limits_file_size() -> None:
    error = _error(HEAD + "name: " + "n" * MAX_FILE_BYTES + "\n")
    assert f"at most {MAX_FILE_BYTES}" in str(error)


def test_scenario_limits_long_value_and_long_substitution() -> None:
    long_name = "name: " + "n" * (MAX_SCALAR_CHARS + 1) + "\n"
    assert "characters long" in str(_error(HEAD + long_name))
    error = _error(HEAD + "name: ${BIG}\n", {"BIG": "b" * (MAX_SCALAR_CHARS + 1)})
    assert "s.yaml:3: name: value is 4097 characters long" in str(error)


@pytest.mark.parametrize(
    "value",
    ["9" * 4300, "9" * 40, "1" + "0" * 33 + ".5", "1e99999"],
)
def test_scenario_limits_huge_numbers(value: str) -> None:
    text = f"target: sip:127.0.0.1\nsteps:\n  - wait: {value}\n"
    message = str(_error(text))
    assert "steps[0].wait" in message or "s.yaml:3" in message


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ("target: 12345\nsteps: [options]\n", "target", "expected text, got a number (12345)"),
        ("target: true\nsteps: [options]\n", "target", "expected text, got a boolean"),
        (HEAD + "codecs: [0, 8]\n", "codecs[0]", "expected text, got a number (0)"),
        (HEAD + "transport: 5\n", "transport", "expected text"),
        (HEAD + "bind: 10\n", "bind", "expected text"),
        (HEAD + "account: {user: alice, realm: 7}\n", "account.realm", "expected text"),
    ],
)
def test_scenario_limits_types_are_checked(line: str, key: str, problem: str) -> None:
    message = str(_error(line))
    assert f": {key}: " in message
    assert problem in message


def test_scenario_limits_numbers_stay_welcome_where_they_are_names() -> None:
    text = (
        "name: 2024\ntarget: sip:127.0.0.1\naccount:\n  user: 1001\n  auth_user: ${ID}\n"
        "steps:\n  - call: {to: 0800123}\n"
    )
    scenario = parse_scenario(text, "s.yaml", {"ID": "0042"})
    assert scenario.name == "2024"
    assert scenario.account is not None
    assert (scenario.account.user, scenario.account.auth_user) == ("1001", "0042")
    assert scenario.steps[0].to == "0800123"  # type: ignore[union-attr]
