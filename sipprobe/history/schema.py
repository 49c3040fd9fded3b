"""The history database's schema, as an ordered list of migrations.

Migration ``n`` takes a database from version ``n - 1`` to ``n``; a new database runs them
all. Each one is a list of statements run inside the caller's transaction, so a migration
applies whole or not at all. Released migrations are never edited: a change is a new one.

Version 1: ``runs`` (one row per run), ``calls`` (key figures of each call step, per
direction) and ``steps`` (status and timings of every step).
Version 2: ``findings`` of each run (so the trend shows why a run was not OK), the baseline
status on ``runs``, and an index for the per-check queries baselines make on every run.
Version 3: where the probe stood (``runs.location``) and the customer's equipment
(``runs.equipment_json``), and each finding's ``responsible`` party and ``policy`` clause, so
``sipprobe localize --against-history`` can compare a report with another location's run.
"""

from __future__ import annotations

_V1 = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        scenario TEXT NOT NULL,
        target TEXT NOT NULL,
        service TEXT NOT NULL,
        transport TEXT NOT NULL,
        started_at TEXT NOT NULL,          -- ISO 8601 UTC, as in the report
        started_unix REAL NOT NULL,        -- the same instant, for ordering and --since
        duration_s REAL NOT NULL,
        messaging TEXT NOT NULL,
        media TEXT NOT NULL,
        exit_code INTEGER NOT NULL,
        probe_version TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE calls (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step_index INTEGER NOT NULL,
        status_code INTEGER,
        pdd_ms REAL,
        answer_ms REAL,
        mos_lq REAL,
        rx_loss_pct REAL,
        rx_jitter_mean_ms REAL,
        tx_lost_reported INTEGER,
        tx_jitter_reported_ms REAL,
        rtt_ms REAL,
        PRIMARY KEY (run_id, step_index)
    )
    """,
    """
    CREATE TABLE steps (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step_index INTEGER NOT NULL,
        kind TEXT NOT NULL,
        ok INTEGER NOT NULL,
        status_code INTEGER,
        timings_json TEXT NOT NULL,        -- {"pdd": 41.2, ...} in milliseconds
        PRIMARY KEY (run_id, step_index)
    )
    """,
)

_V2 = (
    """
    CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        severity TEXT NOT NULL,
        side TEXT NOT NULL,
        area TEXT NOT NULL,
        code TEXT NOT NULL,
        summary TEXT NOT NULL,
        step_index INTEGER,
        PRIMARY KEY (run_id, position)
    )
    """,
    # NULL in both for runs recorded before version 2.
    "ALTER TABLE runs ADD COLUMN baseline_status TEXT",
    "ALTER TABLE runs ADD COLUMN baseline_runs INTEGER",
    "CREATE INDEX runs_by_check ON runs (scenario, target, exit_code, started_unix)",
)

_V3 = (
    # NULL in all four for runs recorded before version 3.
    "ALTER TABLE runs ADD COLUMN location TEXT",
    "ALTER TABLE runs ADD COLUMN equipment_json TEXT",
    "ALTER TABLE findings ADD COLUMN responsible TEXT",
    "ALTER TABLE findings ADD COLUMN policy TEXT",
    "CREATE INDEX runs_by_target ON runs (target, started_unix)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)
