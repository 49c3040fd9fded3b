"""Scheduled checks end to end against the responder: baselines, repeats, many targets.

Every test runs the real `sipprobe` command and gives it a history file of its own.
"""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lab.environment import require_lab
from lab.ports import free_port, is_listening
from lab.probe import run_probe
from lab.responder import Responder
from sipprobe.run.fanout import run_child

# The soak goal is 200 rounds. A round takes 0.3-0.37 s here (a 0.1 s call, plus starting
# and stopping the SIP stack and the capture), so 120 keep the test under a minute. By hand,
# 200 rounds showed 6 fds, 2 threads and 59.1 MiB RSS both at round 10 and at round 200.
SOAK_ROUNDS = 120
_ROUND = re.compile(
    r"^sipprobe: round (\d+)/\d+: .*: exit (\d) \(\w+\); "
    r"process (\d+) fds, (\d+) threads, ([\d.]+) MiB RSS$"
)


def scenario(tmp_path: Path, target: str, call_s: float = 1.0, name: str = "check") -> str:
    path = tmp_path / f"{name}.yaml"
    steps = "  - options: {timeout_s: 2}\n"
    if call_s:
        steps += f"  - call: {{to: echo, duration_s: {call_s}, answer_timeout_s: 4}}\n"
    path.write_text(f"name: {name}\nservice: hosted-pbx\ntarget: {target}\nsteps:\n{steps}")
    return str(path)


def sipprobe(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sipprobe", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def reports(stdout: str) -> Iterator[dict[str, Any]]:
    """The JSON reports of a stream, one per run; a cut-off last one is left out."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(stdout) and stdout[position].isspace():
            position += 1
        if position == len(stdout):
            return
        try:
            report, position = decoder.raw_decode(stdout, position)
        except json.JSONDecodeError:
            return
        yield report


def history_runs(path: Path, *filters: str) -> list[dict[str, Any]]:
    result = sipprobe("history", "--history", str(path), "--format", "json", *filters)
    assert result.returncode == 0, result.stderr
    runs: list[dict[str, Any]] = json.loads(result.stdout)["runs"]
    return runs


def test_history_regression_against_baseline_after_five_good_runs(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    require_lab(root=True)
    history = tmp_path / "history.sqlite3"
    steady = responder_factory(ring_ms=50)
    check = scenario(tmp_path, f"sip:127.0.0.1:{steady.port}")
    for number in range(5):
        run = run_probe("run", check, "--history", str(history))
        assert run.returncode == 0, (number, run.report["verdict"], run.stderr)
        assert run.findings("regression") == []
    first = history_runs(history)[0]
    assert first["baseline_status"] == "insufficient-history"
    steady.stop()
    responder_factory(ring_ms=1500, port=steady.port)  # the same target, slower to answer

    slow = run_probe("run", check, "--history", str(history))

    assert slow.returncode == 1, slow.report["verdict"]
    (finding,) = slow.findings("regression")
    assert (finding["severity"], finding["side"], finding["area"]) == (
        "warning",
        "unknown",
        "messaging",
    )
    match = re.fullmatch(
        r"regression against baseline: time to answer (\d+\.\d\d) s against a baseline of "
        r"(\d+\.\d\d) s \(median of 5 earlier good runs; worse than (\d+\.\d\d) s counts\)",
        finding["summary"],
    )
    assert match, finding["summary"]
    value, median, limit = (float(group) for group in match.groups())
    assert value >= 1.5
    assert 0.05 <= median < 0.3
    assert abs(limit - (median + 0.5)) <= 0.011  # the floor: a steady history has a tiny MAD
    assert slow.report["verdict"]["messaging"] == "degraded"
    assert [f["code"] for f in slow.report["verdict"]["findings"]] == ["regression"]
    runs = history_runs(history, "--scenario", "check")
    assert [r["exit_code"] for r in runs] == [0, 0, 0, 0, 0, 1]
    assert runs[-1]["findings"] == ["regression"]
    assert runs[-1]["calls"][0]["answer_ms"] >= 1500


def test_history_soak_repeated_runs_in_one_process(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    require_lab(root=True)
    responder = responder_factory()
    history = tmp_path / "history.sqlite3"
    check = scenario(tmp_path, f"sip:127.0.0.1:{responder.port}", call_s=0.1)
    started = time.monotonic()
    result = sipprobe(
        "run", check, "--every", "1ms", "--count", str(SOAK_ROUNDS), "--history", str(history),
        "--format", "json", timeout=240,
    )  # fmt: skip
    wall = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    rounds = {int(m[1]): m.groups() for m in map(_ROUND.match, result.stderr.splitlines()) if m}
    assert sorted(rounds) == list(range(1, SOAK_ROUNDS + 1)), result.stderr[-2000:]
    assert {r[1] for r in rounds.values()} == {"0"}
    at_10, at_end = (
        (int(rounds[n][2]), int(rounds[n][3]), float(rounds[n][4])) for n in (10, SOAK_ROUNDS)
    )
    print(f"soak: {SOAK_ROUNDS} runs in {wall:.1f} s")
    print(f"soak: round 10: {at_10[0]} fds, {at_10[1]} threads, {at_10[2]} MiB RSS")
    print(f"soak: round {SOAK_ROUNDS}: {at_end[0]} fds, {at_end[1]} threads, {at_end[2]} MiB RSS")
    assert at_end[0] <= at_10[0] + 1, (at_10, at_end)
    assert at_end[1] <= at_10[1], (at_10, at_end)
    assert at_end[2] <= at_10[2] + 4.0, (at_10, at_end)
    assert len(list(reports(result.stdout))) == SOAK_ROUNDS
    assert len(history_runs(history)) == SOAK_ROUNDS


def test_history_many_targets_one_failing_does_not_stop_the_others(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    require_lab(root=True)
    first, second = responder_factory(), responder_factory()
    silent = free_port()  # nothing listens here
    targets = tmp_path / "targets"
    targets.write_text(
        f"# lab targets\nsip:127.0.0.1:{first.port}\nsip:127.0.0.1:{silent}\n"
        f"sip:127.0.0.1:{second.port}\n"
    )
    history = tmp_path / "history.sqlite3"
    check = scenario(tmp_path, "sip:192.0.2.1:5060")  # the targets file overrides this
    result = sipprobe(
        "run", check, "--targets", str(targets), "--concurrency", "3", "--every", "1ms",
        "--count", "2", "--history", str(history), "--format", "json", "--out",
        str(tmp_path / "evidence"),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    by_target: dict[str, list[int]] = {}
    for report in reports(result.stdout):
        by_target.setdefault(report["target"], []).append(report["exit_code"])
    assert by_target == {
        f"sip:127.0.0.1:{first.port}": [0, 0],
        f"sip:127.0.0.1:{second.port}": [0, 0],
        f"sip:127.0.0.1:{silent}": [2, 2],
    }
    lines = result.stderr.splitlines()
    assert f"sipprobe: sip:127.0.0.1:{silent}: exit 2 (CRITICAL)" in "\n".join(lines)
    assert sum(line.startswith("sipprobe: round ") for line in lines) == 2
    assert "round 2/2: 3 targets, worst exit 2 (CRITICAL)" in result.stderr
    assert len(history_runs(history)) == 6
    folders = sorted(p.name for p in (tmp_path / "evidence").iterdir())
    assert len(folders) == 6
    assert all((tmp_path / "evidence" / f / "report.json").is_file() for f in folders)


def test_history_every_stops_on_sigterm_after_the_run_under_way(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    require_lab(root=True)
    responder = responder_factory()
    history = tmp_path / "history.sqlite3"
    check = scenario(tmp_path, f"sip:127.0.0.1:{responder.port}", call_s=0)
    process = subprocess.Popen(
        [sys.executable, "-m", "sipprobe", "run", check, "--every", "1h", "--history",
         str(history), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # the first round has ended; now it waits an hour
        assert line.startswith("sipprobe: round 1: "), line
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert len(list(reports(stdout))) == 1
    assert len(history_runs(history)) == 1


def test_history_sigkill_while_recording_keeps_every_earlier_run(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    require_lab(root=True)
    responder = responder_factory()
    history = tmp_path / "history.sqlite3"
    check = scenario(tmp_path, f"sip:127.0.0.1:{responder.port}", call_s=0)
    for kill_after_s in (0.7, 1.1, 1.5):
        before = len(history_runs(history)) if history.exists() else 0
        process = subprocess.Popen(
            [sys.executable, "-m", "sipprobe", "run", check, "--every", "1ms", "--history",
             str(history), "--format", "json", "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        time.sleep(kill_after_s)
        os.kill(process.pid, signal.SIGKILL)
        stdout, _ = process.communicate(timeout=10)
        reported = len(list(reports(stdout)))
        with sqlite3.connect(history) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            orphans = db.execute(
                "SELECT count(*) FROM steps WHERE run_id NOT IN (SELECT id FROM runs)"
            ).fetchone()
        assert orphans == (0,)
        recorded = len(history_runs(history)) - before
        # Each report is printed after its run is recorded: every reported run is there, and
        # at most the one recorded just before the kill was not reported yet.
        assert reported > 0
        assert reported <= recorded <= reported + 1, (kill_after_s, reported, recorded)


def test_history_child_past_its_time_bound_is_stopped_and_unknown() -> None:
    require_lab(root=True)
    port = free_port()
    started = time.monotonic()
    # A responder never ends by itself: it stands for a child that hangs.
    child = run_child("sip:hung", ["responder", "--listen", f"127.0.0.1:{port}"], 3.0)
    assert 3.0 <= time.monotonic() - started < 10.0
    assert (child.exit_code, child.note) == (3, "no result within 3 s: the run was stopped")
    assert "ready sip:responder@127.0.0.1" in child.stdout
    assert not is_listening("udp", "127.0.0.1", port)
