"""The `signals` engine: what every user gets with no GPU and no model weights.

One video decode (`features.extract_video_features`: cut scores, fades, motion, luma statistics, background
subtraction, and the people/face detectors at a sampled rate) and one audio pass (`audio_features`: BS.1770
loudness curves, speech and silence) feed every task; no task decodes the file again:

| task | module | moments |
|---|---|---|
| shots | `shots` | shot, transition |
| people | `people` | person, face (with tubes) |
| activity | `activity` | activity (with tubes) |
| highlights | `highlights` | highlight |
| split | `split` | segment |
| reframe | `reframe` | reframe, labelled "reframe 9:16 …" (crop keyframes as the tube) |
| transcript | `transcript` | match |
| ground | `grounding` | match, for the queries this engine really knows |

Options are `SignalsParams` (see `context.py`), passed as `--param name=value` on the CLI.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

from reelmark.core.engines.base import (
    AnalysisCancelled,
    AnalysisRequest,
    CancelCheck,
    EngineCapabilities,
    ProgressCallback,
    checked_tasks,
)
from reelmark.core.engines.signals.context import SignalsContext, SignalsParams
from reelmark.core.engines.signals.params import parse_params
from reelmark.core.errors import InvalidRangeError
from reelmark.core.results import Analysis, EngineRef, MediaRef, Moment, TimeSpan
from reelmark.core.tasks import Task

VERSION = "0.1.0"
SUPPORTED_TASKS = (
    Task.SHOTS, Task.PEOPLE, Task.ACTIVITY, Task.HIGHLIGHTS, Task.SPLIT, Task.REFRAME, Task.TRANSCRIPT, Task.GROUND,
)  # fmt: skip
DEFAULT_TASKS = (Task.SHOTS, Task.PEOPLE, Task.ACTIVITY, Task.HIGHLIGHTS)
VIDEO_TASKS = frozenset({Task.SHOTS, Task.PEOPLE, Task.ACTIVITY, Task.HIGHLIGHTS, Task.SPLIT, Task.REFRAME, Task.GROUND})
PEOPLE_TASKS = frozenset({Task.PEOPLE, Task.HIGHLIGHTS, Task.REFRAME, Task.GROUND})
AUDIO_TASKS = frozenset({Task.HIGHLIGHTS, Task.SPLIT, Task.GROUND})
CUE_TASKS = frozenset({Task.TRANSCRIPT, Task.GROUND})
# Share of the progress bar each stage takes: decoding video dominates.
STAGE_WEIGHTS = {"video": 0.75, "audio": 0.15, "tasks": 0.10}


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

    def capabilities(self) -> EngineCapabilities:
        return EngineCapabilities(SUPPORTED_TASKS, DEFAULT_TASKS, needs_gpu=False, max_duration_s=None, device="cpu")

    def preflight(self, request: AnalysisRequest) -> None:
        parse_params(request.params)
        _checked_tasks(request)

    def analyze(
        self, request: AnalysisRequest, progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
    ) -> Analysis:
        from reelmark.core.media.fingerprinting import fingerprint
        from reelmark.core.media.probing import probe
        from reelmark.core.media.ranges import checked_range, media_end

        params = parse_params(request.params)
        tasks = _checked_tasks(request)
        info = probe(request.media)
        start, end = checked_range(info, request.start, request.end)
        end = end if end is not None else media_end(info)
        if end is None:
            raise InvalidRangeError(f"{info.path}: its duration is unknown; give --end to say how much to analyse")
        context = SignalsContext(info, start, end, params)
        needs_video = bool(VIDEO_TASKS & set(tasks)) and info.video is not None
        needs_audio = bool(AUDIO_TASKS & set(tasks)) and bool(info.audio)
        stages = _Stages(progress, [name for name, wanted in (("video", needs_video), ("audio", needs_audio)) if wanted] + ["tasks"])
        if needs_audio and needs_video:
            _prefetch("reelmark.core.engines.signals.audio_features")
        if needs_video:
            self._video_pass(context, bool(PEOPLE_TASKS & set(tasks)), stages, cancelled)
        elif info.video is None:
            context.diagnostics.append("no video stream: video features (shots, people, activity, reframe) are absent")
        if needs_audio:
            from reelmark.core.engines.signals.audio_features import extract_audio_features

            context.audio = extract_audio_features(
                info, start=start, end=end, min_silence_s=params.min_silence_s,
                progress=stages.reporter("audio", "analysing audio"), cancelled=cancelled,
            )  # fmt: skip
        elif not info.audio:
            context.diagnostics.append("no audio stream: loudness, speech and silence features are absent")
        if CUE_TASKS & set(tasks):
            from reelmark.core.media.subtitles import read_subtitles

            context.cues = [cue for cue in read_subtitles(info.path) if cue.end > start and cue.start < end]
        report_tasks = stages.reporter("tasks", "finding moments")
        moments = _run_tasks(context, tasks, request.queries, report_tasks, cancelled)
        report_tasks(1.0)
        analysed = TimeSpan(start, end)
        whole = request.start is None and request.end is None
        return Analysis(
            media=MediaRef(info.path, fingerprint(info.path), info),
            engine=EngineRef(self.name, self.version, {**params.cache_key(), "tasks": [task.value for task in tasks]}),
            moments=tuple(_unique(moments)),
            source_range=None if whole else analysed,
            diagnostics=tuple(context.diagnostics),
        )

    @staticmethod
    def _video_pass(context: SignalsContext, with_people: bool, stages: _Stages, cancelled: CancelCheck | None) -> None:
        from reelmark.core.engines.signals.features import extract_video_features
        from reelmark.core.engines.signals.people import PeopleDetector, track_people
        from reelmark.core.engines.signals.shots import detect_shots

        params = context.params
        detector = PeopleDetector() if with_people else None
        context.video = extract_video_features(
            context.info, start=context.start, end=context.end, detect_fps=params.detect_fps,
            detect_side=params.detect_side, consumers=[detector] if detector is not None else [],
            progress=stages.reporter("video", "decoding video"), cancelled=cancelled,
        )  # fmt: skip
        context.shots = detect_shots(context.video, params.shot_sensitivity)
        if detector is not None:
            context.people = track_people(detector.detections, context.video.sampled_times, context.video.end)


def _prefetch(module: str) -> None:
    """Import `module` on a background thread: scipy.signal alone takes about a second to import, which then
    overlaps the video decode instead of following it (a later import of the same module waits for this one)."""
    threading.Thread(target=importlib.import_module, args=(module,), name=f"prefetch {module}", daemon=True).start()


def _checked_tasks(request: AnalysisRequest) -> tuple[Task, ...]:
    return checked_tasks(request, "signals", SUPPORTED_TASKS, DEFAULT_TASKS, "use --engine vlm (a vision-language model) for that")


def _run_tasks(
    context: SignalsContext,
    tasks: tuple[Task, ...],
    queries: tuple[str, ...],
    report: Callable[[float], None],
    cancelled: CancelCheck | None,
) -> list[Moment]:
    """Each task reads the shared context; results are concatenated in task order."""
    moments: list[Moment] = []
    activity: list[Moment] = []
    for done, task in enumerate(tasks):
        if cancelled is not None and cancelled():
            raise AnalysisCancelled("analysis cancelled")
        report(done / len(tasks))
        if task in VIDEO_TASKS - {Task.GROUND} and context.video is None:
            continue
        if task is Task.SHOTS:
            from reelmark.core.engines.signals.shots import shot_moments

            moments += shot_moments(context.shots) if context.shots is not None else []
        elif task is Task.PEOPLE:
            moments += context.people
        elif task is Task.ACTIVITY:
            activity = _activity(context)
            moments += activity
        elif task is Task.HIGHLIGHTS:
            from reelmark.core.engines.signals.highlights import pick_highlights

            moments += pick_highlights(context)
        elif task is Task.SPLIT:
            from reelmark.core.engines.signals.split import smart_split

            moments += smart_split(context)
        elif task is Task.REFRAME:
            from reelmark.core.engines.signals.reframe import reframe

            for aspect in context.params.reframe_aspects:
                moments += reframe(context, aspect)
        elif task is Task.TRANSCRIPT:
            from reelmark.core.engines.signals.transcript import search_transcript

            moments += search_transcript(
                context.cues, queries, padding_s=context.params.transcript_padding_s, end=context.end
            )
            if not context.cues:
                from reelmark.core.engines.signals.transcript import no_subtitles_reason

                context.diagnostics.append(no_subtitles_reason(context.info))
        elif task is Task.GROUND:
            from reelmark.core.engines.signals.grounding import ground

            if not activity and context.video is not None:
                activity = _activity(context)
            for query in queries:
                found, diagnostic = ground(context, query, activity=activity)
                moments += found
                if diagnostic:
                    context.diagnostics.append(diagnostic)
    return moments


def _activity(context: SignalsContext) -> list[Moment]:
    from reelmark.core.engines.signals.activity import find_activity

    assert context.video is not None
    return find_activity(context.video, context.shots)


def _unique(moments: list[Moment]) -> list[Moment]:
    """Drop exact repeats (the same finding reached by two tasks, e.g. activity asked for and grounded)."""
    return list({moment.id: moment for moment in moments}.values())


__all__ = ["DEFAULT_TASKS", "SUPPORTED_TASKS", "SignalsEngine", "SignalsParams"]
