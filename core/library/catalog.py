"""The library's tables in the shared store: files by content fingerprint, where each was seen, their moments,
and every distinct moment text once (with its MiniLM embedding, and FTS5's index of it).

Why keyed by fingerprint: a renamed or moved file has the same bytes, so it is found analysed and only its new
path is recorded; an edited file has new bytes, so it is analysed afresh. A file's moments, its state and its
paths are written in one transaction (`Store.transaction`), so a run killed at any instant leaves each file
either wholly indexed or not at all: the next run does the rest, and never adds a row twice (the moment rows are
unique per file and moment id, and a file's old rows are replaced, not added to).

Moment text is what a search reads: the label, the text (a transcript cue, a description), and the query it
answers. Distinct texts are stored once: a library of people and shots repeats a few labels millions of times.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from reelmark.core.library.clock import RecordingStart, moment_clock
from reelmark.core.library.scan import FoundFile
from reelmark.core.results import Analysis, Moment
from reelmark.core.store import Store
from reelmark.core.times import time_to_json

ANALYSED, FAILED = "analysed", "failed"
EMBEDDING_DTYPE = np.float16
"""Half precision halves the store (768 bytes a text) and moves cosine scores by under 0.001."""


@dataclass(frozen=True)
class KnownFile:
    fingerprint: str
    config: str
    state: str
    error: str


def moment_text(moment: Moment) -> str:
    """What a search matches a moment by: its label, its text and the query it answers, each once."""
    parts: list[str] = []
    for part in (moment.label, moment.text, moment.query or ""):
        part = " ".join(part.split())
        if part and part not in parts:
            parts.append(part)
    return " · ".join(parts) or moment.kind.value


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


class Catalog:
    def __init__(self, store: Store):
        self.store = store

    # --- reading ----------------------------------------------------------------------------------------------

    def known(self, fingerprint: str) -> KnownFile | None:
        with self.store.transaction(write=False) as db:
            row = db.execute("SELECT fingerprint, config, state, error FROM library_files WHERE fingerprint = ?",
                             (fingerprint,)).fetchone()  # fmt: skip
        return None if row is None else KnownFile(*row)

    def path_fingerprint(self, root: str, relative: str, size: int, mtime_ns: int) -> str | None:
        """The fingerprint recorded for this path, if the file's size and modification time are unchanged (then
        its bytes are taken as unchanged too, and it is not read again)."""
        with self.store.transaction(write=False) as db:
            row = db.execute(
                "SELECT fingerprint FROM library_paths WHERE root = ? AND relative = ? AND size = ? AND mtime_ns = ?",
                (root, relative, size, mtime_ns),
            ).fetchone()
        return None if row is None else row[0]

    def counts(self) -> dict[str, int]:
        with self.store.transaction(write=False) as db:
            files = dict(db.execute("SELECT state, COUNT(*) FROM library_files GROUP BY state").fetchall())
            moments = db.execute("SELECT COUNT(*) FROM library_moments").fetchone()[0]
            paths = db.execute("SELECT COUNT(*) FROM library_paths").fetchone()[0]
        return {"files": files.get(ANALYSED, 0), "failed": files.get(FAILED, 0), "moments": moments, "paths": paths}

    def paths_of(self, fingerprints: Iterable[str]) -> dict[str, list[FoundFile]]:
        wanted = list(dict.fromkeys(fingerprints))
        found: dict[str, list[FoundFile]] = {fingerprint: [] for fingerprint in wanted}
        with self.store.transaction(write=False) as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                rows = db.execute(
                    f"SELECT fingerprint, root, relative FROM library_paths WHERE fingerprint IN "
                    f"({', '.join('?' * len(chunk))}) ORDER BY root, relative", chunk,
                ).fetchall()  # fmt: skip
                for fingerprint, root, relative in rows:
                    found[fingerprint].append(FoundFile(Path(root), relative))
        return found

    def analysis(self, fingerprint: str) -> Analysis | None:
        with self.store.transaction(write=False) as db:
            row = db.execute("SELECT analysis_json FROM library_files WHERE fingerprint = ? AND state = ?",
                             (fingerprint, ANALYSED)).fetchone()  # fmt: skip
        return None if row is None or row[0] is None else Analysis.from_json(row[0])

    # --- writing ----------------------------------------------------------------------------------------------

    def record_path(self, root: str, relative: str, fingerprint: str, size: int, mtime_ns: int) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO library_paths VALUES (?, ?, ?, ?, ?)",
                       (root, relative, fingerprint, size, mtime_ns))  # fmt: skip

    def record_failure(self, fingerprint: str, config: str, error: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO library_files (fingerprint, config, state, error, updated_at) "
                "VALUES (?, ?, ?, ?, ?)", (fingerprint, config, FAILED, error[:2000], now_iso()),
            )  # fmt: skip

    def save(self, analysis: Analysis, config: str, start: RecordingStart,
             embed: EmbedFunction | None = None) -> int:  # fmt: skip
        """Replace the file's moments with `analysis`'s and mark it analysed, in one transaction; embeddings of
        texts new to the store are computed first (outside it), so the write itself is short."""
        texts = {moment.id: moment_text(moment) for moment in analysis.moments}
        new_texts = self._unknown_texts(set(texts.values()))
        vectors = embed(new_texts) if embed is not None and new_texts else None
        fingerprint = analysis.media.fingerprint
        with self.store.transaction() as db:
            for index, text in enumerate(new_texts):
                blob = None if vectors is None else np.asarray(vectors[index], EMBEDDING_DTYPE).tobytes()
                db.execute("INSERT OR IGNORE INTO library_texts (text, embedding) VALUES (?, ?)", (text, blob))
            ids = _text_ids(db, set(texts.values()))
            db.execute("DELETE FROM library_moments WHERE fingerprint = ?", (fingerprint,))
            db.executemany(
                "INSERT INTO library_moments (fingerprint, moment_id, kind, start_s, end_s, span_json, clock_date, "
                "clock_tod, clock_iso, text_id, score, tube_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_moment_row(fingerprint, moment, start, ids[texts[moment.id]]) for moment in analysis.moments],
            )  # fmt: skip
            duration = analysis.media.probe.duration
            db.execute(
                "INSERT OR REPLACE INTO library_files (fingerprint, config, state, duration_s, clock_source, "
                "recorded_at, error, analysis_json, updated_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)",
                (fingerprint, config, ANALYSED, None if duration is None else float(duration), start.source,
                 None if start.at is None else start.at.isoformat(), analysis.to_json(indent=None), now_iso()),
            )  # fmt: skip
        return len(analysis.moments)

    def _unknown_texts(self, texts: set[str]) -> list[str]:
        with self.store.transaction(write=False) as db:
            known = set(_text_ids(db, texts))
        return sorted(texts - known)


EmbedFunction = Any
"""`(texts: list[str]) -> np.ndarray` of unit-length rows (`search.embed`)."""


def _text_ids(db: Any, texts: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(texts)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        rows = db.execute(f"SELECT text, id FROM library_texts WHERE text IN ({', '.join('?' * len(chunk))})", chunk)
        found.update(rows.fetchall())
    return found


def _moment_row(fingerprint: str, moment: Moment, start: RecordingStart, text_id: int) -> tuple[Any, ...]:
    clock = moment_clock(start, moment.span.start_s)
    span = {"start": time_to_json(moment.span.start), "end": time_to_json(moment.span.end)}
    tube = [point.to_dict() for point in moment.tube] if moment.tube else None
    return (fingerprint, moment.id, moment.kind.value, moment.span.start_s, moment.span.end_s, json.dumps(span),
            clock.date, clock.time_of_day, clock.iso, text_id, moment.score,
            None if tube is None else json.dumps(tube))  # fmt: skip


def fingerprints_under(catalog: Catalog, folders: Sequence[str]) -> set[str]:
    """The fingerprints of files seen under any of `folders` (absolute, resolved)."""
    found: set[str] = set()
    with catalog.store.transaction(write=False) as db:
        for fingerprint, root, relative in db.execute("SELECT fingerprint, root, relative FROM library_paths"):
            if is_under(str(FoundFile(Path(root), relative).path), folders):
                found.add(fingerprint)
    return found


def is_under(path: str, folders: Sequence[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)
