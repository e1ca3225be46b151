"""Search every stored moment by what it says, by meaning, by clock time, folder, kind and place in the picture.

Ranking is hybrid, over each distinct moment text (`catalog`):
- lexical: SQLite FTS5 (BM25), so `pric*` (prefix) and `"walks in"` (phrase) work as FTS5 documents them; a query
  FTS5 cannot parse is searched as its words;
- semantic: cosine similarity of all-MiniLM-L6-v2 embeddings (the model the signals engine's transcript search
  loads offline), counted from `SEMANTIC_THRESHOLD` up, the level under which unrelated pairs stay on this model.
A text's score is the mean of the two, the lexical part being its BM25 relative to the best hit's (1.0 for the
best). The embeddings of all texts are loaded once per `Searcher` (one matrix product a query).

Then the texts' moments are filtered (kind, folder, clock) and, with a region, replaced by the part of their
tube that enters, leaves or stays in it. Hits are ordered by score, then file and time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from reelmark.core.errors import InvalidRequestError
from reelmark.core.library.catalog import EMBEDDING_DTYPE, Catalog, fingerprints_under, is_under
from reelmark.core.library.clock import format_time_of_day
from reelmark.core.library.region import Region, region_span

SEMANTIC_THRESHOLD = 0.35
"""Same bar as transcript search (`engines.signals.transcript`): measured unrelated pairs stay under about 0.2."""
LEXICAL_CANDIDATES = 2000
SEMANTIC_CANDIDATES = 500
TUBE_KINDS = ("person", "activity", "match", "face")
TEXT_BATCH = 50


@dataclass(frozen=True)
class Filters:
    kinds: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    between: tuple[float, float] | None = None
    """Clock time of day, seconds after midnight (start > end wraps past midnight)."""
    on: str | None = None
    region: Region | None = None
    motion: str = "enters"


@dataclass(frozen=True)
class Hit:
    fingerprint: str
    path: str
    moment_id: str
    kind: str
    start_s: float
    end_s: float
    clock: str | None
    text: str
    score: float
    span: dict[str, Any]
    """The moment's exact media range (`{"start": {value, rate}, "end": …}`)."""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "fingerprint": self.fingerprint, "moment_id": self.moment_id, "kind": self.kind,
                "start_s": self.start_s, "end_s": self.end_s, "clock": self.clock, "text": self.text,
                "score": round(self.score, 4), "span": self.span}  # fmt: skip


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length MiniLM embeddings (float32 rows): the transcript search's, its model loaded once per process."""
    from reelmark.core.engines.signals.transcript import embed as minilm

    return minilm(tuple(texts))


@lru_cache(maxsize=256)
def _query_vector(query: str) -> np.ndarray:
    """One query's embedding, on one thread: a single short sentence gains nothing from more, and on a busy
    machine waiting for a second core costs far more (measured on 2 shared cores, load 4.6: p50 9.5 ms and max
    50 ms on one thread, p50 36 ms and max 460 ms on two)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return embed([query])[0]
    finally:
        torch.set_num_threads(threads)


class Searcher:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._ids: np.ndarray | None = None
        self._matrix: np.ndarray | None = None
        self._loaded_max_id = -1

    def _embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """Every embedded text's id and vector, reloaded only when the store has texts this copy lacks (texts are
        only ever added, so the newest id tells; a count would read every row)."""
        with self.catalog.store.transaction(write=False) as db:
            newest = db.execute("SELECT MAX(id) FROM library_texts").fetchone()[0] or 0
            if newest != self._loaded_max_id:
                rows = db.execute("SELECT id, embedding FROM library_texts WHERE embedding IS NOT NULL ORDER BY id").fetchall()
                self._ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
                blob = b"".join(row[1] for row in rows)
                vectors = np.frombuffer(blob, dtype=EMBEDDING_DTYPE)
                self._matrix = vectors.reshape(len(rows), -1).astype(np.float32) if rows else np.zeros((0, 384), np.float32)
                self._loaded_max_id = newest
        assert self._ids is not None and self._matrix is not None
        return self._ids, self._matrix

    def text_scores(self, query: str) -> dict[int, float]:
        """Text id → hybrid score, for the texts that match by words or by meaning."""
        lexical = self._lexical(query)
        ids, matrix = self._embeddings()
        similarity: dict[int, float] = {}
        if len(ids):
            # einsum, not `@`: BLAS spreads a matrix-vector product over threads, and on a busy machine waking them
            # costs more than the product (measured, 10k x 384 on 2 shared cores: 9.6 ms with `@`, 1.7 ms einsum).
            sims = np.einsum("ij,j->i", matrix, _query_vector(query))
            top = np.argpartition(-sims, min(SEMANTIC_CANDIDATES, len(sims) - 1))[:SEMANTIC_CANDIDATES]
            similarity = {int(ids[i]): float(sims[i]) for i in top if sims[i] >= SEMANTIC_THRESHOLD}
            if lexical:
                positions = np.searchsorted(ids, list(lexical))
                for text_id, position in zip(lexical, positions, strict=True):
                    if position < len(ids) and ids[position] == text_id:
                        similarity.setdefault(text_id, max(0.0, float(sims[position])))
        return {text_id: (lexical.get(text_id, 0.0) + similarity.get(text_id, 0.0)) / 2
                for text_id in set(lexical) | set(similarity)}  # fmt: skip

    def _lexical(self, query: str) -> dict[int, float]:
        rows: list[tuple[int, float]] = []
        for expression in (query, _as_words(query)):
            if not expression:
                continue
            try:
                with self.catalog.store.transaction(write=False) as db:
                    rows = db.execute(
                        "SELECT rowid, bm25(library_fts) FROM library_fts WHERE library_fts MATCH ? ORDER BY rank "
                        "LIMIT ?", (expression, LEXICAL_CANDIDATES),
                    ).fetchall()  # fmt: skip
                break
            except sqlite3.OperationalError:  # not FTS5 syntax: an unbalanced quote, a stray operator
                continue
        if not rows:
            return {}
        best = min(rank for _, rank in rows) or -1.0
        return {text_id: (rank / best if best else 1.0) for text_id, rank in rows}

    def search(self, query: str, filters: Filters = Filters(), limit: int = 20) -> list[Hit]:
        query = query.strip()
        if not query and filters.region is None:
            raise InvalidRequestError("give a query (words, \"a phrase\", or pre*), or --region with --enters, --leaves "
                                      "or --inside")  # fmt: skip
        under = sorted(fingerprints_under(self.catalog, filters.folders)) if filters.folders else None
        if under == []:
            return []
        if not query:
            hits = self._hits(self._moment_rows(None, filters, under), None, filters)
        else:
            hits = self._best_hits(self.text_scores(query), filters, limit, under)
        hits.sort(key=lambda hit: (-hit.score, hit.path, hit.start_s))
        return hits[:limit]

    def _best_hits(self, scores: dict[int, float], filters: Filters, limit: int,
                   under: Sequence[str] | None) -> list[Hit]:  # fmt: skip
        """The hits of the best texts first, `TEXT_BATCH` texts at a time, stopping once `limit` hits are found and
        the next texts score lower (a text's moments share its score): a common word matches thousands of moments,
        and only the best `limit` are shown."""
        ordered = sorted(scores, key=lambda text_id: -scores[text_id])
        hits: list[Hit] = []
        for start in range(0, len(ordered), TEXT_BATCH):
            batch = ordered[start:start + TEXT_BATCH]
            hits.extend(self._hits(self._moment_rows(batch, filters, under), scores, filters))
            following = start + TEXT_BATCH
            if len(hits) >= limit and following < len(ordered):
                kept = sorted((hit.score for hit in hits), reverse=True)[limit - 1]
                if scores[ordered[following]] < kept:
                    break
        return hits

    def _hits(self, rows: list[tuple[Any, ...]], scores: dict[int, float] | None, filters: Filters) -> list[Hit]:
        paths = self.catalog.paths_of(row[0] for row in rows)
        hits = []
        for fingerprint, moment_id, kind, start_s, end_s, span_json, tod, clock_iso, date, text_id, text, tube_json in rows:
            start, end = start_s, end_s
            if filters.region is not None:
                found = region_span(json.loads(tube_json), filters.region, filters.motion)
                if found is None:
                    continue
                start, end = found
            hit_clock, hit_tod, hit_date = _shifted(clock_iso, tod, date, start - start_s)
            if not _clock_matches(filters, hit_tod, hit_date):
                continue
            known = [str(path.path) for path in paths.get(fingerprint) or []]
            shown = next((path for path in known if is_under(path, filters.folders)), known[0] if known else "")
            span = json.loads(span_json) if (start, end) == (start_s, end_s) else {"start_s": start, "end_s": end}
            hits.append(Hit(fingerprint, shown, moment_id, kind, start, end, hit_clock, text,
                            1.0 if scores is None else scores[text_id], span))  # fmt: skip
        return hits

    def _moment_rows(self, text_ids: Sequence[int] | None, filters: Filters,
                     under: Sequence[str] | None) -> list[tuple[Any, ...]]:  # fmt: skip
        """The moments of `text_ids` (None: of any text) that pass the filters SQL can apply; `under`: only these
        files (--in)."""
        where: list[str] = []
        values: list[Any] = []
        if text_ids is not None:
            if not text_ids:
                return []
            where.append(f"m.text_id IN ({', '.join('?' * len(text_ids))})")
            values.extend(text_ids)
        if filters.kinds:
            where.append(f"m.kind IN ({', '.join('?' * len(filters.kinds))})")
            values.extend(filters.kinds)
        if filters.region is not None:
            where.append("m.tube_json IS NOT NULL")
            if not filters.kinds:
                where.append(f"m.kind IN ({', '.join('?' * len(TUBE_KINDS))})")
                values.extend(TUBE_KINDS)
        if filters.between is not None:
            where.append("m.clock_tod IS NOT NULL")
        if filters.on is not None:
            where.append("m.clock_date IS NOT NULL")
        if under is not None:
            where.append(f"m.fingerprint IN ({', '.join('?' * len(under))})")
            values.extend(under)
        with self.catalog.store.transaction(write=False) as db:
            return db.execute(
                "SELECT m.fingerprint, m.moment_id, m.kind, m.start_s, m.end_s, m.span_json, m.clock_tod, m.clock_iso, "
                "m.clock_date, m.text_id, t.text, m.tube_json FROM library_moments m JOIN library_texts t ON "
                f"t.id = m.text_id {'WHERE ' + ' AND '.join(where) if where else ''}", values,
            ).fetchall()  # fmt: skip


def _as_words(query: str) -> str:
    """The query's words, each quoted, so FTS5 reads no operator in them."""
    words = ["".join(ch for ch in word if ch.isalnum()) for word in query.split()]
    return " ".join(f'"{word}"' for word in words if word)


def _shifted(clock_iso: str | None, tod: float | None, date: str | None, delta: float) -> tuple[str | None, float | None, str | None]:
    """The clock `delta` seconds after a moment's start clock (a region event happens inside the moment)."""
    if tod is None:
        return None, None, None
    if date is not None and clock_iso is not None:
        moment = datetime.fromisoformat(clock_iso) + timedelta(seconds=delta)
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
        return moment.isoformat(timespec="milliseconds"), seconds, moment.date().isoformat()
    seconds = (tod + delta) % 86_400
    return format_time_of_day(seconds), seconds, None


def _clock_matches(filters: Filters, tod: float | None, date: str | None) -> bool:
    if filters.on is not None and date != filters.on:
        return False
    if filters.between is not None:
        if tod is None:
            return False
        low, high = filters.between
        return low <= tod <= high if low <= high else (tod >= low or tod <= high)
    return True


def folder_filters(folders: Sequence[str]) -> tuple[str, ...]:
    """--in folders as the absolute, resolved paths the library records."""
    from pathlib import Path

    return tuple(str(Path(folder).resolve()) for folder in folders)
