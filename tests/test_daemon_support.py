"""Fixtures and helpers shared by the daemon's tests (this module holds no tests itself).

Every daemon here is real: a grpc server on an ephemeral loopback port, a SQLite store in a temp folder, the
real signals engine on tiny generated clips. Where a test needs a job to be provably mid-flight (cancel, a
deadline, a full queue), `GatedEngine` wraps the real engine and holds it at its first progress report until
the test releases it or the job is cancelled, so no test depends on how fast the machine is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core.daemon.server import Daemon, DaemonConfig
from reelmark.core.engines import get_engine
from reelmark.core.engines.base import AnalysisRequest, CancelCheck, Engine, EngineCapabilities, ProgressCallback
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, write_clip
from reelmark.core.results import Analysis

HOLD_LIMIT_S = 60.0
"""A gate never holds longer than this, so a failing test cannot hang the run."""


class GatedEngine:
    """The real signals engine, paused at its first progress report until `release` is set or the job is
    cancelled; then the real engine carries on (and, if cancelled, stops at its own next check)."""

    def __init__(self) -> None:
        self.inner: Engine = get_engine("signals")
        self.name = self.inner.name
        self.version = self.inner.version
        self.held = threading.Event()
        self.release = threading.Event()

    def capabilities(self) -> EngineCapabilities:
        return self.inner.capabilities()

    def preflight(self, request: AnalysisRequest) -> None:
        self.inner.preflight(request)

    def analyze(self, request: AnalysisRequest, progress: ProgressCallback | None = None,
                cancelled: CancelCheck | None = None) -> Analysis:  # fmt: skip
        def report(stage: str, fraction: float) -> None:
            if progress is not None:
                progress(stage, fraction)
            if not self.held.is_set():
                self.held.set()
                for _ in range(int(HOLD_LIMIT_S / 0.01)):
                    if self.release.wait(0.01) or (cancelled is not None and cancelled()):
                        break

        return self.inner.analyze(request, report, cancelled)


class VariantEngine:
    """The real signals engine under another version or claiming a GPU: what a new release or the vlm engine
    looks like to the daemon's cache and worker pools."""

    def __init__(self, version: str | None = None, needs_gpu: bool = False) -> None:
        self.inner: Engine = get_engine("signals")
        self.name = self.inner.name
        self.version = version or self.inner.version
        self.needs_gpu = needs_gpu

    def capabilities(self) -> EngineCapabilities:
        return replace(self.inner.capabilities(), needs_gpu=self.needs_gpu)

    def preflight(self, request: AnalysisRequest) -> None:
        self.inner.preflight(request)

    def analyze(self, request: AnalysisRequest, progress: ProgressCallback | None = None,
                cancelled: CancelCheck | None = None) -> Analysis:  # fmt: skip
        return self.inner.analyze(request, progress, cancelled)


def engine_factory(gated: GatedEngine) -> Callable[[str], Engine]:
    return lambda name: gated if name == "signals" else get_engine(name)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One second of 25 fps video with a cut and a tone: analyses take well under a second."""
    folder = tmp_path_factory.mktemp("daemon-media")
    spec = ClipSpec(frame_count=25, cuts=(12,), gop=12, audio=(AudioSegment(Fraction(0), Fraction(1), "tone"),))
    return write_clip(folder / "tiny.mp4", spec).path


@pytest.fixture(scope="session")
def second_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("daemon-media-2")
    return write_clip(folder / "second.mp4", ClipSpec(frame_count=20, cuts=(8,), gop=10)).path


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start in-process daemons on free loopback ports with a store in tmp_path; all stop at teardown."""
    started: list[Daemon] = []

    def start(engines: Callable[[str], Engine] = get_engine, **overrides: object) -> Daemon:
        settings: dict[str, object] = {
            "address": "127.0.0.1:0", "http_address": "127.0.0.1:0", "store_path": tmp_path / "store.sqlite3",
            "grace_s": 5.0,
        }  # fmt: skip
        settings.update(overrides)
        daemon = Daemon(DaemonConfig(**settings), engine_factory=engines).start()  # type: ignore[arg-type]
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop(grace=1.0)


def shots_request(path: Path) -> AnalysisRequest:
    """The cheapest real analysis: shots only."""
    from reelmark.core.tasks import Task

    return AnalysisRequest(path, (Task.SHOTS,))
