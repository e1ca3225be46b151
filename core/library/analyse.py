"""One file's analysis as the library runs it, in this process or on a Ray worker: the engine's moments plus the
file's transcript (its subtitle cues, embedded or sidecar) as speech moments whose text is the cue (no label: the words are the finding).

Why the cues are added here: search must find what is said, and reelmark has no speech recogniser; a transcript
travels with footage as subtitles (cameras, editors and transcription services write `.srt`/`.vtt`), which the
signals engine reads only when asked a query. Their ids are derived from their content like every moment's, so
a file gives the same moments wherever it is analysed. The result travels as the analysis's JSON: plain text
crosses process and machine boundaries without pickling reelmark's classes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reelmark.core.engines.base import AnalysisRequest
from reelmark.core.engines.registry import engine_class, get_engine
from reelmark.core.results import Moment, MomentKind, TimeSpan

@dataclass(frozen=True)
class IndexConfig:
    """What changes a file's moments: a file indexed with another config is analysed again."""

    engine: str = "signals"
    tasks: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        version = engine_class(self.engine).version
        return json.dumps({"engine": self.engine, "version": version, "tasks": sorted(self.tasks),
                           "params": dict(sorted(self.params.items()))}, separators=(",", ":"))  # fmt: skip


def analyse_file(path: str, config: IndexConfig) -> str:
    """The analysis of `path` under `config`, with its transcript cues, as JSON."""
    from reelmark.core.media.subtitles import read_subtitles

    engine = get_engine(config.engine)
    analysis = engine.analyze(AnalysisRequest(Path(path), config.tasks, (), None, None, dict(config.params)))
    cues = [Moment(MomentKind.SPEECH, TimeSpan(cue.start, cue.end), text=" ".join(cue.text.split()))
            for cue in read_subtitles(path) if cue.text.strip()]  # fmt: skip
    unique: dict[str, Moment] = {moment.id: moment for moment in (*analysis.moments, *cues)}
    return analysis.with_moments(unique.values()).to_json(indent=None)

