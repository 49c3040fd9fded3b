"""Bad input: one line on stderr, exit 3 (UNKNOWN), no traceback, from the real command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest


def sipprobe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sipprobe", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return str(path)


def test_cli_invalid_yaml(tmp_path: Path) -> None:
    result = sipprobe("run", write(tmp_path, "target: [oops\n"))
    assert_one_line_error(result, "s.yaml:2", "invalid YAML")


def test_cli_unknown_step(tmp_path: Path) -> None:
    result = sipprobe("run", write(tmp_path, "target: sip:127.0.0.1\nsteps:\n  - dance\n"))
    assert_one_line_error(result, "s.yaml:3", "steps[0]", "unknown step 'dance'")


def test_cli_missing_password_variable(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        "target: sip:127.0.0.1:5999\naccount: {user: a, password_env: "
        "SIPPROBE_TEST_UNSET}\nsteps: [register]\n",
    )
    assert_one_line_error(sipprobe("run", scenario), "SIPPROBE_TEST_UNSET is not set")


def test_cli_call_password_env_missing() -> None:
    result = sipprobe(
        "call", "sip:echo@127.0.0.1:5999", "--user", "a", "--password-env", "SIPPROBE_TEST_UNSET"
    )
    assert_one_line_error(result, "SIPPROBE_TEST_UNSET")


def test_cli_password_file_missing(tmp_path: Path) -> None:
    result = sipprobe(
        "call", "sip:echo@127.0.0.1:5999", "--user", "a", "--password-file", str(tmp_path / "nope")
    )
    assert_one_line_error(result, "cannot read password file")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), ""),
        (("frobnicate",), "invalid choice"),
        (("options", "sip:"), "not a SIP URI"),
        (("options", "sip:h", "--timeout", "abc"), "invalid float value"),
        (("responder", "--listen", "nowhere"), "--listen takes HOST:PORT"),
        (("run", "/nonexistent.yaml"), "cannot read the file"),
        (("run", "x.yaml", "--var", "novalue"), ""),
        (("call", "sip:h", "--session-expires", "30"), "--session-expires takes 90 to 86400 s"),
        (("call", "sip:h", "--hold-mode", "mute"), "invalid choice"),
    ],
)
def test_cli_usage_errors_exit_unknown(args: tuple[str, ...], fragment: str) -> None:
    result = sipprobe(*args)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_options_closed_port_json_matches_schema(tmp_path: Path) -> None:
    port = closed_udp_port()
    result = sipprobe(
        "options",
        f"sip:127.0.0.1:{port}",
        "--timeout",
        "2",
        "--format",
        "json",
        "--out",
        str(tmp_path / "run"),
    )
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    schema = json.loads(
        resources.files("sipprobe").joinpath("schema/report.schema.json").read_text()
    )
    jsonschema.validate(report, schema)
    assert report["verdict"]["messaging"] == "bad"
    (step,) = report["steps"]
    assert step["kind"] == "options"
    assert step["status_code"] is None
    assert "ICMP port unreachable" in step["reason"]
    assert report["verdict"]["findings"][0]["side"] == "unknown"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "manifest.json",
        "report.html",
        "report.json",
        "report.md",
        "report.txt",
        "sip.log",
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("x: " + "[" * 2000 + "]" * 2000, "nested more than"),
        ("steps:\n  - wait: " + "9" * 4300, "characters long"),
        ("codecs: [0, 8]", "codecs[0]: expected text"),
    ],
)
def test_cli_hostile_scenario_is_one_line(tmp_path: Path, body: str, fragment: str) -> None:
    text = "target: sip:127.0.0.1:5999\n" + body + "\n"
    if not body.startswith("steps"):
        text += "steps: [options]\n"
    assert_one_line_error(sipprobe("run", write(tmp_path, text)), fragment)
