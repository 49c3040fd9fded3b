"""The history store: SQLite in WAL mode, one transaction per run.

A run is written whole or not at all, so a process killed while writing leaves every earlier
run in place and the database consistent (SQLite rolls the open transaction back on the next
open). WAL lets readers (``sipprobe history``, a baseline query) run while another process
writes, and several probes writing at once wait for each other (``busy_timeout``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

from sipprobe.errors import SetupError
from sipprobe.history.figures import CallFigures, RunRecord, call_figures, unix_time
from sipprobe.history.schema import MIGRATIONS, SCHEMA_VERSION
from sipprobe.model.demarc import Equipment, Location, Responsible, default_equipment
from sipprobe.model.results import Finding, Quality, RunReport, Severity, Side
from sipprobe.verdict.localize import Vantage

BUSY_TIMEOUT_S = 30.0
_RUN_COLUMNS = (
    "id, scenario, target, service, transport, started_at, started_unix, duration_s, "
    "messaging, media, exit_code, baseline_status"
)
_CALL_COLUMNS = (
    "run_id, step_index, status_code, pdd_ms, answer_ms, mos_lq, rx_loss_pct, "
    "rx_jitter_mean_ms, tx_lost_reported, tx_jitter_reported_ms, rtt_ms"
)


def default_history_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/sipprobe/history.sqlite3``, else ``~/.local/share/sipprobe/...``."""
    env = os.environ if environ is None else environ
    data_home = env.get("XDG_DATA_HOME", "")
    base = Path(data_home) if Path(data_home).is_absolute() else Path.home() / ".local/share"
    return base / "sipprobe" / "history.sqlite3"


def schema_version(connection: sqlite3.Connection) -> int:
    """The schema version recorded in the database; 0 for a new, empty one."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(connection: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to version ``target`` in one transaction; returns the old version."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(connection)
        if version > SCHEMA_VERSION:
            raise SetupError(
                f"history schema version {version} is newer than this sipprobe knows "
                f"({SCHEMA_VERSION}): upgrade sipprobe or use another --history file"
            )
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for number in range(version + 1, target + 1):
            for statement in MIGRATIONS[number - 1]:
                connection.execute(statement)
        if version < target:
            connection.execute("DELETE FROM schema_version")
            connection.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return version


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        # A run is written once every few minutes: pay one fsync per run so that not even a
        # power cut takes a recorded run back.
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        connection.close()
        raise
    return connection


class HistoryStore:
    """Records runs and reads them back. Open with ``HistoryStore.open(path)``."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> HistoryStore:
        """Open (creating and migrating as needed) the store at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = connect(path)
        except OSError as exc:
            raise SetupError(f"cannot open history {path}: {exc.strerror or exc}") from exc
        except sqlite3.Error as exc:
            raise SetupError(f"cannot open history {path}: {exc}") from exc
        try:
            migrate(connection)
        except sqlite3.Error as exc:
            connection.close()
            raise SetupError(f"{path} is not a usable sipprobe history: {exc}") from exc
        except BaseException:
            connection.close()
            raise
        return cls(connection, path)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------
    def record(self, report: RunReport) -> int:
        """Write ``report`` as one run, in one transaction; returns its id."""
        db = self._connection
        db.execute("BEGIN IMMEDIATE")
        try:
            run_id = self._insert_run(report)
            db.executemany(
                f"INSERT INTO calls ({_CALL_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                [_call_row(run_id, figures) for figures in call_figures(report)],
            )
            db.executemany(
                "INSERT INTO steps (run_id, step_index, kind, ok, status_code, timings_json) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        s.index,
                        s.kind,
                        int(s.ok),
                        s.status_code,
                        json.dumps(s.timings_ms, sort_keys=True),
                    )
                    for s in report.steps
                ],
            )
            db.executemany(
                "INSERT INTO findings (run_id, position, severity, side, area, code, summary, "
                "step_index, responsible, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        n,
                        f.severity.value,
                        f.side.value,
                        f.area,
                        f.code,
                        f.summary,
                        f.step,
                        f.responsible.value,
                        f.policy,
                    )
                    for n, f in enumerate(report.verdict.findings)
                ],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return run_id

    def _insert_run(self, report: RunReport) -> int:
        verdict = report.verdict
        baseline = report.baseline
        cursor = self._connection.execute(
            "INSERT INTO runs (scenario, target, service, transport, started_at, started_unix, "
            "duration_s, messaging, media, exit_code, probe_version, baseline_status, "
            "baseline_runs, location, equipment_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                report.scenario,
                report.target,
                report.service,
                report.transport,
                report.started_at,
                unix_time(report.started_at),
                report.duration_s,
                verdict.messaging.value,
                verdict.media.value,
                int(verdict.exit_code),
                report.probe.get("version", ""),
                baseline.status if baseline else None,
                baseline.runs if baseline else None,
                report.location.value,
                json.dumps(asdict(report.equipment or default_equipment(report.service))),
            ),
        )
        assert cursor.lastrowid is not None  # an INSERT into a rowid table always has one
        return cursor.lastrowid

    # -- reading -----------------------------------------------------------------------------
    def good_runs(
        self, scenario: str, target: str, limit: int, location: str | None = None
    ) -> tuple[RunRecord, ...]:
        """The ``limit`` most recent runs of ``scenario`` against ``target`` that exited 0,
        newest first; with ``location``, only runs from there (and runs recorded before
        history knew locations): a probe on the platform's side sees a shorter path than one
        on the customer's LAN, so their figures are not one baseline."""
        where = "scenario = ? AND target = ? AND exit_code = 0"
        values: list[object] = [scenario, target]
        if location is not None:
            where += " AND (location = ? OR location IS NULL)"
            values.append(location)
        rows = self._connection.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE {where} "
            "ORDER BY started_unix DESC, id DESC LIMIT ?",
            (*values, limit),
        ).fetchall()
        return self._records(rows)

    def runs(
        self,
        scenario: str | None = None,
        target: str | None = None,
        since_unix: float | None = None,
    ) -> tuple[RunRecord, ...]:
        """Runs matching every filter given, oldest first."""
        clauses, values = [], []
        for clause, value in (
            ("scenario = ?", scenario),
            ("target = ?", target),
            ("started_unix >= ?", since_unix),
        ):
            if value is not None:
                clauses.append(clause)
                values.append(value)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        rows = self._connection.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs {where}ORDER BY started_unix, id", values
        ).fetchall()
        return self._records(rows)

    def latest_elsewhere(self, target: str, locations: Collection[str]) -> Vantage | None:
        """The latest run against ``target`` from a location not in ``locations``, for
        ``sipprobe localize --against-history``; runs recorded before version 3 have no
        location and are skipped."""
        excluded = list(locations)
        db = self._connection
        run = db.execute(
            "SELECT id, service, location, equipment_json, started_at, started_unix, "
            "messaging, media, exit_code FROM runs WHERE target = ? AND location IS NOT NULL "
            f"AND location NOT IN ({', '.join('?' * len(excluded))}) "
            "ORDER BY started_unix DESC, id DESC LIMIT 1",
            [target, *excluded],
        ).fetchone()
        if run is None:
            return None
        run_id, service, location, equipment, started_at, started_unix, *outcome = run
        findings = db.execute(
            "SELECT severity, side, area, code, summary, step_index, responsible, policy "
            "FROM findings WHERE run_id = ? ORDER BY position",
            (run_id,),
        ).fetchall()
        return Vantage(
            path=f"{self.path}#run-{run_id}",
            target=target,
            service=service,
            equipment=Equipment(**json.loads(equipment)),
            location=Location(location),
            started_at=started_at,
            started_unix=started_unix,
            messaging=Quality(outcome[0]),
            media=Quality(outcome[1]),
            exit_code=outcome[2],
            findings=tuple(_finding(row) for row in findings),
        )

    def _records(self, rows: list[Any]) -> tuple[RunRecord, ...]:
        ids = [row[0] for row in rows]
        calls = self._children(ids, f"SELECT {_CALL_COLUMNS} FROM calls", "step_index")
        codes = self._children(ids, "SELECT run_id, code FROM findings", "position")
        return tuple(
            _run_record(
                row,
                tuple(CallFigures(*call[1:]) for call in calls.get(row[0], [])),
                tuple(code for _, code in codes.get(row[0], [])),
            )
            for row in rows
        )

    def _children(self, ids: Iterable[int], select: str, order: str) -> dict[int, list[Any]]:
        """Rows of a child table for the given run ids, grouped by run id."""
        grouped: dict[int, list[Any]] = {}
        wanted = list(ids)
        for start in range(0, len(wanted), 500):  # SQLite caps the number of parameters
            chunk = wanted[start : start + 500]
            rows = self._connection.execute(
                f"{select} WHERE run_id IN ({', '.join('?' * len(chunk))}) "
                f"ORDER BY run_id, {order}",
                chunk,
            ).fetchall()
            for row in rows:
                grouped.setdefault(row[0], []).append(row)
        return grouped


def _run_record(row: Any, calls: tuple[CallFigures, ...], codes: tuple[str, ...]) -> RunRecord:
    """A ``runs`` row (``_RUN_COLUMNS`` order) with its calls and finding codes."""
    return RunRecord(
        run_id=row[0],
        scenario=row[1],
        target=row[2],
        service=row[3],
        transport=row[4],
        started_at=row[5],
        started_unix=row[6],
        duration_s=row[7],
        messaging=row[8],
        media=row[9],
        exit_code=row[10],
        baseline_status=row[11],
        calls=calls,
        finding_codes=codes,
    )


def _finding(row: Any) -> Finding:
    """A ``findings`` row of a run recorded with version 3 or later."""
    severity, side, area, code, summary, step, responsible, policy = row
    return Finding(
        Severity(severity),
        Side(side),
        area,
        code,
        summary,
        step,
        responsible=Responsible(responsible or Responsible.UNDETERMINED.value),
        policy=policy or "undetermined",
    )


def _call_row(run_id: int, figures: CallFigures) -> tuple[object, ...]:
    return (
        run_id,
        figures.step_index,
        figures.status_code,
        figures.pdd_ms,
        figures.answer_ms,
        figures.mos_lq,
        figures.rx_loss_pct,
        figures.rx_jitter_mean_ms,
        figures.tx_lost_reported,
        figures.tx_jitter_reported_ms,
        figures.rtt_ms,
    )
