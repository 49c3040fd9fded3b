"""Recording after a run, and the ``history`` command: table, JSON, --since, --plot, errors."""

from __future__ import annotations

import json
import sqlite3
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from history_samples import call, report

from sipprobe.cli import build_parser, main
from sipprobe.cli.history import run_history_command
from sipprobe.history.recording import HistorySettings, check_and_record
from sipprobe.history.store import HistoryStore
from sipprobe.model.results import ExitCode, RunReport


def at(minute: int, pdd_ms: float = 400.0) -> RunReport:
    return report(call(pdd_ms=pdd_ms), started_at=f"2026-11-20T10:{minute:02d}:00.000Z")


def test_recording_off_leaves_the_report_alone() -> None:
    run = report()
    assert check_and_record(run, HistorySettings(None), print) is run


def test_recording_first_runs_have_no_baseline_then_a_regression_is_flagged(
    tmp_path: Path,
) -> None:
    settings = HistorySettings(tmp_path / "h.sqlite3")
    warnings: list[str] = []
    first = check_and_record(at(0), settings, warnings.append)
    assert first.baseline is not None and first.baseline.status == "insufficient-history"
    assert first.verdict.exit_code is ExitCode.OK
    for minute in range(1, 5):
        check_and_record(at(minute), settings, warnings.append)
    slow = check_and_record(at(5, pdd_ms=1900.0), settings, warnings.append)
    assert slow.verdict.exit_code is ExitCode.WARNING
    assert [f.code for f in slow.verdict.findings] == ["regression"]
    assert slow.baseline is not None and slow.baseline.runs == 5
    after = check_and_record(at(6), settings, warnings.append)
    assert after.baseline is not None and after.baseline.runs == 5  # the slow run is no baseline
    assert warnings == []
    assert settings.path is not None
    with HistoryStore.open(settings.path) as store:
        runs = store.runs()
    assert [r.exit_code for r in runs] == [0, 0, 0, 0, 0, 1, 0]
    assert [r.baseline_status for r in runs] == ["insufficient-history"] * 5 + ["compared"] * 2
    assert runs[5].finding_codes == ("regression",)


def test_recording_unopenable_history_warns_and_keeps_the_report(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    warnings: list[str] = []
    run = report()
    checked = check_and_record(run, HistorySettings(blocker / "h.sqlite3"), warnings.append)
    assert checked.verdict == run.verdict
    assert checked.baseline is not None and checked.baseline.status == "unavailable"
    (line,) = warnings
    assert line.startswith("warning: run not recorded in history: cannot open history ")


def test_recording_failed_write_warns_and_keeps_the_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: HistoryStore, run: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(HistoryStore, "record", broken)
    warnings: list[str] = []
    checked = check_and_record(report(), HistorySettings(tmp_path / "h.sqlite3"), warnings.append)
    assert checked.baseline is not None and checked.baseline.status == "insufficient-history"
    assert warnings == [
        f"warning: run not recorded in history {tmp_path / 'h.sqlite3'}: database or disk is full"
    ]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "h.sqlite3"
    settings = HistorySettings(path)
    for minute in range(6):
        check_and_record(at(minute, 2000.0 if minute == 5 else 400.0), settings, print)
    check_and_record(
        replace(report(), scenario="other", started_at="2026-11-19T09:00:00.000Z"), settings, print
    )
    return path


def test_history_text_table(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--history", str(history), "--scenario", "trunk"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "started", "(UTC)", "scenario", "target", "exit", "messaging", "media", "PDD",
        "answer", "rx", "loss", "jitter", "MOS-LQ", "findings",
    ]  # fmt: skip
    assert lines[1].split() == [
        "2026-11-20", "10:00:00", "trunk", "sip:127.0.0.1:5062", "0", "OK", "good", "good",
        "0.40", "s", "0.45", "s", "0.00%", "1.5", "ms", "-", "(no", "baseline", "yet)",
    ]  # fmt: skip
    assert lines[6].split()[4:6] == ["1", "WARNING"]
    assert lines[6].endswith("  regression")
    assert lines[-1] == "6 runs: OK 5, WARNING 1"


def test_history_json_with_since(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(
        ["history", "--history", str(history), "--since", "3m", "--format", "json"]
    )
    now = 1795168800.0 + 5 * 60 + 30  # 2026-11-20T10:05:30Z
    assert run_history_command(args, clock=lambda: now) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["filters"] == {"scenario": None, "target": None, "since": "3m"}
    assert [r["started_at"][11:16] for r in data["runs"]] == ["10:03", "10:04", "10:05"]
    last = data["runs"][-1]
    assert (last["exit_code"], last["findings"], last["baseline_status"]) == (
        1,
        ["regression"],
        "compared",
    )
    assert last["calls"][0]["pdd_ms"] == 2000.0
    assert last["calls"][0]["step_index"] == 1


def test_history_target_filter_normalises_the_uri(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--history", str(history), "--target", "127.0.0.1:5062"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "7 runs: OK 6, WARNING 1"
    assert main(["history", "--history", str(history), "--target", "sip:10.9.9.9"]) == 0
    assert capsys.readouterr().out == "no runs in the history match\n"


def test_history_plot_writes_a_png(history: Path, tmp_path: Path) -> None:
    chart = tmp_path / "trend.png"
    assert (
        main(["history", "--history", str(history), "--plot", str(chart), "--format", "json"]) == 0
    )
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 900)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".trend")] == []


def test_history_missing_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "--history", str(tmp_path / "none.sqlite3")]) == ExitCode.UNKNOWN
    err = capsys.readouterr().err
    assert err.startswith("error: no history at ") and err.count("\n") == 1
    assert not (tmp_path / "none.sqlite3").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["history", "--since", "soon"], "error: --since takes a duration such as 30s"),
        (["run", "s.yaml", "--count", "3"], "error: --count takes a number of rounds"),
        (["run", "s.yaml", "--concurrency", "2"], "error: --concurrency takes a number"),
        (["run", "s.yaml", "--every", "0s"], "error: --every must be longer than zero"),
        (["run", "s.yaml", "--history", "h", "--no-history"], "error: argument --no-history"),
        (["call", "sip:a@b", "--baseline-runs", "4"], "error: --baseline-runs must be at least 5"),
    ],
)
def test_history_and_schedule_usage_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("target: sip:127.0.0.1:9\nsteps: [options]\n")
    argv = [str(scenario) if a == "s.yaml" else a for a in argv]
    assert main(argv) == ExitCode.UNKNOWN
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1
