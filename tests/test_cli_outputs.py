"""The output options of the real command: formats on stdout, the bundle, the metrics file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def options_to_closed_port(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """An OPTIONS run that ends at once (ICMP port unreachable) with a CRITICAL verdict."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SIPPROBE_")}
    target = f"sip:127.0.0.1:{closed_udp_port()}"
    return subprocess.run(
        [sys.executable, "-m", "sipprobe", "options", target, "--timeout", "2", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=cwd,
        check=False,
    )


def test_cli_format_nagios_status_line_and_exit_code(tmp_path: Path) -> None:
    result = options_to_closed_port("--format", "nagios", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first.startswith("SIPPROBE CRITICAL - messaging bad, media unknown: OPTIONS failed: ")
    assert first.endswith(" | 'options_rtt'=U;;;0")
    assert rest and rest[0].startswith("[critical] unknown: OPTIONS failed")
    assert result.stderr == ""


def test_cli_bundle_zip_and_metrics_file_in_default_places(tmp_path: Path) -> None:
    metrics = tmp_path / "textfile" / "sipprobe.prom"
    metrics.parent.mkdir()
    result = options_to_closed_port(
        "--bundle", "--zip", "--metrics-file", str(metrics), "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    (directory,) = (tmp_path / "sipprobe-runs").glob("*-options")
    assert directory.name.endswith("Z-options")
    zipped = directory.with_name(directory.name + ".zip")
    relative = f"sipprobe-runs/{directory.name}"
    assert result.stderr.strip() == f"evidence: {relative} and {relative}.zip"
    with zipfile.ZipFile(zipped) as archive:
        assert f"{directory.name}/manifest.json" in archive.namelist()
    assert json.loads((directory / "report.json").read_text()) == json.loads(result.stdout)
    assert "sipprobe_exit_code{" in metrics.read_text()
    assert [p.name for p in metrics.parent.iterdir()] == ["sipprobe.prom"]


def test_cli_unwritable_outputs_are_one_line_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for args in (("--out", str(blocker / "run")), ("--metrics-file", str(blocker / "m.prom"))):
        result = options_to_closed_port(*args, "-q", cwd=tmp_path)
        assert result.returncode == 3, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: cannot write the "), line
        assert "Not a directory" in line
