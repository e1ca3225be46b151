"""The `vlm` engine: a vision-language model answers queries in words, on a GPU (DESIGN §6).

One analysis: probe → plan (fps and frame size from the duration and the token budget) → sample frames with
exact times → vision tower, a few frame groups at a time → per prompt (task × query): chunked prefill into the
KV cache, greedy decoding, defensive parsing into moments. The chat prefix and the video are the same for every
prompt, so their cache is computed once and cropped back to after each answer.

Everything that changes an answer is recorded: the engine params carry the options, the plan and each prompt;
the diagnostics say what the planner chose and every answer line that was dropped and why.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

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
from reelmark.core.engines.vlm.params import VlmParams, parse_params
from reelmark.core.errors import EngineUnavailableError, InvalidRangeError, NoVideoStreamError
from reelmark.core.results import Analysis, Box, Moment, MomentKind, TimeSpan, TubePoint
from reelmark.core.tasks import Task

if TYPE_CHECKING:
    from reelmark.core.engines.vlm.families import VisualFeatures
    from reelmark.core.engines.vlm.loader import LoadedModel
    from reelmark.core.engines.vlm.planner import SamplingBudget
    from reelmark.core.engines.vlm.video import VideoInput
    from reelmark.core.media.types import MediaInfo

VERSION = "0.1.0"
SUPPORTED_TASKS = (Task.GROUND, Task.TRACK, Task.HIGHLIGHTS, Task.DESCRIBE, Task.ASK)
DEFAULT_TASKS = (Task.DESCRIBE,)
QUERY_TASKS = frozenset({Task.GROUND, Task.TRACK, Task.ASK})
"""The tasks asked once per query."""
FRAMES_PER_GROUP = 2
"""The temporal patch of both supported families; sets the longest clip the default budget can hold."""
STAGES = {"video": (0.0, 0.3), "vision": (0.3, 0.5), "prompts": (0.5, 1.0)}


@dataclass
class _Run:
    """One analysis in progress: what every prompt shares."""

    loaded: LoadedModel
    params: VlmParams
    video: VideoInput
    visual: VisualFeatures
    duration: float
    start: Fraction
    end: Fraction
    diagnostics: list[str] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)
    cache: Any = None
    prefix_ids: Any = None
    """The token ids of the last prompt whose prefix the cache holds."""


class VlmEngine:
    """Grounding, tracking, highlights, descriptions and free questions from a Qwen2.5-VL or Qwen3-VL checkpoint."""

    name = "vlm"
    version = VERSION
    summary = "a vision-language model on a GPU; needs --model"
    tasks = tuple(task.value for task in SUPPORTED_TASKS)
    default_tasks = tuple(task.value for task in DEFAULT_TASKS)
    query_tasks = frozenset(task.value for task in QUERY_TASKS)
    options = VlmParams

    def __init__(self) -> None:
        from reelmark.core.engines.vlm.loader import ModelCache

        self._models = ModelCache()

    def capabilities(self) -> EngineCapabilities:
        import torch

        from reelmark.core.engines.vlm.loader import NO_GPU
        from reelmark.core.engines.vlm.planner import MIN_FPS, MIN_TOKENS_PER_GROUP

        groups = VlmParams().token_budget // MIN_TOKENS_PER_GROUP
        max_duration = float(groups * FRAMES_PER_GROUP / MIN_FPS)
        gpu = torch.cuda.is_available()
        return EngineCapabilities(SUPPORTED_TASKS, DEFAULT_TASKS, needs_gpu=True, max_duration_s=max_duration,
                                  device="cuda" if gpu else "cpu", unavailable=None if gpu else NO_GPU)  # fmt: skip

    def preflight(self, request: AnalysisRequest) -> None:
        _validated(request)

    def analyze(
        self, request: AnalysisRequest, progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
    ) -> Analysis:
        from reelmark.core.media.probing import probe

        params, tasks, device = _validated(request)
        info = probe(request.media)
        if info.video is None:
            raise NoVideoStreamError(f"{info.path} has no video stream; the vlm engine analyses pictures")
        analysed = analysed_range(info, request)
        start, end = analysed.start, analysed.end
        check = _canceller(cancelled)
        loaded = self._models.get(params.model, device)
        budget = _plan(info, start, end, loaded, params)
        video = _sample(info, start, end, budget, loaded, _stage(progress, "video", "decoding video"), check)
        visual = loaded.adapter.encode_video(
            loaded.model, video, params.vision_chunk, _stage(progress, "vision", "encoding frames", check)
        )
        run = _Run(loaded, params, video, visual, float(end - start), start, end)
        run.diagnostics.append(f"model {loaded.model_id} ({loaded.adapter.name}) on {device}")
        run.diagnostics.append(budget.describe())
        run.diagnostics.append(
            f"fed {len(video.frame_times)} frames (padding included) from {float(video.frame_times[0]):.3f} s to "
            f"{float(video.frame_times[-1]):.3f} s as {video.grid_thw[0]} groups of {video.tokens_per_group} tokens; "
            f"model time 0 = {float(start):g} s"
        )
        moments = _answer_all(run, tasks, request.queries, _stage(progress, "prompts", "asking the model", check))
        extra = {
            "fps": str(budget.fps), "max_pixels": budget.max_pixels, "frame_size": list(budget.size),
            "visual_tokens": budget.visual_tokens, "prompts": run.prompts,
        }  # fmt: skip
        return build_analysis(self, request, info, analysed, params, tasks, moments, run.diagnostics, extra, loaded.model_id)


def _validated(request: AnalysisRequest) -> tuple[VlmParams, tuple[Task, ...], str]:
    """Options, tasks and device for `request`, or the error it would fail with before any work is done."""
    from reelmark.core.engines.vlm.loader import NO_MODEL, choose_device

    params = parse_params(request.params)
    tasks = _checked_tasks(request)
    if not params.model:
        raise EngineUnavailableError(NO_MODEL)
    device = choose_device(params.device)
    _check_decoder(params, device)
    return params, tasks, device


def _checked_tasks(request: AnalysisRequest) -> tuple[Task, ...]:
    return tuple(Task(name) for name in checked_tasks(request, VlmEngine))


def _check_decoder(params: VlmParams, device: str) -> None:
    """`decode=dense|sparse` needs the #8 kernels, and without a GPU Triton's interpreter, which only takes effect
    when set before Triton is first imported; say what is missing before any work is done."""
    if params.decode == "sdpa":
        return
    if device == "cpu" and os.environ.get("TRITON_INTERPRET") != "1":
        raise EngineUnavailableError(
            f"--param decode={params.decode} on the CPU runs the Triton kernels in Triton's interpreter, which must be "
            "switched on at start-up: start reelmark with TRITON_INTERPRET=1 (slow; for tests), or use decode=sdpa"
        )
    try:
        from reelmark.core.kernels import DecodeOptions, attach  # noqa: F401
    except ImportError as error:
        raise EngineUnavailableError(
            f"--param decode={params.decode} needs the Triton decode kernels (reelmark.core.kernels: DecodeOptions, "
            f"attach), which this install lacks ({error}); use --param decode=sdpa"
        ) from None


def _canceller(cancelled: CancelCheck | None) -> Callable[[], None]:
    def check() -> None:
        if cancelled is not None and cancelled():
            raise AnalysisCancelled("analysis cancelled")

    return check


def _stage(
    progress: ProgressCallback | None, stage: str, label: str, check: Callable[[], None] | None = None
) -> Callable[[float], None]:
    """A 0–1 reporter for one stage, mapped onto the overall bar; it also checks for cancellation."""
    offset, end = STAGES[stage]

    def report(fraction: float) -> None:
        if check is not None:
            check()
        if progress is not None:
            progress(label, offset + (end - offset) * min(max(fraction, 0.0), 1.0))

    return report


def _plan(info: MediaInfo, start: Fraction, end: Fraction, loaded: LoadedModel, params: VlmParams) -> SamplingBudget:
    from reelmark.core.engines.vlm.planner import plan_budget

    assert info.video is not None
    width, height = info.video.display_size
    limit = getattr(loaded.model.config.text_config, "max_position_embeddings", None)
    budget = params.token_budget if limit is None else min(params.token_budget, max(1, int(limit) - 1024))
    return plan_budget(end - start, width, height, info.video.rate, loaded.geometry, budget, params.fps, params.max_pixels)


def _sample(
    info: MediaInfo, start: Fraction, end: Fraction, budget: SamplingBudget, loaded: LoadedModel,
    report: Callable[[float], None], check: Callable[[], None],
) -> VideoInput:  # fmt: skip
    """One frame per instant of the exact grid start + k / fps (the nearest frame, repeated where the source has
    none newer: Qwen2.5-VL reads time from the frame's place on that grid), decoded at full size and resized once
    to the planned size (`resize_frames`: the official single bicubic antialiased resize; a decoder pre-scale
    would change the pixels), with the sampler's exact times. Memory stays at the size the model sees."""
    import numpy as np
    import torch

    from reelmark.core.engines.vlm.video import build_video_input, resize_frames
    from reelmark.core.media.frames import sample_frames

    width, height = budget.size
    sampler = sample_frames(info.path, fps=budget.fps, start=start, end=end, info=info, uniform_grid=True)
    expected = max(1, math.ceil((end - start) * budget.fps))
    frames: list[Any] = []
    times: list[Fraction] = []
    previous_pts: int | None = None
    for sample in sampler:
        check()
        if sample.pts != previous_pts:  # a repeated frame is resized once
            previous_pts = sample.pts
            resized = resize_frames(sample.image[None], height, width)[0].permute(1, 2, 0).to(torch.uint8).numpy()
        frames.append(resized)
        times.append(sample.time)
        report(len(frames) / expected)
    if not frames:
        raise InvalidRangeError(f"{info.path}: no frames between {float(start):g} s and {float(end):g} s")
    return build_video_input(np.stack(frames), times, loaded.geometry, budget.size, start, budget.fps)


def _answer_all(run: _Run, tasks: tuple[Task, ...], queries: tuple[str, ...], report: Callable[[float], None]) -> list[Moment]:
    from reelmark.core.engines.vlm.prompts import task_prompt

    jobs = [(task, query) for task in tasks for query in (queries if task in QUERY_TASKS else (None,))]
    moments: list[Moment] = []
    for index, (task, query) in enumerate(jobs):
        report(index / len(jobs))
        text = task_prompt(task, query, run.loaded.adapter.box_convention, run.video.size, run.params.highlight_count)
        run.prompts[f"{task.value}: {query}" if query else task.value] = text
        answer = _ask(run, text)
        moments += _moments(run, task, query, answer)
    report(1.0)
    return moments


def _ask(run: _Run, text: str) -> str:
    """The model's greedy answer to `text` about the clip; the shared prefix's cache is reused across prompts."""
    import torch

    from reelmark.core.engines.vlm.prefill import embed_prompt, greedy_decode, prefill

    loaded = run.loaded
    model, adapter = loaded.model, loaded.adapter
    input_ids = adapter.prompt_ids(loaded.tokenizer, model.config, run.video, text)
    positions = adapter.position_ids(model, input_ids, run.video)
    with torch.inference_mode():
        prompt = embed_prompt(model, adapter, input_ids, positions, run.visual)
        start = _reuse_prefix(run, input_ids, prompt.length)
        logits = prefill(model, adapter, prompt, run.visual, run.cache, run.params.prefill_chunk, start)
        tokens = greedy_decode(
            model, adapter, logits, prompt.next_position, run.cache, run.params.max_new_tokens, loaded.stop_ids
        )
    run.prefix_ids = input_ids
    return loaded.tokenizer.decode(tokens, skip_special_tokens=True)


def _reuse_prefix(run: _Run, input_ids: Any, length: int) -> int:
    """How many leading tokens of this prompt the cache already holds (the chat prefix and the video), after
    cropping away the previous prompt's own tokens; a fresh cache when it cannot be cropped."""
    from transformers import DynamicCache

    previous = run.prefix_ids
    shared = 0
    if previous is not None and isinstance(run.cache, DynamicCache):  # the kernels' cache is rebuilt, not cropped
        limit = min(previous.shape[1], input_ids.shape[1]) - 1
        while shared < limit and int(previous[0, shared]) == int(input_ids[0, shared]):
            shared += 1
    if shared:
        run.cache.crop(shared - run.cache.get_seq_length())
        return shared
    run.cache = _new_cache(run, length + run.params.max_new_tokens)
    return 0


def _new_cache(run: _Run, capacity: int) -> Any:
    model = run.loaded.model
    if run.params.decode == "sdpa":
        from transformers import DynamicCache

        if model.config.get_text_config()._attn_implementation != "sdpa":  # an earlier run attached the kernels
            model.set_attn_implementation({"text_config": "sdpa"})
        return DynamicCache(config=model.config.text_config)
    from reelmark.core.kernels import DecodeOptions, attach

    return attach(model, DecodeOptions(mode=run.params.decode, budget=run.params.sparse_budget), capacity)


def _moments(run: _Run, task: Task, query: str | None, answer: str) -> list[Moment]:
    """Moments from one answer; whatever cannot be used is reported in the diagnostics."""
    from reelmark.core.engines.vlm.parsing import parse_spans, parse_tube, quote

    adapter = run.loaded.adapter
    where = f"{task.value}" + (f" {query!r}" if query else "")
    if task is Task.ASK:
        if not answer.strip():
            run.diagnostics.append(f"{where}: the model gave an empty answer")
            return []
        return [Moment(MomentKind.DESCRIPTION, TimeSpan(run.start, run.end), "answer", text=answer.strip(), query=query)]
    if task is Task.TRACK:
        points, dropped = parse_tube(answer, run.duration, adapter.box_convention, run.video.size, adapter.time_convention)
        run.diagnostics += [f"{where}: {reason}" for reason in dropped]
        if not points:
            if not dropped:
                run.diagnostics.append(f"{where}: no usable box in the answer {quote(answer)}")
            return []
        tube = tuple(TubePoint(_time(run, point.time), Box(*point.box)) for point in points)
        span = TimeSpan(tube[0].time, tube[-1].time)
        return [Moment(MomentKind.MATCH, span, query or "", text=answer.strip(), tube=tube, query=query)]
    spans, dropped = parse_spans(answer, run.duration, adapter.time_convention)
    run.diagnostics += [f"{where}: {reason}" for reason in dropped]
    moments = []
    for number, span in enumerate(spans, 1):
        time_span = TimeSpan(_time(run, span.start), _time(run, span.end))
        if task is Task.GROUND:
            moments.append(Moment(MomentKind.MATCH, time_span, query or "", text=span.text, query=query))
        elif task is Task.HIGHLIGHTS:
            moments.append(Moment(MomentKind.HIGHLIGHT, time_span, span.text or f"highlight {number}", text=span.text))
        else:
            moments.append(Moment(MomentKind.DESCRIPTION, time_span, _label(span.text, number), text=span.text))
    return moments


def _time(run: _Run, model_seconds: float) -> Fraction:
    """Media time of a model time: the model's clock starts at the analysed range's start; millisecond grain."""
    exact = run.start + Fraction(round(model_seconds * 1000), 1000)
    return min(max(exact, run.start), run.end)


def _label(text: str, number: int) -> str:
    words = text.split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "") if words else f"event {number}"
