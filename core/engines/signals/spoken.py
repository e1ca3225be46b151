"""What was said, for the tasks that read it: the `transcribe` task's speech moments as searchable cues and words.

Search (`transcript`, `says:`) reads the file's own subtitles when it has them (a person wrote those), else the
transcription of the same analysis: each `speech` moment becomes a cue carrying its timed words, so a match is
narrowed to the words that made it. Smart split and highlights read the words and sentence ends directly.
"""

from __future__ import annotations

from reelmark.core.engines.signals.context import SignalsContext
from reelmark.core.media.subtitles import Cue
from reelmark.core.results import Moment, MomentKind, Word

TRANSCRIBE_TASK = "transcribe"
SOURCE = "transcription"
"""The `Cue.source` of cues made from speech moments."""


def speech_moments(ctx: SignalsContext) -> list[Moment]:
    """The transcription's speech moments in this analysis (none unless `transcribe` ran first)."""
    found = ctx.results.get(TRANSCRIBE_TASK, [])
    return sorted((moment for moment in found if moment.kind is MomentKind.SPEECH), key=lambda moment: moment.span.start)


def spoken_words(ctx: SignalsContext) -> list[Word]:
    return [word for moment in speech_moments(ctx) for word in moment.words]


def spoken_cues(ctx: SignalsContext) -> list[Cue]:
    """One cue per speech moment, with its words; a moment without words is timed by its own span."""
    return [
        Cue(moment.span.start, moment.span.end, moment.text, SOURCE, spoken=moment.words)
        for moment in speech_moments(ctx)
        if moment.text.strip()
    ]


def searchable_cues(ctx: SignalsContext) -> list[Cue]:
    """The file's subtitles, or the transcription's cues when it has none."""
    return ctx.cues or spoken_cues(ctx)
