"""Daemon load benchmark: the latency an editor feels (open loop) and the daemon's ceiling (closed loop).

A daemon subprocess (`python -m reelmark.core.daemon serve --workers 5`, fresh store in a temp folder) first
analyses one small clip. Clients then run in several processes (`--processes`, each an asyncio loop with its
share of the clients, each client on its own channel), so that no client shares a GIL with the daemon or with
most other clients:

1. open loop, idle: `--clients` clients each send a bare health check (the floor this machine allows), then a
   cached look-up (GetAnalysis by spec: fingerprint memo, store read, message), `--rate` times a second on a
   fixed schedule, spread evenly, for `--seconds` each. Latency counts from the scheduled send, so a late answer
   also delays (and is charged to) the next call;
2. open loop, busy: the same while `--analyses` uncached analyses run (started just before, in the daemon's
   worker processes); the report says how many were still running when the window closed;
3. closed loop: the same clients send cached look-ups back to back for `--seconds`, then bare gRPC health checks
   (the cheapest call the server answers: the ceiling) for as long; the ratio of the two throughputs is the
   daemon's own cost per look-up, in the same run on the same server.

Run: `make bench-daemon` or `.venv/bin/python tests/bench/daemon.py [--clients N] [--rate R] [--seconds S]`.
Exit status 1 if any call failed.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
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

from reelmark.core.api.convert import spec_from_request
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.api.v1 import service_pb2_grpc
from reelmark.core.client import DaemonClient, start_daemon_subprocess
from reelmark.core.engines import AnalysisRequest
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, write_clip
from reelmark.core.tasks import Task

ANALYSIS_TASKS = (Task.SHOTS, Task.ACTIVITY, Task.HIGHLIGHTS)
START_DELAY_S = 1.5
"""Client processes are told a common start time this far ahead, so all have connected before it."""


@dataclass
class Load:
    """One phase's instructions to a client process."""

    mode: str
    """'open' (cached look-ups on a fixed schedule), 'open-health' (health checks on that schedule), 'closed'
    (look-ups back to back) or 'health' (health checks back to back)."""
    clients: list[int]
    """Global indices of this process's clients (they set each client's offset in the schedule)."""
    total_clients: int
    rate: float
    seconds: float
    start_at: float
    """time.monotonic() of the schedule's start (system-wide on Linux, so shared by all processes)."""


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    completed: int = 0


async def _client(address: str, lookup: api.GetAnalysisRequest, load: Load, index: int, result: Result) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = service_pb2_grpc.ReelmarkStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        await channel.channel_ready()
        end = load.start_at + load.seconds
        if load.mode.startswith("open"):
            period = 1.0 / load.rate
            scheduled = load.start_at + period * index / load.total_clients
            while scheduled < end:
                await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
                try:
                    if load.mode == "open-health":
                        await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
                    else:
                        await stub.GetAnalysis(lookup, timeout=30)
                    result.latencies.append(time.monotonic() - scheduled)
                except grpc.RpcError as error:
                    result.errors.append(f"lookup: {error.code().name} {error.details()}")
                scheduled += period
            return
        await asyncio.sleep(max(0.0, load.start_at - time.monotonic()))
        while time.monotonic() < end:
            try:
                if load.mode == "health":
                    await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
                else:
                    await stub.GetAnalysis(lookup, timeout=30)
                result.completed += 1
            except grpc.RpcError as error:
                result.errors.append(f"{load.mode}: {error.code().name} {error.details()}")


def client_process(address: str, lookup_bytes: bytes, load: Load, results: multiprocessing.Queue) -> None:
    """One client process: its share of the clients on one asyncio loop; sends back its Result."""
    lookup = api.GetAnalysisRequest.FromString(lookup_bytes)
    result = Result()

    async def run_all() -> None:
        await asyncio.gather(*(_client(address, lookup, load, index, result) for index in load.clients))

    asyncio.run(run_all())
    results.put(result)


def run_phase(address: str, lookup: api.GetAnalysisRequest, mode: str, options: argparse.Namespace) -> Result:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    start_at = time.monotonic() + START_DELAY_S + 0.5 * options.processes
    shares = [list(range(options.clients))[number::options.processes] for number in range(options.processes)]
    processes = [
        context.Process(target=client_process, args=(
            address, lookup.SerializeToString(),
            Load(mode, share, options.clients, options.rate, options.seconds, start_at), results))
        for share in shares
    ]  # fmt: skip
    for process in processes:
        process.start()
    merged = Result()
    for _ in processes:
        part = results.get(timeout=options.seconds + 120)
        merged.latencies += part.latencies
        merged.errors += part.errors
        merged.completed += part.completed
    for process in processes:
        process.join()
    if time.monotonic() > start_at + options.seconds + 5:
        merged.errors.append(f"{mode}: the clients finished late; the schedule did not hold")
    return merged


def analyse(address: str, request: AnalysisRequest, walls: list[float], errors: list[str]) -> None:
    started = time.perf_counter()
    try:
        with DaemonClient(address) as client:
            job = client.start(request, force=True)
            final = list(client.watch(job.id))[-1]
            if not final.HasField("analysis"):
                raise RuntimeError(f"job {job.id} ended without a result: {final.job.state}")
    except Exception as error:  # every failure counts; the bench reports them all
        errors.append(f"analysis: {error}")
        return
    walls.append(time.perf_counter() - started)


def make_clips(folder: Path, count: int, frames: int) -> tuple[Path, list[Path]]:
    audio = (AudioSegment(Fraction(0), Fraction(4), "tone", -20.0), AudioSegment(Fraction(4), Fraction(8), "noise"))
    cached = write_clip(folder / "cached.mp4", ClipSpec(frame_count=50, cuts=(20,), audio=audio[:1])).path
    others = [
        write_clip(folder / f"job{index}.mp4", ClipSpec(frame_count=frames, cuts=(60 + index, frames // 2), gop=25,
                                                         audio=audio, seed=index)).path
        for index in range(count)
    ]  # fmt: skip
    return cached, others


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_line(name: str, result: Result, options: argparse.Namespace, extra: str = "") -> str:
    ms = 1000.0
    values = result.latencies
    return (f"| {name} | {len(values)} | {percentile(values, 0.5) * ms:.1f} | "
            f"{percentile(values, 0.99) * ms:.1f} | {max(values or [float('nan')]) * ms:.1f} | "
            f"{len(result.errors)} | {extra} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="look-up clients (default 50)")
    parser.add_argument("--rate", type=float, default=10.0, help="look-ups per second per client, open loop (default 10)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument("--processes", type=int, default=5, help="client processes (default 5)")
    parser.add_argument("--analyses", type=int, default=5, help="analyses running during the busy phase (default 5)")
    parser.add_argument("--analysis-frames", type=int, default=7500,
                        help="frames per analysed clip, enough to outlast the busy phase (default 7500: 5 min at 25 fps)")
    options = parser.parse_args()

    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="reelmark-bench-daemon-") as scratch:
        folder = Path(scratch)
        cached_clip, job_clips = make_clips(folder, options.analyses, options.analysis_frames)
        cached = AnalysisRequest(cached_clip, (Task.SHOTS, Task.HIGHLIGHTS))
        lookup = api.GetAnalysisRequest(spec=spec_from_request(cached, "signals"))
        args = ("--http-address", "off", "--workers", str(options.analyses), "--max-queue", "64")
        with start_daemon_subprocess(folder / "store.sqlite3", args=args, log=subprocess.DEVNULL) as daemon:
            analyse(daemon.address, cached, [], errors)
            rss_start = rss_bytes(daemon.process.pid)
            floor = run_phase(daemon.address, lookup, "open-health", options)
            idle = run_phase(daemon.address, lookup, "open", options)
            walls: list[float] = []
            threads = [threading.Thread(target=analyse, args=(daemon.address, AnalysisRequest(clip, ANALYSIS_TASKS),
                                                              walls, errors)) for clip in job_clips]  # fmt: skip
            with DaemonClient(daemon.address) as client:
                for thread in threads:
                    thread.start()
                deadline = time.monotonic() + 60
                while (sum(job.state == api.JOB_STATE_RUNNING for job in client.jobs(options.analyses)) < options.analyses
                       and time.monotonic() < deadline):  # fmt: skip
                    time.sleep(0.1)
                busy = run_phase(daemon.address, lookup, "open", options)
                still_running = sum(job.state == api.JOB_STATE_RUNNING for job in client.jobs(options.analyses))
            for thread in threads:
                thread.join()
            closed = run_phase(daemon.address, lookup, "closed", options)
            health = run_phase(daemon.address, lookup, "health", options)
            rss_end = rss_bytes(daemon.process.pid)
    errors += floor.errors + idle.errors + busy.errors + closed.errors + health.errors

    print(f"daemon load: {options.clients} clients in {options.processes} processes; open loop {options.rate:g} "
          f"look-ups/s each ({options.clients * options.rate:g}/s in all) for {options.seconds:g} s per phase")  # fmt: skip
    print(f"  machine    {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("  clients, daemon and its workers share the machine's CPUs\n")
    print("| open loop | answered | p50 ms | p99 ms | max ms | errors | |")
    print("|---|---|---|---|---|---|---|")
    print(latency_line("bare health checks, idle daemon (the machine's floor)", floor, options))
    print(latency_line("cached look-ups, idle daemon", idle, options))
    print(latency_line(f"cached look-ups, {options.analyses} analyses running", busy, options,
                       f"{still_running} still running at the end; analyses took {statistics.median(walls or [float('nan')]):.1f} s (median)"))  # fmt: skip
    lookups_per_s, health_per_s = closed.completed / options.seconds, health.completed / options.seconds
    print(f"\nclosed loop (saturation): cached look-ups {lookups_per_s:.0f}/s, bare health checks {health_per_s:.0f}/s; "
          f"ratio {lookups_per_s / health_per_s if health_per_s else float('nan'):.2f}")  # fmt: skip
    print(f"daemon RSS (its own process, workers apart): {rss_start / 2**20:.0f} MiB after the first analysis → "
          f"{rss_end / 2**20:.0f} MiB after every phase")  # fmt: skip
    for error in errors[:10]:
        print(f"error: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
