"""Library benchmark: index throughput (local and on a 2-worker local Ray cluster), search latency at 10k, 100k and
1M moments, and the store's size per 1k moments.

1. Index: `--clips` generated clips (`--clip-seconds` each, 640x360 25 fps with grain, a cut in each) indexed with the
   signals engine's shots task, first in this process, then on a local Ray cluster of 2 CPUs (ray.init, loopback;
   the cluster's start-up and the MiniLM model's load are not counted). Figures: media hours per wall hour; and whether both stores hold the
   same moment ids.
2. Search: stores with N synthetic moment rows (N = 10k, 100k, 1M), one distinct text per `TEXTS_PER_MOMENT`
   moments (sentences of `WORDS_PER_TEXT` words from a `VOCABULARY`-word vocabulary) with random unit-length
   embeddings (the search costs the same; only real embeddings make the semantic scores meaningful). Each store
   answers `--queries` distinct two-word queries (every fifth a "phrase", every fifth a prefix*), with the
   MiniLM model loaded, each store's embeddings loaded once and three searches run before timing (a daemon keeps
   all of that warm); each query's own embedding is computed inside the timed call. p50/p99 per size.
3. Size: the store file (after a WAL checkpoint) per 1k moments, at each size.

Run: `.venv/bin/python tests/bench/library.py [--sizes 10000,100000,1000000] [--queries 200] [--no-ray]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reelmark.core.library.analyse import IndexConfig
from reelmark.core.library.catalog import EMBEDDING_DTYPE, Catalog
from reelmark.core.library.index import local_runner, run_index
from reelmark.core.library.search import Searcher, embed
from reelmark.core.media.synthetic import ClipSpec, write_clip
from reelmark.core.store import Store

TEXTS_PER_MOMENT = 10
WORDS_PER_TEXT = 8
VOCABULARY = 5000
KINDS = ("speech", "person", "shot", "activity", "description")


def index_throughput(folder: Path, clips: int, seconds: int, use_ray: bool) -> dict[str, object]:
    media = folder / "media"
    for seed in range(clips):
        frames = seconds * 25
        write_clip(media / f"clip{seed:02d}.mp4", ClipSpec(width=640, height=360, frame_count=frames, grain=4.0,
                                                            cuts=(frames // 3 + seed,), seed=seed))  # fmt: skip
    config = IndexConfig("signals", ("shots",))
    embed(["load the model before either run is timed"])
    results: dict[str, object] = {}
    stores = {}
    runs = [("local", local_runner)]
    if use_ray:
        import ray

        from reelmark.core.library.ray_runner import ray_runner

        ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 logging_level="WARNING", log_to_driver=False)  # fmt: skip
        runs.append(("ray-2-workers", ray_runner("auto")))
    try:
        for name, runner in runs:
            stores[name] = folder / f"{name}.sqlite3"
            catalog = Catalog(Store(stores[name]))
            started = time.perf_counter()
            summary = run_index([media], config, catalog, runner=runner, embed=embed)
            wall = time.perf_counter() - started
            results[name] = {"files": summary.analysed, "media_s": round(summary.media_s, 1), "wall_s": round(wall, 1),
                             "media_hours_per_hour": round(summary.media_s / wall, 1)}  # fmt: skip
    finally:
        if use_ray:
            ray.shutdown()
    if use_ray:
        ids = [_moment_ids(stores[name]) for name, _ in runs]
        results["same_moment_ids"] = ids[0] == ids[1]
    return results


def _moment_ids(store: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT fingerprint, moment_id FROM library_moments ORDER BY 1, 2").fetchall()


def synthetic_store(path: Path, moments: int, words: list[str], rng: random.Random) -> None:
    store = Store(path)
    texts = max(1, moments // TEXTS_PER_MOMENT)
    vectors = np.random.default_rng(1).standard_normal((texts, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with store.transaction() as db:
        db.executemany("INSERT INTO library_texts (id, text, embedding) VALUES (?, ?, ?)", (
            (index + 1, " ".join(rng.choices(words, k=WORDS_PER_TEXT)) + f" #{index}",
             vectors[index].astype(EMBEDDING_DTYPE).tobytes()) for index in range(texts)
        ))  # fmt: skip
        files = max(1, moments // 500)
        db.executemany("INSERT INTO library_files (fingerprint, config, state, duration_s, updated_at) "
                       "VALUES (?, '{}', 'analysed', 3600, '')", ((f"rm1-{index:032x}",) for index in range(files)))
        db.executemany("INSERT INTO library_paths VALUES ('/footage', ?, ?, 0, 0)",
                       ((f"day{index % 30}/cam{index}.mp4", f"rm1-{index:032x}") for index in range(files)))
        db.executemany(
            "INSERT INTO library_moments (fingerprint, moment_id, kind, start_s, end_s, span_json, clock_date, "
            "clock_tod, clock_iso, text_id, score, tube_json) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL)",
            ((f"rm1-{index % files:032x}", f"m-{index:016x}", KINDS[index % len(KINDS)], (index // files) * 2.0,
              (index // files) * 2.0 + 2.0, json.dumps({"start": {"value": index // files * 2, "rate": 1},
                                                        "end": {"value": index // files * 2 + 2, "rate": 1}}),
              float(index % 86400), "00:00:00", rng.randrange(texts) + 1) for index in range(moments)),
        )  # fmt: skip
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def search_latency(folder: Path, sizes: list[int], queries: int) -> dict[str, object]:
    rng = random.Random(17)
    words = sorted({"".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(VOCABULARY)})
    embed(["warm the model up"])
    results: dict[str, object] = {}
    for size in sizes:
        path = folder / f"synthetic-{size}.sqlite3"
        started = time.perf_counter()
        synthetic_store(path, size, words, rng)
        built = time.perf_counter() - started
        searcher = Searcher(Catalog(Store(path)))
        started = time.perf_counter()
        searcher.text_scores("warm up")
        loaded = time.perf_counter() - started
        for warm in ("first search", '"a phrase"', "pre*"):  # SQLite's page cache and the tokenizer, as in a daemon
            searcher.search(warm, limit=20)
        latencies, hits = [], []
        for number in range(queries):
            first, second = rng.sample(words, 2)
            query = f'"{first} {second}"' if number % 5 == 1 else f"{first[:3]}*" if number % 5 == 2 else f"{first} {second}"
            started = time.perf_counter()
            found = searcher.search(query, limit=20)
            latencies.append((time.perf_counter() - started) * 1000)
            hits.append(len(found))
        latencies.sort()
        results[str(size)] = {
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
            "max_ms": round(latencies[-1], 1),
            "mean_hits": round(statistics.mean(hits), 1),
            "store_mb": round(path.stat().st_size / 1e6, 1),
            "bytes_per_1k_moments": round(path.stat().st_size / (size / 1000)),
            "build_s": round(built, 1), "embeddings_load_s": round(loaded, 2),
        }  # fmt: skip
        print(f"{size:>9} moments: {results[str(size)]}", file=sys.stderr)
        path.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--clip-seconds", type=int, default=20)
    parser.add_argument("--no-ray", action="store_true", help="Skip the Ray run (when Ray is not installed).")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelmark-bench-library-") as folder:
        report = {
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "index": index_throughput(Path(folder), arguments.clips, arguments.clip_seconds, not arguments.no_ray),
            "search": search_latency(Path(folder), [int(size) for size in arguments.sizes.split(",")], arguments.queries),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
