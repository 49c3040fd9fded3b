"""Scenario validation: every error names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipprobe.errors import ScenarioError
from sipprobe.scenario.loader import load_scenario, parse_scenario
from sipprobe.scenario.model import CallStep, OptionsStep, RegisterStep, WaitStep

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
name: t
service: sip-trunk
target: sip:${HOST}:5080
transport: tcp
account:
  user: "0101"
  password_env: PW
codecs: [PCMA]
steps:
  - options
  - register: {expires_s: 60}
  - call: {to: echo, duration_s: 2.5, expect: 486}
  - wait: 1
"""


def test_parse_scenario_good() -> None:
    scenario = parse_scenario(GOOD, "t.yaml", {"HOST": "127.0.0.1"})
    assert str(scenario.target) == "sip:127.0.0.1:5080;transport=tcp"
    assert scenario.transport == "tcp"
    assert scenario.account is not None
    assert (scenario.account.user, scenario.account.domain) == ("0101", "127.0.0.1")
    assert scenario.codecs == ("PCMA",)
    assert scenario.steps == (
        OptionsStep(),
        RegisterStep(expires_s=60),
        CallStep(to="echo", duration_s=2.5, expect_status=486),
        WaitStep(seconds=1.0),
    )
    assert scenario.step_lines == (10, 11, 12, 13)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("target: sip:h\nsteps:\n  - dance: {}\n", "t.yaml:3: steps[0]: unknown step 'dance'"),
        (
            "target: sip:h\nsteps: [call: {duration_s: ten}]\n",
            "t.yaml:2: steps[0].call.duration_s: expected a number, got 'ten'",
        ),
        (
            "target: sip:h\nsteps:\n  - call:\n      colour: red\n",
            "t.yaml:4: steps[0].call.colour: unknown key",
        ),
        ("target: sip:h\nsteps: [options]\nbogus: 1\n", "t.yaml:3: bogus: unknown key"),
        ("steps: [options]\n", "t.yaml:1: target: required key is missing"),
        (
            "target: sip:h\nsteps: [options]\ntransport: sctp\n",
            "t.yaml:3: transport: 'sctp' is not one of: udp, tcp, tls",
        ),
        (
            "target: sip:h\nsteps:\n  - options: {timeout_s: 0}\n",
            "t.yaml:3: steps[0].options.timeout_s: 0 is out of range",
        ),
        (
            "target: ${NOPE_NOT_SET}\nsteps: [options]\n",
            "t.yaml:1: target: variable ${NOPE_NOT_SET} is not set",
        ),
        (
            "target: sip:h\nsteps: [options]\naccount: {user: a, password_env: A, "
            "password_file: B}\n",
            "t.yaml:3: account: give password_env or password_file",
        ),
        ("target: [unclosed\n", "t.yaml:2: invalid YAML"),
        ("", "t.yaml: the file is empty"),
        ("target: 'sip:'\nsteps: [options]\n", "t.yaml:1: target: not a SIP URI"),
    ],
)
def test_parse_scenario_errors_name_file_line_key(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "t.yaml", {})
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_variable_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPPROBE_TEST_PORT", "5099")
    scenario = parse_scenario(
        "target: sip:h:${SIPPROBE_TEST_PORT}\nsteps:\n  - call: {duration_s: '${D:-3}'}\n",
        "t.yaml",
        {},
    )
    assert scenario.target.port == 5099
    assert scenario.steps == (CallStep(duration_s=3.0),)
    plain = parse_scenario(
        "target: sip:h\nsteps:\n  - call:\n      duration_s: ${D:-3}\n", "t.yaml", {}
    )
    assert plain.steps == (CallStep(duration_s=3.0),)


def test_load_scenario_missing_file() -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario("/nonexistent/x.yaml")


@pytest.mark.parametrize("name", ["demo.yaml", "hosted-pbx.yaml", "sip-trunk.yaml"])
def test_shipped_scenarios_load(name: str) -> None:
    variables = {
        "PBX": "pbx.example",
        "EXT": "1001",
        "SBC": "sbc.example",
        "TRUNK_USER": "t",
        "DIAL": "+15550100",
    }
    scenario = load_scenario(str(REPO / "scenarios" / name), variables)
    assert scenario.steps
    assert scenario.service in ("hosted-pbx", "sip-trunk")
