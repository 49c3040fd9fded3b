"""SIGKILL inside a run's transaction: the database opens, is intact and holds every earlier run.

A writer process records five runs, then starts a sixth and stops, mid-transaction, right
after the run's row went in and before its calls and steps did. The test kills it there.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from history_samples import report

from sipprobe.history.store import HistoryStore

WRITER = """
import sys, time
sys.path.insert(0, sys.argv[2])
from history_samples import report
from sipprobe.history.store import HistoryStore

insert_run = HistoryStore._insert_run

def insert_and_stall(self, run):
    run_id = insert_run(self, run)
    if run.scenario == "killed":
        print("inside the transaction", flush=True)
        time.sleep(60)
    return run_id

HistoryStore._insert_run = insert_and_stall
with HistoryStore.open(__import__("pathlib").Path(sys.argv[1])) as store:
    for minute in range(5):
        store.record(report(started_at=f"2026-11-20T10:0{minute}:00.000Z"))
        print("recorded", minute, flush=True)
    store.record(report(scenario="killed"))
"""


def test_history_sigkill_mid_transaction_loses_nothing_earlier(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        try:
            assert writer.stdout is not None
            lines = [writer.stdout.readline().strip() for _ in range(6)]
            assert lines[-1] == "inside the transaction", lines
            assert Path(f"{path}-wal").stat().st_size > 0
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT count(*) FROM runs WHERE scenario = 'killed'").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM steps").fetchone() == (10,)
    with HistoryStore.open(path) as store:
        assert [r.started_at[14:16] for r in store.runs()] == ["00", "01", "02", "03", "04"]
        store.record(report(started_at="2026-11-20T11:00:00.000Z"))
        assert len(store.runs()) == 6
