"""The `signals` engine: what every user gets with no GPU and no model weights.

One video decode (`features.extract_video_features`: cut scores, fades, motion, luma statistics, background
subtraction, and the people/face detectors at a sampled rate) and one audio pass (`audio_features`: BS.1770
loudness curves, speech and silence) feed every task; no task decodes the file again. The tasks, what each
reads and which module does it are one table, `tasks.TASKS`; the engine loops over it without naming a task.

Options are `SignalsParams` (see `context.py`), passed as `--param name=value` on the CLI.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from reelmark.core.engines.base import (
    AnalysisCancelled,
    AnalysisRequest,
    CancelCheck,
    EngineCapabilities,
    ProgressCallback,
    analysed_range,
    build_analysis,
    checked_tasks,
)
from reelmark.core.engines.signals.context import SignalsContext, SignalsParams
from reelmark.core.engines.signals.params import parse_params
from reelmark.core.engines.signals.tasks import TaskSpec, run_order, task_table
from reelmark.core.results import Analysis

VERSION = "0.1.0"
# Share of the progress bar each stage takes: decoding video dominates.
STAGE_WEIGHTS = {"video": 0.75, "audio": 0.15, "tasks": 0.10}


class _FromTaskTable:
    """A class attribute read from the live task table, so a task registered after import is offered too."""

    def __init__(self, select: Callable[[dict[str, TaskSpec]], object]):
        self.select = select

    def __get__(self, instance: object, owner: type) -> Any:
        return self.select(task_table())


class _Stages:
    """Maps each stage's own 0–1 progress onto the overall bar, in stage order."""

    def __init__(self, progress: ProgressCallback | None, stages: list[str]):
        self.progress = progress
        total = sum(STAGE_WEIGHTS[stage] for stage in stages) or 1.0
        self.offsets: dict[str, tuple[float, float]] = {}
        done = 0.0
        for stage in stages:
            share = STAGE_WEIGHTS[stage] / total
            self.offsets[stage] = (done, share)
            done += share

    def reporter(self, stage: str, label: str) -> Callable[[float], None]:
        offset, share = self.offsets[stage]

        def report(fraction: float) -> None:
            if self.progress is not None:
                self.progress(label, offset + share * min(max(fraction, 0.0), 1.0))

        return report


class SignalsEngine:
    """Shots, people, activity, highlights, smart split, reframe and transcript search on any CPU."""

    name = "signals"
    version = VERSION
    summary = "any CPU, nothing to download"
    tasks = _FromTaskTable(lambda table: tuple(table))
    default_tasks = _FromTaskTable(lambda table: tuple(name for name, spec in table.items() if spec.default))
    query_tasks = _FromTaskTable(lambda table: frozenset(name for name, spec in table.items() if spec.needs_query))
    options = SignalsParams

    def capabilities(self) -> EngineCapabilities:
        return EngineCapabilities(self.tasks, self.default_tasks, needs_gpu=False, max_duration_s=None, device="cpu")

    def preflight(self, request: AnalysisRequest) -> None:
        _check_tasks(parse_params(request.params), checked_tasks(request, self))

    def analyze(
        self, request: AnalysisRequest, progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
    ) -> Analysis:
        from reelmark.core.media.probing import probe

        params = parse_params(request.params)
        tasks = checked_tasks(request, self)
        _check_tasks(params, tasks)  # e.g. a missing speech model fails before the long decode, not after it
        order = run_order(tasks)
        inputs = set().union(*(task_table()[name].inputs for name in order))
        info = probe(request.media)
        analysed = analysed_range(info, request)
        context = SignalsContext(info, analysed.start, analysed.end, params, cancelled=cancelled)
        needs_video = "video" in inputs and info.video is not None
        needs_audio = "audio" in inputs and bool(info.audio)
        stages = _Stages(progress, [name for name, wanted in (("video", needs_video), ("audio", needs_audio)) if wanted] + ["tasks"])
        if needs_audio and needs_video:
            _prefetch(_load_audio_models)
        if needs_video:
            self._video_pass(context, "people" in inputs, stages, cancelled)
        elif info.video is None:
            unanswered = [name for name in tasks if task_table()[name].needs_video]
            context.diagnostics.append(f"no video stream: nothing found for {', '.join(unanswered)} (they read the picture)"
                                       if unanswered else "no video stream: only audio and subtitles are read")
        if needs_audio:
            from reelmark.core.engines.signals.audio_features import extract_audio_features

            table = task_table()
            context.listeners = {name: table[name].listener()(context) for name in order if table[name].listens}
            context.audio = extract_audio_features(
                info, start=context.start, end=context.end, min_silence_s=params.min_silence_s,
                progress=stages.reporter("audio", "analysing audio"), cancelled=cancelled,
                consumers=tuple(context.listeners.values()),
            )  # fmt: skip
        elif not info.audio:
            context.diagnostics.append("no audio stream: loudness, speech and silence features are absent")
        if "cues" in inputs:
            from reelmark.core.media.subtitles import read_subtitles

            context.cues = [cue for cue in read_subtitles(info.path) if cue.end > context.start and cue.start < context.end]
        report_tasks = stages.reporter("tasks", "finding moments")
        _run_tasks(context, order, request.queries, report_tasks, cancelled)
        report_tasks(1.0)
        moments = [moment for name in tasks for moment in context.results.get(name, [])]
        return build_analysis(self, request, info, analysed, params, tasks, moments, context.diagnostics)

    @staticmethod
    def _video_pass(context: SignalsContext, with_people: bool, stages: _Stages, cancelled: CancelCheck | None) -> None:
        from reelmark.core.engines.signals.features import extract_video_features
        from reelmark.core.engines.signals.people import PeopleDetector, track_people
        from reelmark.core.engines.signals.shots import detect_shots
        from reelmark.core.engines.signals.split import shot_changes

        params = context.params
        detector = PeopleDetector(pixel_aspect=context.info.video.pixel_aspect) if with_people else None
        context.video = extract_video_features(
            context.info, start=context.start, end=context.end, detect_fps=params.detect_fps,
            detect_side=params.detect_side, consumers=[detector] if detector is not None else [],
            progress=stages.reporter("video", "decoding video"), cancelled=cancelled,
        )  # fmt: skip
        context.shots = detect_shots(context.video, params.shot_sensitivity)
        if detector is not None:
            cuts = [point.time for point in shot_changes(context)]
            context.people = track_people(detector.detections, context.video.sampled_times, context.video.end, cuts=cuts)


def _prefetch(load: Callable[[], object]) -> None:
    """Run `load` on a background thread, so that it overlaps the video decode instead of following it (a later
    import of the same module waits for this one; the VAD model is cached once loaded)."""
    threading.Thread(target=load, name="prefetch", daemon=True).start()


def _load_audio_models() -> None:
    """What the audio pass loads first: its module and Silero's model (an ONNX Runtime session), about 0.2 s."""
    importlib.import_module("reelmark.core.engines.signals.audio_features")
    from reelmark.core.engines.speech.vad import load_model

    load_model()


def _check_tasks(params: SignalsParams, tasks: tuple[str, ...]) -> None:
    """Each chosen task's own cheap check (`TaskSpec.check`), before any decoding."""
    table = task_table()
    for name in tasks:
        check = table[name].checker()
        if check is not None:
            check(params)


def _run_tasks(
    context: SignalsContext,
    order: tuple[str, ...],
    queries: tuple[str, ...],
    report: Callable[[float], None],
    cancelled: CancelCheck | None,
) -> None:
    """Each task reads the shared context (and the results of the tasks it uses); its moments go to
    `context.results` under its name."""
    for done, name in enumerate(order):
        if cancelled is not None and cancelled():
            raise AnalysisCancelled("analysis cancelled")
        report(done / len(order))
        spec = task_table()[name]
        if spec.needs_video and context.video is None:
            continue
        context.results[name] = list(spec.runner()(context, queries))


__all__ = ["SignalsEngine", "SignalsParams"]
