"""History store: round trip, WAL, migrations, one transaction per run, queries."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from history_samples import call, degraded, report, rtcp
from media_samples import call_stream

from sipprobe.errors import SetupError
from sipprobe.history.figures import CallFigures
from sipprobe.history.schema import SCHEMA_VERSION
from sipprobe.history.store import (
    HistoryStore,
    connect,
    default_history_path,
    migrate,
    schema_version,
)
from sipprobe.model.demarc import Location
from sipprobe.model.results import Baseline


def test_store_round_trip_keeps_every_key_figure(tmp_path: Path) -> None:
    streams = (call_stream("rx", mos_lq=4.1), call_stream("tx", mos_lq=3.9))
    run = report(call(streams=streams))
    run = replace(run, baseline=Baseline("insufficient-history", 2, 20, 5, "2 earlier"))
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        run_id = store.record(run)
        (record,) = store.runs()
    assert record.run_id == run_id
    assert (record.scenario, record.target, record.service, record.transport) == (
        "trunk",
        "sip:127.0.0.1:5062",
        "sip-trunk",
        "udp",
    )
    assert record.started_at == "2026-11-20T10:00:00.000Z"
    assert record.started_unix == 1795168800.0
    assert record.duration_s == 6.2
    assert (record.messaging, record.media, record.exit_code) == ("good", "good", 0)
    assert record.baseline_status == "insufficient-history"
    assert record.finding_codes == ()
    assert record.calls == (
        CallFigures(
            step_index=1,
            status_code=200,
            pdd_ms=400.0,
            answer_ms=450.0,
            mos_lq=3.9,
            rx_loss_pct=0.0,
            rx_jitter_mean_ms=1.5,
            tx_lost_reported=2,
            tx_jitter_reported_ms=0.8,
            rtt_ms=0.4,
        ),
    )


def test_store_keeps_steps_and_findings(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore.open(path) as store:
        run_id = store.record(report(verdict=degraded()))
    with sqlite3.connect(path) as db:
        steps = db.execute(
            "SELECT step_index, kind, ok, status_code, timings_json FROM steps WHERE run_id = ?",
            (run_id,),
        ).fetchall()
        findings = db.execute(
            "SELECT severity, side, area, code, step_index FROM findings"
        ).fetchall()
        exit_code = db.execute("SELECT exit_code FROM runs").fetchone()[0]
    assert steps == [
        (0, "options", 1, 200, '{"rtt": 0.7}'),
        (1, "call", 1, 200, '{"answer": 450.0, "pdd": 400.0}'),
    ]
    assert findings == [("warning", "platform", "messaging", "post-dial-delay", 1)]
    assert exit_code == 1


def test_store_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore.open(path) as store:
        store.record(report())
        assert Path(f"{path}-wal").exists()
        with sqlite3.connect(path) as reader:  # a reader while the writer holds the file open
            assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert reader.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_store_new_database_is_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore.open(path).close()
    with sqlite3.connect(path) as db:
        assert schema_version(db) == SCHEMA_VERSION == 3
        assert db.execute("SELECT count(*) FROM schema_version").fetchone() == (1,)


def test_store_migrates_a_version_1_database_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    old = connect(path)
    assert migrate(old, target=1) == 0
    old.execute(
        "INSERT INTO runs (scenario, target, service, transport, started_at, started_unix, "
        "duration_s, messaging, media, exit_code, probe_version) VALUES ('trunk', "
        "'sip:127.0.0.1:5062', 'sip-trunk', 'udp', '2026-01-01T00:00:00.000Z', 1767225600.0, "
        "5.0, 'good', 'good', 0, '0.0.9')"
    )
    old.execute("INSERT INTO calls (run_id, step_index, pdd_ms) VALUES (1, 1, 321.0)")
    old.close()
    with HistoryStore.open(path) as store:
        store.record(report())
        runs = store.runs()
    assert [r.started_at for r in runs] == ["2026-01-01T00:00:00.000Z", "2026-11-20T10:00:00.000Z"]
    assert runs[0].baseline_status is None  # recorded before version 2 knew of baselines
    assert runs[0].calls[0].pdd_ms == 321.0
    with sqlite3.connect(path) as db:
        assert schema_version(db) == 3
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"findings", "runs_by_check", "runs_by_target"} <= indexes


def test_store_migration_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    db = connect(path)
    migrate(db, target=1)
    db.execute("CREATE TABLE findings (x)")  # makes migration 2 fail half-way
    with pytest.raises(sqlite3.OperationalError):
        migrate(db)
    assert schema_version(db) == 1
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    assert "baseline_status" not in columns
    db.close()


def test_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    HistoryStore.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(SetupError, match="schema version 99 is newer than this sipprobe knows"):
        HistoryStore.open(path)


def test_store_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_text("not sqlite " * 100)
    with pytest.raises(SetupError, match=r"cannot open history .*: file is not a database"):
        HistoryStore.open(path)


def test_store_records_a_run_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    good = report()
    broken = replace(good, steps=(good.steps[0], good.steps[0]))  # step 0 twice: key clash
    with HistoryStore.open(path) as store:
        store.record(good)
        with pytest.raises(sqlite3.IntegrityError):
            store.record(broken)
        assert len(store.runs()) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM steps").fetchone() == (2,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_store_good_runs_are_the_newest_ok_runs_of_one_check(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        for hour in range(8):
            verdict = degraded() if hour == 6 else report().verdict
            store.record(report(started_at=f"2026-11-20T{hour:02d}:00:00.000Z", verdict=verdict))
        store.record(report(scenario="other"))
        store.record(report(target="sip:127.0.0.2:5062"))
        good = store.good_runs("trunk", "sip:127.0.0.1:5062", 5)
    assert [r.started_at[11:13] for r in good] == ["07", "05", "04", "03", "02"]


def test_store_runs_filters(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        for day in (18, 19, 20):
            store.record(report(started_at=f"2026-11-{day}T12:00:00.000Z"))
        store.record(report(scenario="other"))
        since_19th = store.runs(since_unix=1795089600.0)  # 2026-11-19T12:00:00Z
        trunk = store.runs(scenario="trunk", target="sip:127.0.0.1:5062")
    assert [r.started_at[:10] for r in since_19th] == ["2026-11-19", "2026-11-20", "2026-11-20"]
    assert len(trunk) == 3


def test_store_keeps_missing_figures_null(tmp_path: Path) -> None:
    run = report(call(pdd_ms=None, media=rtcp(loss_pct=None, jitter_ms=None)))
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        store.record(run)
        (record,) = store.runs()
    figures = record.calls[0]
    assert (figures.pdd_ms, figures.rx_loss_pct, figures.mos_lq) == (None, None, None)


def test_store_open_unwritable_place_is_a_setup_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SetupError, match="cannot open history"):
        HistoryStore.open(blocker / "sub" / "h.sqlite3")


def test_store_default_path_follows_xdg_data_home(tmp_path: Path) -> None:
    xdg = default_history_path({"XDG_DATA_HOME": str(tmp_path)})
    assert xdg == tmp_path / "sipprobe" / "history.sqlite3"
    fallback = default_history_path({"XDG_DATA_HOME": "relative/ignored"})
    assert fallback == Path.home() / ".local/share/sipprobe/history.sqlite3"
    assert default_history_path({}) == fallback


def test_store_good_runs_of_one_location(tmp_path: Path) -> None:
    """A baseline is the same check from the same place: runs from elsewhere are left out."""
    with HistoryStore.open(tmp_path / "h.sqlite3") as store:
        for hour, location in enumerate(("customer-lan", "platform", "customer-lan")):
            stamp = f"2026-11-20T{hour:02d}:00:00.000Z"
            store.record(replace(report(started_at=stamp), location=Location(location)))
        lan = store.good_runs("trunk", "sip:127.0.0.1:5062", 5, "customer-lan")
        platform = store.good_runs("trunk", "sip:127.0.0.1:5062", 5, "platform")
        anywhere = store.good_runs("trunk", "sip:127.0.0.1:5062", 5)
    assert [r.started_at[11:13] for r in lan] == ["02", "00"]
    assert [r.started_at[11:13] for r in platform] == ["01"]
    assert len(anywhere) == 3
