"""The results model: the one contract between engines, bridge, store, daemon and plugins.

An `Analysis` says which media was analysed (path, content fingerprint, probe), by which engine (name,
version, params, model), when, over which range, and what it found: `Moment`s. A moment is a kind from a closed
vocabulary, an exact time range in media time (see `reelmark.core.media.types`), a label, score and text, the
query it answers if any, and optionally a tube: boxes over time, normalised to [0, 1] of the upright picture.

Moment ids are derived from the moment's content (kind, range, label, query), so the same finding gets the same
id when a clip is analysed again; plugins store the id in the NLE's marker and replace, not duplicate, on re-run.

Speech moments carry `words`: each word's exact start and end, its text and the recogniser's probability, so
subtitles, search and editing can cut on word boundaries. Words do not change a moment's id.

JSON form (schema `reelmark.analysis/2`): exact times are `{"value": n, "rate": d}` (n/d seconds), with
`start_s`/`end_s`/`time_s` floats beside them for scripts; readers must use the exact fields. Older versions are
read through `reelmark.core.schema_upgrades`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Any

from reelmark.core.errors import ResultsFormatError
from reelmark.core.media.types import MediaInfo
from reelmark.core.schema_upgrades import SCHEMA, upgrade
from reelmark.core.times import time_from_json, time_to_json


class MomentKind(StrEnum):
    """What a moment is. Closed: the bridge maps each kind to a marker colour and the UIs filter by it."""

    SHOT = "shot"
    TRANSITION = "transition"
    HIGHLIGHT = "highlight"
    SEGMENT = "segment"
    REFRAME = "reframe"
    """A crop path for one shot: the tube is the crop window over time, the label names the aspect."""
    SPEECH = "speech"
    SILENCE = "silence"
    PERSON = "person"
    FACE = "face"
    ACTIVITY = "activity"
    MATCH = "match"
    DESCRIPTION = "description"


@dataclass(frozen=True)
class TimeSpan:
    """[start, end] in media seconds; `start == end` is a point in time (a point marker)."""

    start: Fraction
    end: Fraction

    def __post_init__(self) -> None:
        if not isinstance(self.start, Fraction) or not isinstance(self.end, Fraction):
            raise TypeError("TimeSpan times must be Fractions; convert with reelmark.core.times.as_fraction")
        if self.start < 0:
            raise ValueError(f"a time span cannot start before 0 (start {float(self.start):g} s)")
        if self.end < self.start:
            raise ValueError(f"a time span cannot end ({float(self.end):g} s) before it starts ({float(self.start):g} s)")

    @property
    def duration(self) -> Fraction:
        return self.end - self.start

    @property
    def start_s(self) -> float:
        return float(self.start)

    @property
    def end_s(self) -> float:
        return float(self.end)

    def overlaps(self, other: TimeSpan) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, time: Fraction) -> bool:
        return self.start <= time <= self.end

    def to_dict(self) -> dict[str, Any]:
        return {"start": time_to_json(self.start), "end": time_to_json(self.end), "start_s": self.start_s, "end_s": self.end_s}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> TimeSpan:
        return cls(time_from_json(data.get("start"), f"{where}.start"), time_from_json(data.get("end"), f"{where}.end"))


@dataclass(frozen=True)
class Box:
    """An axis-aligned box, (x0, y0) top-left to (x1, y1) bottom-right, in [0, 1] of the upright picture."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        values = (self.x0, self.y0, self.x1, self.y1)
        if not all(isinstance(value, (int, float)) and math.isfinite(value) and 0 <= value <= 1 for value in values):
            raise ValueError(f"box coordinates must be finite numbers in [0, 1], got {values}")
        if self.x1 < self.x0 or self.y1 < self.y0:
            raise ValueError(f"box corners are reversed: {values}; give (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1")

    def to_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    def iou(self, other: Box) -> float:
        """Intersection over union, the overlap measure that tracking and evaluation use."""
        width = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        height = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        intersection = width * height
        union = self.area + other.area - intersection
        return intersection / union if union > 0 else 0.0


@dataclass(frozen=True)
class TubePoint:
    time: Fraction
    box: Box

    def to_dict(self) -> dict[str, Any]:
        return {"time": time_to_json(self.time), "time_s": float(self.time), "box": self.box.to_list()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> TubePoint:
        box = data.get("box")
        if not isinstance(box, list) or len(box) != 4:
            raise ValueError(f"{where}.box: expected [x0, y0, x1, y1], got {box!r}")
        return cls(time_from_json(data.get("time"), f"{where}.time"), Box(*box))


@dataclass(frozen=True)
class Word:
    """One recognised word: exact media times, its text (with the recogniser's leading space removed) and how
    sure the recogniser was (0..1), when it says."""

    start: Fraction
    end: Fraction
    text: str
    probability: float | None = None

    def __post_init__(self) -> None:
        TimeSpan(self.start, self.end)  # the same checks: Fractions, not before 0, not reversed
        if not isinstance(self.text, str):
            raise ValueError(f"word text must be a string, got {self.text!r}")
        probability = self.probability
        if probability is not None and not (
            isinstance(probability, (int, float)) and math.isfinite(probability) and 0 <= probability <= 1
        ):
            raise ValueError(f"word probability must be a number in [0, 1] or None, got {probability!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": time_to_json(self.start), "end": time_to_json(self.end), "start_s": float(self.start),
            "end_s": float(self.end), "text": self.text, "probability": self.probability,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Word:
        return cls(
            time_from_json(data.get("start"), f"{where}.start"), time_from_json(data.get("end"), f"{where}.end"),
            _string(data.get("text"), f"{where}.text"), data.get("probability"),
        )  # fmt: skip


def moment_id(kind: MomentKind, span: TimeSpan, label: str, query: str | None) -> str:
    """A stable id from what the moment says, so re-analysing the same clip reproduces it."""
    key = "|".join((kind.value, str(span.start), str(span.end), label, query or ""))
    return "m-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Moment:
    """One finding: when (and where) something is, in media time."""

    kind: MomentKind
    span: TimeSpan
    label: str = ""
    score: float | None = None
    text: str = ""
    tube: tuple[TubePoint, ...] = ()
    query: str | None = None
    id: str = ""
    words: tuple[Word, ...] = ()
    """Word timings (speech moments), in time order and inside the span; not part of the id."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", MomentKind(self.kind))
        object.__setattr__(self, "tube", tuple(self.tube))
        object.__setattr__(self, "words", tuple(self.words))
        if any(later.start < earlier.start for earlier, later in pairwise(self.words)):
            raise ValueError("words must be in time order")
        if self.words and (self.words[0].start < self.span.start or self.words[-1].end > self.span.end):
            raise ValueError(
                f"words must lie inside the moment ({self.span.start_s:g}-{self.span.end_s:g} s), "
                f"got {float(self.words[0].start):g}-{float(self.words[-1].end):g} s"
            )
        if self.score is not None and not (isinstance(self.score, (int, float)) and math.isfinite(self.score)):
            raise ValueError(f"score must be a finite number or None, got {self.score!r}")
        if any(later.time < earlier.time for earlier, later in pairwise(self.tube)):
            raise ValueError("tube points must be in time order")
        if not self.id:
            object.__setattr__(self, "id", moment_id(self.kind, self.span, self.label, self.query))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            **self.span.to_dict(),
            "label": self.label,
            "score": self.score,
            "text": self.text,
            "query": self.query,
            "tube": [point.to_dict() for point in self.tube],
            "words": [word.to_dict() for word in self.words],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "moment") -> Moment:
        kind = data.get("kind")
        if kind not in MomentKind._value2member_map_:
            known = ", ".join(member.value for member in MomentKind)
            raise ValueError(f"{where}.kind: {kind!r} is not one of {known}")
        return cls(
            kind=MomentKind(kind),
            span=TimeSpan.from_dict(data, where),
            label=_string(data.get("label", ""), f"{where}.label"),
            score=data.get("score"),
            text=_string(data.get("text", ""), f"{where}.text"),
            tube=tuple(TubePoint.from_dict(point, f"{where}.tube[{index}]") for index, point in enumerate(data.get("tube", []))),
            query=data.get("query"),
            id=_string(data.get("id", ""), f"{where}.id"),
            words=tuple(Word.from_dict(word, f"{where}.words[{index}]") for index, word in enumerate(data.get("words", []))),
        )


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")
    return value


@dataclass(frozen=True)
class MediaRef:
    """Which file was analysed: where it was, what its content was, what probe found."""

    path: str
    fingerprint: str
    probe: MediaInfo

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "fingerprint": self.fingerprint, "probe": self.probe.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MediaRef:
        return cls(
            _string(data.get("path"), "media.path"),
            _string(data.get("fingerprint"), "media.fingerprint"),
            MediaInfo.from_dict(data["probe"]),
        )


@dataclass(frozen=True)
class EngineRef:
    """Which engine produced the moments, with everything that changes its output (cache key material)."""

    name: str
    version: str
    params: Mapping[str, Any] = field(default_factory=dict)
    model_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "params": dict(self.params), "model_id": self.model_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineRef:
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise ValueError(f"engine.params: expected an object, got {params!r}")
        return cls(_string(data.get("name"), "engine.name"), _string(data.get("version"), "engine.version"), params, data.get("model_id"))


@dataclass(frozen=True)
class Analysis:
    """The result of analysing one media file (or one range of it) with one engine."""

    media: MediaRef
    engine: EngineRef
    moments: tuple[Moment, ...] = ()
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    source_range: TimeSpan | None = None
    """The part of the media analysed; None means all of it."""
    diagnostics: tuple[str, ...] = ()
    """What the engine wants a user to know: dropped answers and why, sampling plan, fallbacks taken."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "moments", tuple(sorted(self.moments, key=lambda m: (m.span.start, m.span.end, m.kind))))
        object.__setattr__(self, "diagnostics", tuple(self.diagnostics))
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must carry a time zone (use datetime.now(timezone.utc))")
        seen: set[str] = set()
        for moment in self.moments:
            if moment.id in seen:
                raise ValueError(
                    f"two moments share the id {moment.id} ({moment.kind.value} at {moment.span.start_s:g} s); "
                    "give them distinct labels or explicit ids"
                )
            seen.add(moment.id)

    def of_kind(self, *kinds: MomentKind | str) -> tuple[Moment, ...]:
        wanted = {MomentKind(kind) for kind in kinds}
        return tuple(moment for moment in self.moments if moment.kind in wanted)

    def with_moments(self, moments: Iterable[Moment]) -> Analysis:
        return Analysis(self.media, self.engine, tuple(moments), self.created_at, self.source_range, self.diagnostics)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "media": self.media.to_dict(),
            "engine": self.engine.to_dict(),
            "created_at": self.created_at.isoformat(),
            "source_range": None if self.source_range is None else self.source_range.to_dict(),
            "diagnostics": list(self.diagnostics),
            "moments": [moment.to_dict() for moment in self.moments],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any) -> Analysis:
        """Load and validate; anything malformed raises `ResultsFormatError` naming the field at fault."""
        if not isinstance(data, dict):
            raise ResultsFormatError(f"an analysis is a JSON object, got {type(data).__name__}")
        data = upgrade(data)
        try:
            created_at = datetime.fromisoformat(_string(data.get("created_at"), "created_at"))
            source_range = data.get("source_range")
            return cls(
                media=MediaRef.from_dict(data["media"]),
                engine=EngineRef.from_dict(data["engine"]),
                moments=tuple(Moment.from_dict(item, f"moments[{index}]") for index, item in enumerate(data.get("moments", []))),
                created_at=created_at,
                source_range=None if source_range is None else TimeSpan.from_dict(source_range, "source_range"),
                diagnostics=tuple(_string(item, "diagnostics[]") for item in data.get("diagnostics", [])),
            )
        except KeyError as error:
            raise ResultsFormatError(f"analysis is missing the field {error.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise ResultsFormatError(f"analysis is malformed: {error}") from None

    @classmethod
    def from_json(cls, text: str) -> Analysis:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ResultsFormatError(f"analysis is not valid JSON: {error}") from None
        return cls.from_dict(data)
