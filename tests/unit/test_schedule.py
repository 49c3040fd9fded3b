"""Repeated runs and many targets: durations, the grid, exit codes, child command lines."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sipprobe.cli import build_parser
from sipprobe.errors import UsageError
from sipprobe.model.results import ExitCode
from sipprobe.run.fanout import child_argv, kill_tree, read_targets
from sipprobe.run.schedule import (
    footprint,
    next_slot,
    parse_duration,
    repeat,
    retarget,
    time_bound_s,
    worst_exit,
)
from sipprobe.scenario.model import (
    AccountSpec,
    CallStep,
    OptionsStep,
    RegisterStep,
    Scenario,
    WaitStep,
)
from sipprobe.sip.uri import parse_uri


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("12h", 43200), ("7d", 604800), ("1h30m", 5400), ("250ms", 0.25)],
)
def test_schedule_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text, "--every") == seconds


@pytest.mark.parametrize("text", ["", "5", "m5", "5 m", "5w", "-5m", "5m-", "0s"])
def test_schedule_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--since"):
        parse_duration(text, "--since")


def test_schedule_worst_exit_ranks_unknown_between_warning_and_critical() -> None:
    assert worst_exit([]) == ExitCode.OK
    assert worst_exit([0, 1, 0]) == ExitCode.WARNING
    assert worst_exit([1, 3, 0]) == ExitCode.UNKNOWN
    assert worst_exit([3, 2, 1]) == ExitCode.CRITICAL


def test_schedule_next_slot_skips_missed_slots() -> None:
    assert next_slot(100.0, 60.0, 100.5) == 160.0
    assert next_slot(100.0, 60.0, 160.0) == 220.0
    assert next_slot(100.0, 60.0, 290.0) == 340.0  # a round that ran 190 s skips two slots


class FakeTime:
    """A clock that runs only when a round or a wait says so."""

    def __init__(self, round_seconds: list[float]) -> None:
        self.now = 1000.0
        self.round_seconds = round_seconds
        self.starts: list[float] = []
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return False

    def round(self, code: int) -> int:
        self.starts.append(self.now)
        self.now += self.round_seconds[len(self.starts) - 1]
        return code


def test_schedule_repeat_keeps_the_grid_and_returns_the_worst() -> None:
    fake = FakeTime([2.0, 75.0, 1.0, 1.0])
    codes = iter([0, 2, 0, 1])
    result = repeat(lambda n: fake.round(next(codes)), 60.0, 4, fake.clock, fake.wait)
    assert result == ExitCode.CRITICAL
    assert fake.starts == [1000.0, 1060.0, 1180.0, 1240.0]  # 1120 was missed: skipped
    assert fake.waits == [58.0, 45.0, 59.0]  # no wait after the last round


def test_schedule_repeat_stops_when_asked() -> None:
    fake = FakeTime([1.0] * 10)
    waits = iter([False, True])
    rounds: list[int] = []

    def round_(number: int) -> int:
        rounds.append(number)
        return fake.round(0)

    assert repeat(round_, 5.0, None, fake.clock, lambda s: next(waits)) == ExitCode.OK
    assert rounds == [1, 2]


def scenario(**changes: Any) -> Scenario:
    base = Scenario(
        name="trunk",
        service="sip-trunk",
        target=parse_uri("sip:sbc.example.com:5060"),
        transport="udp",
        steps=(
            OptionsStep(timeout_s=5),
            RegisterStep(timeout_s=10),
            CallStep(duration_s=15, answer_timeout_s=30),
            WaitStep(seconds=2),
        ),
        account=AccountSpec(user="acme", domain="sbc.example.com", auth_user="acme"),
    )
    return replace(base, **changes)


def test_schedule_retarget_moves_target_and_default_domain() -> None:
    moved = retarget(scenario(), parse_uri("sip:10.0.0.7:5070"))
    assert str(moved.target) == "sip:10.0.0.7:5070"
    assert moved.transport == "udp"
    assert moved.account is not None and moved.account.domain == "10.0.0.7"


def test_schedule_retarget_keeps_an_explicit_domain_and_takes_a_declared_transport() -> None:
    explicit = AccountSpec(user="acme", domain="trunks.example.com", auth_user="acme")
    moved = retarget(
        scenario(account=explicit, transport="tls"), parse_uri("sip:10.0.0.7;transport=tcp")
    )
    assert (str(moved.target), moved.transport) == ("sip:10.0.0.7;transport=tcp", "tcp")
    assert moved.account == explicit
    kept = retarget(scenario(transport="tcp"), parse_uri("sip:10.0.0.8"))
    assert (str(kept.target), kept.transport) == ("sip:10.0.0.8;transport=tcp", "tcp")


def test_schedule_time_bound_adds_every_step_bound() -> None:
    # 30 margin + 5 options + 10 register + (30 + 15 + 10) call + 2 wait
    assert time_bound_s(scenario()) == 102.0


def test_schedule_footprint_reads_proc() -> None:
    usage = footprint()
    assert usage is not None
    assert usage.fds >= 3 and usage.threads >= 1 and usage.rss_kib > 1000
    assert str(usage).startswith(f"process {usage.fds} fds, {usage.threads} threads, ")
    assert footprint(Path("/nonexistent")) is None


def test_schedule_read_targets(tmp_path: Path) -> None:
    path = tmp_path / "targets"
    path.write_text(
        "# trunks\nsip:10.0.0.1:5060\n\n  10.0.0.2  # bare host\nsip:10.0.0.1:5060\n"
        "sips:sbc.example.com\n"
    )
    assert [str(t) for t in read_targets(str(path))] == [
        "sip:10.0.0.1:5060",
        "sip:10.0.0.2",
        "sips:sbc.example.com",
    ]


def test_schedule_read_targets_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "targets"
    path.write_text("sip:10.0.0.1\nsip:bad host\n")
    with pytest.raises(UsageError, match=r"targets:2: not a SIP URI: 'sip:bad host'"):
        read_targets(str(path))
    path.write_text("# nothing\n")
    with pytest.raises(UsageError, match="lists no SIP URI"):
        read_targets(str(path))
    with pytest.raises(UsageError, match="cannot read --targets file"):
        read_targets(str(tmp_path / "missing"))


def run_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


def test_schedule_child_argv_repeats_the_run_for_one_target() -> None:
    args = run_args(
        "s.yaml",
        "--var",
        "A=1",
        "--var",
        "B=x y",
        "--format",
        "json",
        "--history",
        "/var/lib/h.sqlite3",
        "--baseline-runs",
        "30",
        "--targets",
        "t.txt",
        "--concurrency",
        "3",
        "--every",
        "5m",
        "--count",
        "2",
        "--out",
        "ev",
        "--zip",
    )
    argv = child_argv(args.run_parser, args, "sip:10.0.0.1", "ev/20261120T100000Z-10.0.0.1")
    child = build_parser().parse_args(argv)
    assert (child.scenario, child.var, child.format) == ("s.yaml", ["A=1", "B=x y"], "json")
    assert (child.history, child.no_history, child.baseline_runs) == (
        "/var/lib/h.sqlite3",
        False,
        30,
    )
    assert (child.target, child.out, child.quiet, child.zip) == (
        "sip:10.0.0.1",
        "ev/20261120T100000Z-10.0.0.1",
        True,
        True,
    )
    assert (child.targets, child.every, child.count, child.concurrency) == (None, None, None, None)


def test_schedule_child_argv_passes_no_history() -> None:
    args = run_args("s.yaml", "--no-history", "--targets", "t.txt")
    argv = child_argv(args.run_parser, args, "sip:10.0.0.1", None)
    assert argv == ["run", "s.yaml", "--no-history", "--target", "sip:10.0.0.1", "--quiet"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_schedule_kill_tree_kills_the_child_and_what_it_started() -> None:
    code = (
        "import subprocess, time\n"
        "p = subprocess.Popen(['sleep', '60'])\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        grandchild = int(child.stdout.readline())
        assert _alive(grandchild)
        kill_tree(child.pid)
        assert child.wait(timeout=10) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)
