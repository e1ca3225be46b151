"""Grounding for the signals engine: answer a query with time ranges, but only queries its signals can answer.

The engine knows a closed list of things (`SIGNALS_QUERIES`, each with a few exact synonyms); a query is matched
after case-folding, collapsing whitespace and dropping trailing `?!.`, and never by similarity, so "a red car" is
refused rather than answered with whatever moves. Refusals name the engine that can answer (vlm).

| query | answer (kind MATCH, `query` = the query as asked) |
|---|---|
| person, face | the PERSON / FACE moments of `ctx.people`, each with its tube |
| speech, silence | `ctx.audio.speech`; `ctx.audio.silence` spans at least `params.min_silence_s` long |
| loud | runs of short-term loudness (3 s windows) at least `LOUD_MARGIN_LU` above the integrated loudness |
| activity | the activity moments handed in (the activity task's output) |
| shot change | `ctx.shots` transitions: a cut is a point moment, a fade or dissolve spans its frames |
| `says: <text>` | transcript search of the subtitles, or without them the transcription (`spoken.searchable_cues`) |

Loud: a short-term window stands for its middle, so a window counts for the `hop`-long interval centred on it;
consecutive loud windows merge into one span. The margin, 3 LU, is about the top of a typical programme's
loudness range (EBU R128 LRA measures 10th to 95th percentile of short-term loudness; speech runs 5–8 LU wide), so
"loud" means clearly louder than the programme's own norm. Score: the peak excess over the integrated loudness
in LU / 10, capped at 1 (+10 LU sounds about twice as loud).

What is missing is said, not raised: media with no audio answers `([], "the media has no audio ...")`, and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from reelmark.core.engines.signals.context import SignalsContext
from reelmark.core.engines.signals.spoken import searchable_cues
from reelmark.core.engines.signals.transcript import search_transcript
from reelmark.core.results import Moment, MomentKind, TimeSpan, TubePoint
from reelmark.core.times import as_fraction

SIGNALS_QUERIES: dict[str, tuple[str, ...]] = {
    "person": ("person", "people", "persons", "someone", "a person"),
    "face": ("face", "faces", "a face"),
    "speech": ("speech", "speaking", "talking", "dialogue", "voice"),
    "silence": ("silence", "silent", "silences", "pause", "pauses"),
    "loud": ("loud", "loud moment", "loud moments", "loud parts"),
    "activity": ("activity", "motion", "movement", "moving"),
    "shot change": (
        "shot change",
        "shot changes",
        "cut",
        "cuts",
        "scene change",
        "scene changes",
        "transition",
        "transitions",
    ),
}
"""Canonical query → the phrasings accepted for it. Plus `says: <text>` for what is said in the subtitles."""
SAYS_PREFIX = "says:"
LOUD_MARGIN_LU = 3.0
SHORT_TERM_WINDOW = Fraction(3)

Answer = tuple[list[Moment], str | None]
_CANONICAL = {synonym: name for name, synonyms in SIGNALS_QUERIES.items() for synonym in synonyms}


def _match(
    query: str,
    span: TimeSpan,
    label: str,
    *,
    text: str = "",
    score: float | None = None,
    tube: Sequence[TubePoint] = (),
) -> Moment:
    return Moment(MomentKind.MATCH, span, label=label, score=score, text=text, tube=tuple(tube), query=query)


def _no_video(ctx: SignalsContext, name: str) -> str | None:
    if ctx.info.video is None:
        return f"the media has no video: '{name}' needs pictures to look at"
    return None


def _no_audio(ctx: SignalsContext, name: str) -> str | None:
    if ctx.info.primary_audio is None:
        return f"the media has no audio: '{name}' needs a sound track"
    if ctx.audio is None:
        return f"the sound track was not analysed in this run, so '{name}' has nothing to go on"
    return None


def _people(kind: MomentKind) -> Callable[[SignalsContext, str, Sequence[Moment]], Answer]:
    def answer(ctx: SignalsContext, query: str, activity: Sequence[Moment]) -> Answer:
        missing = _no_video(ctx, kind.value)
        if missing:
            return [], missing
        found = [moment for moment in ctx.people if moment.kind == kind]
        return [
            _match(query, m.span, m.label or kind.value, text=m.text, score=m.score, tube=m.tube) for m in found
        ], None

    return answer


def _speech(ctx: SignalsContext, query: str, activity: Sequence[Moment]) -> Answer:
    missing = _no_audio(ctx, "speech")
    if missing:
        return [], missing
    assert ctx.audio is not None
    return [_match(query, span, "speech") for span in ctx.audio.speech], None


def _silence(ctx: SignalsContext, query: str, activity: Sequence[Moment]) -> Answer:
    missing = _no_audio(ctx, "silence")
    if missing:
        return [], missing
    assert ctx.audio is not None
    shortest = as_fraction(ctx.params.min_silence_s)
    return [_match(query, span, "silence") for span in ctx.audio.silence if span.duration >= shortest], None


def _loud(ctx: SignalsContext, query: str, activity: Sequence[Moment]) -> Answer:
    missing = _no_audio(ctx, "loud")
    if missing:
        return [], missing
    audio = ctx.audio
    assert audio is not None
    if audio.integrated_lufs is None:
        return [], "the sound track is silent throughout: nothing is loud"
    excess = np.nan_to_num(audio.short_term_lufs - audio.integrated_lufs, nan=-np.inf)
    loud = np.concatenate(([False], excess >= LOUD_MARGIN_LU, [False]))
    edges = np.flatnonzero(np.diff(loud.astype(np.int8)))

    def middle(index: int) -> Fraction:
        end = audio.window_end(index)
        return (max(audio.start, end - SHORT_TERM_WINDOW) + end) / 2

    moments = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        start = max(audio.start, middle(int(first)) - audio.hop / 2)
        end = min(audio.end, middle(int(stop) - 1) + audio.hop / 2)
        peak = float(excess[first:stop].max())
        moments.append(_match(query, TimeSpan(start, end), "loud", text=f"+{peak:.1f} LU", score=min(1.0, peak / 10)))
    return moments, None


def _activity(ctx: SignalsContext, query: str, activity: Sequence[Moment]) -> Answer:
    missing = _no_video(ctx, "activity")
    if missing:
        return [], missing
    return [
        _match(query, m.span, m.label or "activity", text=m.text, score=m.score, tube=m.tube) for m in activity
    ], None


def _shot_changes(ctx: SignalsContext, query: str, activity: Sequence[Moment]) -> Answer:
    missing = _no_video(ctx, "shot change")
    if missing:
        return [], missing
    if ctx.shots is None:
        return [], "shot boundaries were not computed, so 'shot change' cannot be answered"
    return [_match(query, t.span, t.kind, score=t.score) for t in ctx.shots.transitions], None


def _says(ctx: SignalsContext, query: str, words: str) -> Answer:
    if not words:
        return [], "'says:' needs the words to look for, e.g. 'says: pricing'"
    cues = [cue for cue in searchable_cues(ctx) if cue.end >= ctx.start and cue.start <= ctx.end]
    if not cues:
        return (
            [],
            "the media has no subtitles and nothing was transcribed: 'says:' searches subtitle cues (embedded, or a "
            ".srt/.vtt beside the file) or, without them, what --task transcribe heard in the same analysis",
        )
    found = search_transcript(cues, [words], padding_s=ctx.params.transcript_padding_s, end=ctx.end)
    return [_match(query, m.span, m.label, text=m.text, score=m.score) for m in found], None


_ANSWERS: dict[str, Callable[[SignalsContext, str, Sequence[Moment]], Answer]] = {
    "person": _people(MomentKind.PERSON),
    "face": _people(MomentKind.FACE),
    "speech": _speech,
    "silence": _silence,
    "loud": _loud,
    "activity": _activity,
    "shot change": _shot_changes,
}


def ground(ctx: SignalsContext, query: str, *, activity: Sequence[Moment] = ()) -> Answer:
    """Moments answering `query` and None, or no moments and a diagnostic saying why (never an exception)."""
    normal = " ".join(query.split()).casefold()
    if normal.startswith(SAYS_PREFIX):
        return _says(ctx, query, " ".join(query.split())[len(SAYS_PREFIX) :].strip())
    name = _CANONICAL.get(normal.rstrip("?!. "))
    if name is None:
        return [], f"query '{query}' is not answerable by engine signals; use engine vlm"
    return _ANSWERS[name](ctx, query, activity)
