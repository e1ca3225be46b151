"""The store: WAL mode, versioned migrations, analyses by key, and jobs that survive a crash."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from reelmark.core.store import (
    FAILED, MAX_ATTEMPTS, MIGRATIONS, QUEUED, RUNNING, SUCCEEDED, JobRecord, Store, StoreError, default_store_path,
)  # fmt: skip


def test_a_new_store_is_wal_and_at_the_latest_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "deep" / "folder" / "store.sqlite3")
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    with sqlite3.connect(tmp_path / "deep" / "folder" / "store.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_run_once_each_in_order(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store(path).close()
    later = (*MIGRATIONS, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('added by the next migration');")
    store = Store(path, migrations=later)
    assert store.schema_version == len(MIGRATIONS) + 1
    store.close()
    store = Store(path, migrations=later)  # opening again must not re-run the new migration
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 1


def test_a_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    Store(path).close()
    with pytest.raises(StoreError) as refused:
        Store(path, migrations=(*MIGRATIONS, "CREATE TABLE half (x INTEGER); SELECT no_such_function();"))
    assert f"left at version {len(MIGRATIONS)}" in str(refused.value)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone()[0] == 0


def test_a_store_from_a_newer_reelmark_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StoreError) as refused:
        Store(path)
    assert "newer" in str(refused.value) and "--store" in str(refused.value)


def test_a_file_that_is_not_a_database_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(StoreError) as refused:
        Store(path)
    assert "move it aside" in str(refused.value)


def test_analyses_are_stored_and_replaced_by_key(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    assert store.get_analysis("a-1") is None and not store.has_analysis("a-1")
    store.put_analysis("a-1", "rm1-x", "signals", "0.1.0", "{}", '{"first": 1}')
    store.put_analysis("a-1", "rm1-x", "signals", "0.1.0", "{}", '{"second": 2}')
    stored = store.get_analysis("a-1")
    assert stored is not None and stored.analysis_json == '{"second": 2}' and store.has_analysis("a-1")


def test_recover_requeues_running_jobs_and_fails_repeat_offenders(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = Store(path)
    jobs = {
        "waiting": JobRecord(id="j-waiting", engine="signals", spec_json="{}"),
        "interrupted": JobRecord(id="j-interrupted", engine="signals", spec_json="{}", state=RUNNING, attempts=1),
        "offender": JobRecord(id="j-offender", engine="signals", spec_json="{}", state=RUNNING, attempts=MAX_ATTEMPTS),
        "done": JobRecord(id="j-done", engine="signals", spec_json="{}", state=SUCCEEDED, attempts=1),
    }
    for job in jobs.values():
        store.add_job(job)
    store.close()

    store = Store(path)
    queued = store.recover()
    assert [job.id for job in queued] == ["j-waiting", "j-interrupted"], "oldest first"
    interrupted = store.get_job("j-interrupted")
    assert interrupted is not None and interrupted.state == QUEUED and "re-queued" in interrupted.note
    offender = store.get_job("j-offender")
    assert offender is not None and offender.state == FAILED and offender.finished_at is not None
    assert offender.error_code == "ABORTED" and "not retried" in offender.error_message
    assert store.get_job("j-done") == jobs["done"], "finished jobs are left alone"


def test_jobs_round_trip_and_list_newest_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    first = JobRecord(id="j-1", engine="signals", spec_json='{"mediaPath": "/a"}', force=True)
    second = JobRecord(id="j-2", engine="signals", spec_json="{}")
    store.add_job(first)
    store.add_job(second)
    updated = replace(first, state=FAILED, error_code="NOT_FOUND", error_message="gone", attempts=1, cached=False)
    store.save_job(updated)
    assert store.get_job("j-1") == updated
    assert [job.id for job in store.list_jobs(10)] == ["j-2", "j-1"]
    assert [job.id for job in store.list_jobs(10, (FAILED,))] == ["j-1"]
    assert store.get_job("j-3") is None


def test_the_default_location_is_overridable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELMARK_STORE", raising=False)
    assert default_store_path().name == "reelmark.sqlite3" and "reelmark" in default_store_path().parent.as_posix()
    monkeypatch.setenv("REELMARK_STORE", str(tmp_path / "mine.sqlite3"))
    assert default_store_path() == tmp_path / "mine.sqlite3"


def test_finished_jobs_are_pruned_by_count_and_age(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    import reelmark.core.store as store_module

    monkeypatch.setattr(store_module, "KEEP_FINISHED_JOBS", 30)
    monkeypatch.setattr(store_module, "PRUNE_EVERY", 10)
    store = Store(tmp_path / "store.sqlite3")
    old = store_module.now() - timedelta(days=store_module.KEEP_FINISHED_DAYS + 1)
    store.add_job(JobRecord(id="j-old", engine="signals", spec_json="{}", state=SUCCEEDED, created_at=old))
    store.add_job(JobRecord(id="j-waiting", engine="signals", spec_json="{}", state=QUEUED, created_at=old))
    for index in range(98):
        store.add_job(JobRecord(id=f"j-{index:03d}", engine="signals", spec_json="{}", state=SUCCEEDED))
    kept = [job.id for job in store.list_jobs(1000)]
    assert "j-old" not in kept, "older than the age limit"
    assert "j-waiting" in kept, "unfinished jobs are never pruned"
    finished = [job_id for job_id in kept if job_id != "j-waiting"]
    assert len(finished) <= 30 + 10 and finished[0] == "j-097", "the newest are kept, within one pruning interval"
    store.close()


def test_a_long_error_message_is_cut_before_it_is_stored(tmp_path: Path) -> None:
    from reelmark.core.store import MAX_STORED_MESSAGE_CHARS

    store = Store(tmp_path / "store.sqlite3")
    store.add_job(JobRecord(id="j-1", engine="signals", spec_json="{}", state=FAILED, error_message="x" * 100_000))
    assert len(store.get_job("j-1").error_message) == MAX_STORED_MESSAGE_CHARS
    store.close()


def test_cached_job_finds_the_same_request_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    spec = '{"mediaPath": "/m/a.mp4"}'
    store.add_job(JobRecord(id="j-ran", engine="signals", spec_json=spec, state=SUCCEEDED, analysis_id="a-1"))
    assert store.cached_job("a-1", spec) is None, "the job that ran is not a cached answer"
    store.add_job(JobRecord(id="j-cached", engine="signals", spec_json=spec, state=SUCCEEDED, analysis_id="a-1", cached=True))
    assert store.cached_job("a-1", spec).id == "j-cached"
    assert store.cached_job("a-1", '{"mediaPath": "/m/b.mp4"}') is None
    assert store.cached_job("a-2", spec) is None
    store.close()
