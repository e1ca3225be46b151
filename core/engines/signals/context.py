"""The data the signals tasks share: computed once per analysis, read by every task.

`SignalsContext` holds the probe, the analysed range, the one-pass video features, the one-pass audio features,
the subtitle cues, the shot boundaries and the people tracks. Tasks are functions of the context: none decodes
the file again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

from reelmark.core.engines.signals.features import VideoFeatures
from reelmark.core.engines.speech.options import TranscribeOptions
from reelmark.core.errors import InvalidRequestError
from reelmark.core.media.audio import AudioBlock
from reelmark.core.media.subtitles import Cue
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Moment, TimeSpan

TransitionKind = Literal["cut", "fade", "dissolve"]


REFRAME_ASPECTS: dict[str, Fraction] = {"9:16": Fraction(9, 16), "1:1": Fraction(1), "4:5": Fraction(4, 5)}
"""The delivery shapes reframe crops to, as width / height: beside the option, so that a wrong one is refused
with the other options' limits, before any decoding (it once failed a daemon job after the whole video pass)."""

@dataclass(frozen=True)
class Transition:
    """Where one shot gives way to the next. A cut has `span.start == span.end` (the first frame of the new shot)."""

    span: TimeSpan
    kind: TransitionKind
    score: float


@dataclass(frozen=True)
class ShotBoundaries:
    """Shots tile the analysed range in order; transitions lie between consecutive shots."""

    shots: tuple[TimeSpan, ...]
    transitions: tuple[Transition, ...]

    @property
    def boundary_times(self) -> tuple[Fraction, ...]:
        """Natural cut points: every shot start after the first, and both ends of every gradual transition."""
        times = {shot.start for shot in self.shots[1:]}
        for transition in self.transitions:
            times.update((transition.span.start, transition.span.end))
        return tuple(sorted(times))

    def shot_at(self, time: Fraction) -> TimeSpan | None:
        for shot in self.shots:
            if shot.start <= time < shot.end:
                return shot
        return self.shots[-1] if self.shots and time == self.shots[-1].end else None


@dataclass(frozen=True)
class AudioFeatures:
    """BS.1770 loudness curves and speech/silence spans from one audio pass.

    Curve value i describes the window that ends at `start + (i + 1) * hop`; a window shorter than its nominal
    length at the very start is measured over what there is. LUFS values of digital silence are −inf.
    """

    start: Fraction
    hop: Fraction
    momentary_lufs: np.ndarray
    """400 ms windows every `hop`."""
    short_term_lufs: np.ndarray
    """3 s windows every `hop`."""
    integrated_lufs: float | None
    """Gated programme loudness (−70 LUFS absolute, −10 LU relative); None when everything is gated out."""
    speech: tuple[TimeSpan, ...]
    silence: tuple[TimeSpan, ...]
    end: Fraction

    def window_end(self, index: int) -> Fraction:
        return self.start + (index + 1) * self.hop


@dataclass(frozen=True)
class SignalsParams(TranscribeOptions):
    """Every option of the signals engine, with its default; all of them are part of the cache key. The
    transcribe task's options come from `TranscribeOptions`."""

    shot_sensitivity: float = 0.5
    """0 finds only the clearest cuts, 1 also weak ones; see `shots.detect_shots`."""
    detect_fps: Fraction = Fraction(1)
    """How often the people and face detectors and the moving-region extraction run (people stay in view for
    seconds; each sampled frame costs about 20 ms of detection on 2 cores)."""
    detect_side: int = 640
    """Longest side of the picture the detectors see."""
    highlight_count: int = 5
    """The most highlights picked; fewer come back when fewer stretches score above the clip's average."""
    highlight_min_s: float = 3.0
    """Shortest highlight, in seconds."""
    highlight_max_s: float = 20.0
    """Longest highlight, in seconds."""
    highlight_budget_s: float | None = None
    """Total length of all highlights in seconds; None for a fifth of the analysed range (on a short range up to
    twice `highlight_min_s`, never over 30 % of it: none on a range shorter than `highlight_min_s` / 0.3)."""
    highlight_order: Literal["chronological", "score"] = "score"
    """Order of the highlights: best first, or in time order."""
    split_target_s: float | None = None
    """Length each smart-split segment aims at, in seconds; None chooses from the analysed range's length:
    15 s up to 2 min, 30 s up to 10 min, 60 s up to 30 min, 120 s up to 1 h, 300 s beyond."""
    min_silence_s: float = 0.5
    """Silence at least this long counts as a natural cut point and as silence for grounding."""
    reframe_aspects: tuple[str, ...] = ("9:16",)
    """Delivery shapes the reframe task crops to, comma-separated: 9:16, 1:1, 4:5."""
    transcript_padding_s: float = 1.0
    """Seconds added before and after each transcript match."""

    def __post_init__(self) -> None:
        """The limits, checked wherever the options are built (CLI, daemon, tests)."""
        super().__post_init__()
        if not 0 <= self.shot_sensitivity <= 1:
            raise InvalidRequestError("--param shot_sensitivity must lie between 0 and 1")
        if not 0 < self.detect_fps <= 30:
            raise InvalidRequestError("--param detect_fps must lie in (0, 30]")
        if self.detect_side < 64:
            raise InvalidRequestError("--param detect_side must be at least 64 pixels")
        if self.highlight_count < 1:
            raise InvalidRequestError("--param highlight_count must be at least 1")
        if not 0 < self.highlight_min_s <= self.highlight_max_s:
            raise InvalidRequestError("--param highlight_min_s must be positive and at most highlight_max_s")
        if self.split_target_s is not None and self.split_target_s <= 0:
            raise InvalidRequestError("--param split_target_s must be positive (or none to choose from the clip's length)")
        if self.highlight_budget_s is not None and self.highlight_budget_s < self.highlight_min_s:
            raise InvalidRequestError("--param highlight_budget_s must be at least highlight_min_s")
        if not 0 < self.min_silence_s < math.inf:
            raise InvalidRequestError("--param min_silence_s must be a positive number of seconds")
        if not 0 <= self.transcript_padding_s < math.inf:
            raise InvalidRequestError("--param transcript_padding_s must be zero or a positive number of seconds")
        if not self.reframe_aspects:
            raise InvalidRequestError(f"--param reframe_aspects needs at least one shape: {', '.join(REFRAME_ASPECTS)}")
        unknown = [aspect for aspect in self.reframe_aspects if aspect not in REFRAME_ASPECTS]
        if unknown:
            raise InvalidRequestError(f"--param reframe_aspects: {unknown[0]!r} is not a shape reframe makes; choose "
                                      f"from {', '.join(REFRAME_ASPECTS)}")  # fmt: skip


@dataclass
class SignalsContext:
    info: MediaInfo
    start: Fraction
    end: Fraction
    params: SignalsParams
    video: VideoFeatures | None = None
    audio: AudioFeatures | None = None
    cues: list[Cue] = field(default_factory=list)
    shots: ShotBoundaries | None = None
    people: list[Moment] = field(default_factory=list)
    """Person and face moments with tubes, from `people.track_people`."""
    listeners: dict[str, Callable[[AudioBlock], None]] = field(default_factory=dict)
    """The chosen tasks' listeners to the one audio pass, by task name (`tasks.TaskSpec.listens`)."""
    results: dict[str, list[Moment]] = field(default_factory=dict)
    """Each task's moments once it has run, by task name: what a task that `uses` another reads."""
    diagnostics: list[str] = field(default_factory=list)
    cancelled: Callable[[], bool] | None = None
    """The job's cancellation check, for tasks that run long on their own (transcription)."""
