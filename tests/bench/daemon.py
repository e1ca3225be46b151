"""Daemon load benchmark: 50 concurrent clients doing cached look-ups while 5 analyses run.

A daemon subprocess (`python -m reelmark.core.daemon serve`, fresh store in a temp folder) first analyses one
small clip; then 50 client threads, each on its own channel, call GetAnalysis for that clip (a cached look-up:
fingerprint memo, store read, message) until `--requests` calls are done, while 5 more clients each start an
uncached analysis of its own clip and follow it with WatchJob to the end.

Reported per run and as median (min–max) over `--runs` runs, each with a fresh daemon: look-up latency p50 /
p99 / max and throughput, the analyses' wall times, the error count (must be 0; the exit status is 1
otherwise), the daemon's RSS after every 1000 look-ups (growth after the first 1000, the warm-up, must stay
within noise), and an anchor measured in the same run: a bare gRPC health check, the cheapest call the same
server answers, against a single client's look-up on the idle daemon.

Run: `make bench-daemon` or `.venv/bin/python tests/bench/daemon.py [--requests N] [--clients N] [--runs N]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from reelmark.core.client import DaemonClient, start_daemon_subprocess
from reelmark.core.engines import AnalysisRequest
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, write_clip
from reelmark.core.tasks import Task

RSS_EVERY = 1000
ANALYSIS_TASKS = (Task.SHOTS, Task.ACTIVITY, Task.HIGHLIGHTS)
ANCHOR_CALLS = 500


@dataclass
class Tally:
    """What the client threads report, under one lock."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rss: list[tuple[int, int]] = field(default_factory=list)
    analyses: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def lookups(address: str, request: AnalysisRequest, quota: list[int], tally: Tally, pid: int) -> None:
    with DaemonClient(address) as client:
        while True:
            with tally.lock:
                if quota[0] <= 0:
                    return
                quota[0] -= 1
            started = time.perf_counter()
            try:
                client.lookup(request, timeout=30)
            except Exception as error:  # every failure counts; the bench reports them all
                with tally.lock:
                    tally.errors.append(f"lookup: {error}")
                continue
            elapsed = time.perf_counter() - started
            with tally.lock:
                tally.latencies.append(elapsed)
                done = len(tally.latencies)
            if done % RSS_EVERY == 0:
                with tally.lock:
                    tally.rss.append((done, rss_bytes(pid)))


def analysis(address: str, request: AnalysisRequest, tally: Tally) -> None:
    started = time.perf_counter()
    try:
        with DaemonClient(address) as client:
            job = client.start(request, force=True)
            final = list(client.watch(job.id))[-1]
            if not final.HasField("analysis"):
                raise RuntimeError(f"job {job.id} ended without a result: {final.job.state}")
    except Exception as error:
        with tally.lock:
            tally.errors.append(f"analysis: {error}")
        return
    with tally.lock:
        tally.analyses.append(time.perf_counter() - started)


def anchor(address: str, request: AnalysisRequest) -> tuple[float, float]:
    """Median single-client latency of a health check and of a cached look-up, on the idle daemon."""
    with grpc.insecure_channel(address) as channel, DaemonClient(address) as client:
        health = health_pb2_grpc.HealthStub(channel)
        bare, ours = [], []
        for _ in range(ANCHOR_CALLS):
            started = time.perf_counter()
            health.Check(health_pb2.HealthCheckRequest(service=""))
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.lookup(request)
            ours.append(time.perf_counter() - started)
    return statistics.median(bare), statistics.median(ours)


def make_clips(folder: Path, count: int) -> tuple[Path, list[Path]]:
    audio = (AudioSegment(Fraction(0), Fraction(4), "tone", -20.0), AudioSegment(Fraction(4), Fraction(8), "noise"))
    cached = write_clip(folder / "cached.mp4", ClipSpec(frame_count=50, cuts=(20,), audio=audio[:1])).path
    others = [
        write_clip(folder / f"job{index}.mp4", ClipSpec(frame_count=200, cuts=(60 + index, 140), gop=25, audio=audio,
                                                         seed=index)).path
        for index in range(count)
    ]  # fmt: skip
    return cached, others


@dataclass
class Run:
    tally: Tally
    wall: float
    bare: float
    single: float


def one_run(folder: Path, cached: AnalysisRequest, job_clips: list[Path], options: argparse.Namespace) -> Run:
    """A fresh daemon and store: prepare the cached analysis, then the load, then the idle anchor."""
    store = folder / f"store-{time.monotonic_ns()}.sqlite3"
    with start_daemon_subprocess(store, args=("--http-address", "off"), log=subprocess.DEVNULL) as daemon:
        pid = daemon.process.pid
        warm = Tally()
        analysis(daemon.address, cached, warm)
        if warm.errors:
            raise SystemExit(f"could not prepare the cached analysis: {warm.errors}")
        tally = Tally(rss=[(0, rss_bytes(pid))])
        quota = [options.requests]
        threads = [threading.Thread(target=lookups, args=(daemon.address, cached, quota, tally, pid))
                   for _ in range(options.clients)]  # fmt: skip
        threads += [threading.Thread(target=analysis, args=(daemon.address, AnalysisRequest(clip, ANALYSIS_TASKS), tally))
                    for clip in job_clips]  # fmt: skip
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        bare, single = anchor(daemon.address, cached)
    return Run(tally, wall, bare, single)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="cached look-ups per run (default 10000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent look-up clients (default 50)")
    parser.add_argument("--analyses", type=int, default=5, help="concurrent analyses (default 5)")
    parser.add_argument("--runs", type=int, default=3, help="repeats, each with a fresh daemon (default 3)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reelmark-bench-daemon-") as scratch:
        folder = Path(scratch)
        cached_clip, job_clips = make_clips(folder, options.analyses)
        cached = AnalysisRequest(cached_clip, (Task.SHOTS, Task.HIGHLIGHTS))
        runs = [one_run(folder, cached, job_clips, options) for _ in range(options.runs)]
    report(options, runs)
    return 0 if not any(run.tally.errors for run in runs) else 1


def spread(values: list[float], unit: float = 1.0, digits: int = 1) -> str:
    """Median and min–max, as DESIGN §12 asks of every figure from a noisy machine."""
    return (f"{statistics.median(values) * unit:.{digits}f} "
            f"({min(values) * unit:.{digits}f}–{max(values) * unit:.{digits}f})")  # fmt: skip


def report(options: argparse.Namespace, runs: list[Run]) -> None:
    ms = 1000.0
    print(f"daemon load: {options.clients} look-up clients ({options.requests} cached look-ups) + "
          f"{options.analyses} concurrent analyses; {len(runs)} runs, each a fresh daemon")  # fmt: skip
    print(f"  machine    {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("  clients and daemon share the machine's CPUs\n")
    print("| run | look-ups/s | p50 ms | p99 ms | max ms | analyses: median s | errors | RSS MiB start → end |")
    print("|---|---|---|---|---|---|---|---|")
    for number, run in enumerate(runs, start=1):
        latencies, rss = run.tally.latencies or [float("nan")], run.tally.rss
        print(f"| {number} | {len(latencies) / run.wall:.0f} | {percentile(latencies, 0.5) * ms:.1f} | "
              f"{percentile(latencies, 0.99) * ms:.1f} | {max(latencies) * ms:.1f} | "
              f"{statistics.median(run.tally.analyses or [float('nan')]):.1f} | {len(run.tally.errors)} | "
              f"{rss[0][1] / 2**20:.0f} → {rss[-1][1] / 2**20:.0f} |")  # fmt: skip
    print()
    print(f"look-up p50 {spread([percentile(r.tally.latencies, 0.5) for r in runs], ms)} ms, "
          f"p99 {spread([percentile(r.tally.latencies, 0.99) for r in runs], ms)} ms, "
          f"{spread([len(r.tally.latencies) / r.wall for r in runs], digits=0)} look-ups/s, "
          f"errors {sum(len(r.tally.errors) for r in runs)}")  # fmt: skip
    print(f"anchor (idle daemon, one client, p50): health check {spread([r.bare for r in runs], ms, 2)} ms, "
          f"cached look-up {spread([r.single for r in runs], ms, 2)} ms")  # fmt: skip
    print(f"\ndaemon RSS (MiB) after every {RSS_EVERY} look-ups; the first {RSS_EVERY} are the warm-up:")
    for number, run in enumerate(runs, start=1):
        settled = [rss for count, rss in run.tally.rss if count >= RSS_EVERY]
        series = ", ".join(f"{rss / 2**20:.0f}" for _, rss in run.tally.rss)
        growth = (settled[-1] - settled[0]) / 2**20 if settled else float("nan")
        print(f"  run {number}: {series}  (after warm-up {growth:+.1f} MiB)")
    for error in [error for run in runs for error in run.tally.errors][:10]:
        print(f"error: {error}")


if __name__ == "__main__":
    sys.exit(main())
