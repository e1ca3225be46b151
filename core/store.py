"""The daemon's memory: finished analyses and every job, in one SQLite file that survives crashes.

Why SQLite in WAL mode: one file, no server, readers never block the writer, and a `kill -9` leaves a database
that opens cleanly (the journal is replayed). Analyses are stored under a key the daemon derives from the
media's content fingerprint, the engine's name and version, and everything in the request that changes the
result, so a re-run of the same request is a look-up. Jobs are rows too: after a crash, `recover()` finds the
jobs that were running and re-queues them (or fails them, with the reason, once they have already been tried
`MAX_ATTEMPTS` times), so no job is ever silently lost.

The schema is versioned with SQLite's `user_version`; each entry of `MIGRATIONS` moves it up by one, inside a
transaction, and a file from a newer reelmark is refused rather than damaged.

A damaged file is found at start (`PRAGMA quick_check`), and a page found damaged later turns every failing call
into `StoreCorruptError`, which says to move the file aside, rather than an internal error. Finished jobs are
pruned by age and count, so repeated requests cannot grow the file without bound.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from reelmark.core.errors import ReelmarkError

STORE_ENV = "REELMARK_STORE"
MAX_ATTEMPTS = 2
"""A job that was running when the daemon died this many times is failed, not retried: it may be the cause."""
KEEP_FINISHED_JOBS = 10_000
KEEP_FINISHED_DAYS = 30
"""Finished jobs beyond the newest `KEEP_FINISHED_JOBS`, or older than this, are deleted (their analyses stay)."""
PRUNE_EVERY = 100
"""Pruning runs at open and after every this many new jobs."""
MAX_STORED_MESSAGE_CHARS = 2000
"""A job's error message is cut to this before it is stored: it is shown to every client that lists jobs."""

log = logging.getLogger("reelmark.store")

MIGRATIONS: tuple[str, ...] = (
    # 1: analyses keyed by request, and jobs with their whole history.
    """
    CREATE TABLE analyses (
        id TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        engine TEXT NOT NULL,
        engine_version TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        analysis_json TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX analyses_by_fingerprint ON analyses (fingerprint);
    CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        engine TEXT NOT NULL,
        spec_json TEXT NOT NULL,
        analysis_id TEXT NOT NULL DEFAULT '',
        error_code TEXT NOT NULL DEFAULT '',
        error_message TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        cached INTEGER NOT NULL DEFAULT 0,
        force INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
    );
    CREATE INDEX jobs_by_state ON jobs (state);
    """,
    # 2: find the cached job of a repeated request without a scan.
    """
    CREATE INDEX jobs_by_analysis ON jobs (analysis_id);
    """,
    # 3: the library (`reelmark.core.library.catalog`): files by content, where they were seen, their moments, and
    # each distinct moment text once, with its embedding and a full-text index.
    """
    CREATE TABLE library_files (
        fingerprint TEXT PRIMARY KEY,
        config TEXT NOT NULL,
        state TEXT NOT NULL,
        duration_s REAL,
        clock_source TEXT NOT NULL DEFAULT 'unknown',
        recorded_at TEXT,
        error TEXT NOT NULL DEFAULT '',
        analysis_json TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE library_paths (
        root TEXT NOT NULL,
        relative TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        PRIMARY KEY (root, relative)
    );
    CREATE INDEX library_paths_by_fingerprint ON library_paths (fingerprint);
    CREATE TABLE library_texts (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL UNIQUE,
        embedding BLOB
    );
    CREATE TABLE library_moments (
        seq INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        moment_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        span_json TEXT NOT NULL,
        clock_date TEXT,
        clock_tod REAL,
        clock_iso TEXT,
        text_id INTEGER NOT NULL REFERENCES library_texts (id),
        score REAL,
        tube_json TEXT,
        UNIQUE (fingerprint, moment_id)
    );
    CREATE INDEX library_moments_by_text ON library_moments (text_id);
    CREATE INDEX library_moments_by_kind ON library_moments (kind);
    CREATE VIRTUAL TABLE library_fts USING fts5 (text, content='library_texts', content_rowid='id');
    CREATE TRIGGER library_texts_ai AFTER INSERT ON library_texts BEGIN
        INSERT INTO library_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER library_texts_ad AFTER DELETE ON library_texts BEGIN
        INSERT INTO library_fts (library_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    """,
)

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED})


class StoreError(ReelmarkError):
    """The store file cannot be used: made by a newer reelmark, or not a reelmark store."""

    status = "FAILED_PRECONDITION"


class StoreCorruptError(StoreError):
    """A page of the store file is damaged: nothing a client can fix, so the message says what the daemon's owner
    must do."""

    status = "DATA_LOSS"


def default_store_path() -> Path:
    """`$REELMARK_STORE`, else `reelmark.sqlite3` in the user data dir (platformdirs: ~/.local/share/reelmark...)."""
    override = os.environ.get(STORE_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path

    return user_data_path("reelmark", appauthor=False) / "reelmark.sqlite3"


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class JobRecord:
    """One job as the store keeps it. The request travels as the API's JSON (`spec_json`), opaque here."""

    id: str
    engine: str
    spec_json: str
    state: str = QUEUED
    force: bool = False
    analysis_id: str = ""
    error_code: str = ""
    error_message: str = ""
    note: str = ""
    attempts: int = 0
    cached: bool = False
    created_at: datetime = field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class StoredAnalysis:
    id: str
    spec_json: str
    analysis_json: str


_JOB_COLUMNS = (
    "id", "engine", "spec_json", "state", "force", "analysis_id", "error_code", "error_message", "note", "attempts",
    "cached", "created_at", "started_at", "finished_at",
)  # fmt: skip


class Store:
    """A thread-safe handle on the store file: one connection, serialised by a lock (SQLite writes serialise
    anyway, and every statement here is short)."""

    def __init__(self, path: Path, migrations: Sequence[str] = MIGRATIONS):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._added_since_prune = 0
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if self._db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":  # stops at the first problem
                self._db.close()
                raise self._corrupt("failed SQLite's quick_check")
            self._migrate(migrations)
            self._prune()
        except sqlite3.DatabaseError as error:
            self._db.close()
            if _is_corruption(error):  # damage SQLite meets before quick_check can report it (e.g. in the schema)
                raise self._corrupt(f"SQLite says: {error}") from None
            raise StoreError(
                f"{self.path} is not a usable reelmark store ({error}); move it aside or choose another with "
                f"--store or ${STORE_ENV}"
            ) from None

    def _corrupt(self, finding: str) -> StoreCorruptError:
        return StoreCorruptError(
            f"the store is corrupt: {self.path} {finding}; move it aside (rename it) and start again, or choose "
            f"another file with --store or ${STORE_ENV}"
        )

    @contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; a damaged page becomes `StoreCorruptError` with what to do."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.DatabaseError as error:
                if not _is_corruption(error):
                    raise
                log.error("the store at %s is corrupt (%s); stop the daemon and move the file aside", self.path, error)
                raise StoreCorruptError(
                    "the daemon's store is corrupt: stop the daemon, move its store file aside (its log names the "
                    "file) and start it again; finished analyses will be made again when asked for"
                ) from None

    @property
    def schema_version(self) -> int:
        with self._using() as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self, migrations: Sequence[str]) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(migrations):
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this reelmark knows ({len(migrations)}); "
                "upgrade reelmark, or point --store at another file"
            )
        for number, script in enumerate(migrations[version:], start=version + 1):
            # executescript commits first; BEGIN ... COMMIT makes each step (schema and version) all or nothing.
            try:
                self._db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
            except sqlite3.DatabaseError as error:
                if self._db.in_transaction:
                    self._db.rollback()
                raise StoreError(
                    f"{self.path}: upgrading the store to schema version {number} failed ({error}); it is left at "
                    f"version {number - 1}. Report this, and meanwhile use another file with --store"
                ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """The connection inside BEGIN IMMEDIATE … COMMIT (rolled back on error), for modules that keep their own
        tables here (the library): all of a change lands, or none of it, even under kill -9. `write=False` reads
        one consistent snapshot without taking the write lock (WAL: readers never block the writer)."""
        with self._using() as db:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            db.commit()

    # --- analyses ---------------------------------------------------------------------------------------------

    def put_analysis(self, key: str, fingerprint: str, engine: str, engine_version: str, spec_json: str,
                     analysis_json: str) -> None:  # fmt: skip
        with self._using() as db:
            db.execute(
                "INSERT OR REPLACE INTO analyses VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, fingerprint, engine, engine_version, spec_json, analysis_json, now().isoformat()),
            )

    def has_analysis(self, key: str) -> bool:
        with self._using() as db:
            return db.execute("SELECT 1 FROM analyses WHERE id = ?", (key,)).fetchone() is not None

    def get_analysis(self, key: str) -> StoredAnalysis | None:
        with self._using() as db:
            row = db.execute("SELECT id, spec_json, analysis_json FROM analyses WHERE id = ?", (key,)).fetchone()
        return None if row is None else StoredAnalysis(*row)

    # --- jobs -------------------------------------------------------------------------------------------------

    def add_job(self, job: JobRecord) -> None:
        with self._using() as db:
            db.execute(
                f"INSERT INTO jobs ({', '.join(_JOB_COLUMNS)}) VALUES ({', '.join('?' * len(_JOB_COLUMNS))})",
                _job_row(job),
            )
            self._added_since_prune += 1
            if self._added_since_prune >= PRUNE_EVERY:
                self._prune()

    def _prune(self) -> None:
        """Delete finished jobs past the newest `KEEP_FINISHED_JOBS` or older than `KEEP_FINISHED_DAYS` (call with
        the lock held, or from `__init__`)."""
        self._added_since_prune = 0
        finished = ", ".join(f"'{state}'" for state in sorted(FINISHED_STATES))
        cutoff = (now() - timedelta(days=KEEP_FINISHED_DAYS)).isoformat()
        self._db.execute(
            f"DELETE FROM jobs WHERE state IN ({finished}) AND (created_at < ? OR seq <= "
            f"(SELECT seq FROM jobs WHERE state IN ({finished}) ORDER BY seq DESC LIMIT 1 OFFSET ?))",
            (cutoff, KEEP_FINISHED_JOBS),
        )

    def cached_job(self, analysis_id: str, spec_json: str) -> JobRecord | None:
        """The newest cached job for exactly this request and result, to answer a repeat of it."""
        with self._using() as db:
            row = db.execute(
                f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs WHERE analysis_id = ? AND cached = 1 AND state = ? "
                "AND spec_json = ? ORDER BY seq DESC LIMIT 1",
                (analysis_id, SUCCEEDED, spec_json),
            ).fetchone()
        return None if row is None else _job_from_row(row)

    def save_job(self, job: JobRecord) -> None:
        """Write every field of an existing job (jobs change a few times in their life, never per progress step)."""
        assignments = ", ".join(f"{column} = ?" for column in _JOB_COLUMNS[1:])
        with self._using() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*_job_row(job)[1:], job.id))

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._using() as db:
            row = db.execute(f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job_from_row(row)

    def list_jobs(self, limit: int, states: Sequence[str] = ()) -> list[JobRecord]:
        """The newest `limit` jobs, newest first, optionally only those in `states`."""
        where = f"WHERE state IN ({', '.join('?' * len(states))})" if states else ""
        with self._using() as db:
            rows = db.execute(
                f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs {where} ORDER BY seq DESC LIMIT ?", (*states, limit)
            ).fetchall()
        return [_job_from_row(row) for row in rows]

    def recover(self) -> list[JobRecord]:
        """After a start: settle the jobs a previous daemon left running; return every queued job, oldest first.

        A job found running was interrupted by a crash or kill. It is re-queued with a note, unless it has
        already been started `MAX_ATTEMPTS` times, in which case it fails with the reason: a job that keeps
        taking the daemon down must not do so forever.
        """
        for job in self.list_jobs(limit=1_000_000, states=(RUNNING,)):
            if job.attempts >= MAX_ATTEMPTS:
                self.save_job(replace(
                    job, state=FAILED, finished_at=now(), error_code="ABORTED",
                    error_message=(
                        f"the daemon stopped while running this job {job.attempts} times, so it was not retried; "
                        "start it again, and if the daemon stops again, report it with the daemon's -v log"
                    ),
                ))  # fmt: skip
            else:
                self.save_job(replace(
                    job, state=QUEUED, started_at=None,
                    note=f"re-queued after the daemon stopped during attempt {job.attempts} of {MAX_ATTEMPTS}",
                ))  # fmt: skip
        return list(reversed(self.list_jobs(limit=1_000_000, states=(QUEUED,))))


def _is_corruption(error: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says the file is damaged or not a database (not: locked, a constraint, a bad statement)."""
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _job_row(job: JobRecord) -> tuple[object, ...]:
    return (
        job.id, job.engine, job.spec_json, job.state, int(job.force), job.analysis_id, job.error_code,
        job.error_message[:MAX_STORED_MESSAGE_CHARS], job.note, job.attempts, int(job.cached), job.created_at.isoformat(),
        _optional_iso(job.started_at), _optional_iso(job.finished_at),
    )  # fmt: skip


def _job_from_row(row: tuple) -> JobRecord:
    values = dict(zip(_JOB_COLUMNS, row, strict=True))
    return JobRecord(
        **{**values, "force": bool(values["force"]), "cached": bool(values["cached"]),
           "created_at": datetime.fromisoformat(values["created_at"]),
           "started_at": _optional_datetime(values["started_at"]),
           "finished_at": _optional_datetime(values["finished_at"])},
    )  # fmt: skip


def _optional_iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _optional_datetime(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
