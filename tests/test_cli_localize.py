"""--location on the probing commands and sipprobe localize, from the real command line."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from test_cli_errors import assert_one_line_error, sipprobe


def closed_port_target() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"sip:127.0.0.1:{sock.getsockname()[1]}"


def options_report(tmp_path: Path, name: str, location: str, *extra: str) -> Path:
    """A real OPTIONS run against a closed port from ``location``, its JSON in a file."""
    history = extra or ("--no-history",)
    result = sipprobe(
        "options", TARGET, "--timeout", "1", "--location", location, "--format", "json", *history
    )
    assert result.returncode == 2, result.stderr
    path = tmp_path / f"{name}.json"
    path.write_text(result.stdout)
    return path


TARGET = closed_port_target()


def test_cli_location_is_in_the_report_and_names_nobody_for_silence(tmp_path: Path) -> None:
    report = json.loads(options_report(tmp_path, "net", "internet").read_text())
    assert report["location"] == "internet"
    assert report["equipment"] == {
        "phones": "customer",
        "pbx": "customer",
        "qos_device": "none",
        "iad": "none",
    }
    (finding,) = report["verdict"]["findings"]
    assert (finding["side"], finding["responsible"], finding["policy"]) == (
        "unknown",
        "undetermined",
        "undetermined",
    )
    assert report["verdict"]["headline"].startswith("Could not tell whose side: OPTIONS failed")


def test_cli_location_beside_the_platform_makes_silence_the_platforms(tmp_path: Path) -> None:
    report = json.loads(options_report(tmp_path, "p", "platform").read_text())
    (finding,) = report["verdict"]["findings"]
    assert (finding["side"], finding["responsible"], finding["policy"]) == (
        "platform",
        "cleartrunk",
        "sip-trunk.platform",
    )
    assert report["verdict"]["headline"].startswith("ClearTrunk's side: not good (OPTIONS")


def test_cli_location_rejects_an_unknown_place() -> None:
    assert_one_line_error(sipprobe("options", TARGET, "--location", "office"), "invalid choice")


def test_cli_localize_silent_target_from_lan_and_internet_is_the_platform(tmp_path: Path) -> None:
    lan = options_report(tmp_path, "lan", "customer-lan")
    net = options_report(tmp_path, "net", "internet")
    result = sipprobe("localize", str(lan), str(net), "--format", "json")
    assert result.returncode == 2, result.stderr
    output = json.loads(result.stdout)
    assert (output["segment"], output["responsible"]) == ("platform", "cleartrunk")
    assert [r["location"] for r in output["reports"]] == ["customer-lan", "internet"]
    assert sorted(output) == ["reasons", "reports", "responsible", "segment", "summary"]
    text = sipprobe("localize", str(lan), str(net))
    assert text.returncode == 2
    assert text.stdout.splitlines()[0] == (
        f"sipprobe localize {TARGET}: segment platform, responsible cleartrunk"
    )


def test_cli_localize_against_history(tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite3"
    options_report(tmp_path, "net", "internet", "--history", str(history))
    lan = options_report(tmp_path, "lan", "customer-lan")
    result = sipprobe(
        "localize", str(lan), "--against-history", "--history", str(history), "--format", "json"
    )
    assert result.returncode == 2, result.stderr
    output = json.loads(result.stdout)
    assert output["segment"] == "platform"
    assert output["reports"][1]["path"] == f"{history}#run-1"
    assert output["reports"][1]["location"] == "internet"


def test_cli_localize_refusals_are_one_line(tmp_path: Path) -> None:
    lan = options_report(tmp_path, "lan", "customer-lan")
    assert_one_line_error(sipprobe("localize", str(lan)), "two or more locations, got one")
    assert_one_line_error(
        sipprobe("localize", str(lan), str(lan)), "every report was made from customer-lan"
    )
    assert_one_line_error(
        sipprobe("localize", str(lan), str(tmp_path / "none.json")), "cannot read"
    )
    assert_one_line_error(
        sipprobe("localize", str(lan), str(lan), "--max-apart", "soon"), "--max-apart takes"
    )
    history = tmp_path / "empty.sqlite3"
    options_report(tmp_path, "lan2", "customer-lan", "--history", str(history))
    assert_one_line_error(
        sipprobe("localize", str(lan), "--against-history", "--history", str(history)),
        "holds no run of",
    )
    assert_one_line_error(sipprobe("localize"), "the following arguments are required")
