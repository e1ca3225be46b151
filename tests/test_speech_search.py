"""Search by speech: `--task transcript` and `says:` read the transcription when the file has no subtitles, and a
match is narrowed to its words.

The transcription is built by hand (speech moments with word times, as the `transcribe` task returns them), so
each expected span is known before the code runs; the real-model tests belong to the speech tests.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from reelmark.core.engines.signals import tasks
from reelmark.core.engines.signals.context import SignalsContext, SignalsParams
from reelmark.core.engines.signals.grounding import ground
from reelmark.core.engines.signals.tasks import run_order
from reelmark.core.media import probe
from reelmark.core.media.subtitles import Cue
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, write_clip
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Moment, MomentKind, TimeSpan, Word

F = Fraction


def sentence(start: str, text: str, step: str = "0.4") -> Moment:
    """A speech moment whose words follow each other every `step` s, each lasting 0.3 s."""
    words = tuple(
        Word(F(start) + index * F(step), F(start) + index * F(step) + F(3, 10), token)
        for index, token in enumerate(text.split())
    )
    return Moment(MomentKind.SPEECH, TimeSpan(words[0].start - F(1, 5), words[-1].end + F(1, 5)), text=text, words=words)


SPOKEN = [
    sentence("1", "Welcome back to the show everyone."),
    sentence("5", "So how much does the basic plan cost per month?"),
    sentence("12", "The weather was terrible and it rained every day."),
]


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> MediaInfo:
    spec = ClipSpec(frame_count=10, audio=(AudioSegment(F(0), F(2, 5), "tone"),))
    return probe(write_clip(tmp_path_factory.mktemp("speech") / "talk.mp4", spec).path)


def context(info: MediaInfo, cues: list[Cue] | None = None) -> SignalsContext:
    ctx = SignalsContext(info, F(0), F(20), SignalsParams(transcript_padding_s=0.0), cues=cues or [])
    ctx.results["transcribe"] = list(SPOKEN)
    return ctx


def test_a_phrase_is_narrowed_to_its_words(info: MediaInfo) -> None:
    [match] = tasks.transcript(context(info), ("basic plan",))
    words = SPOKEN[1].words
    assert match.span == TimeSpan(words[5].start, words[6].end), "from 'basic' starting to 'plan' ending"
    assert match.kind is MomentKind.MATCH and match.score == 1.0


def test_words_in_any_order_span_only_those_words(info: MediaInfo) -> None:
    [match] = tasks.transcript(context(info), ("cost plan",))
    words = SPOKEN[1].words
    assert match.span == TimeSpan(words[6].start, words[7].end)


def test_a_match_by_meaning_spans_its_sentence_words(info: MediaInfo) -> None:
    found = tasks.transcript(context(info), ("how expensive is it",))
    assert [moment.span for moment in found] == [TimeSpan(SPOKEN[1].words[0].start, SPOKEN[1].words[-1].end)]


def test_says_reads_the_transcription_when_there_are_no_subtitles(info: MediaInfo) -> None:
    [match], diagnostic = ground(context(info), "says: rained every day")
    words = SPOKEN[2].words
    assert diagnostic is None and match.span == TimeSpan(words[6].start, words[8].end)


def test_subtitles_win_over_the_transcription(info: MediaInfo) -> None:
    cues = [Cue(F(15), F(17), "the basic plan", "talk.srt")]
    [match] = tasks.transcript(context(info, cues), ("basic plan",))
    assert match.span == TimeSpan(F(15), F(17))


def test_nothing_to_search_says_how_to_transcribe(info: MediaInfo) -> None:
    ctx = SignalsContext(info, F(0), F(20), SignalsParams())
    assert tasks.transcript(ctx, ("plan",)) == []
    assert "--task transcribe" in ctx.diagnostics[-1]
    assert "--task transcribe" in (ground(ctx, "says: plan")[1] or "")


def test_transcription_runs_before_the_tasks_that_read_it() -> None:
    assert run_order(("transcript", "transcribe")) == ("transcribe", "transcript")
    assert run_order(("split", "highlights", "transcribe")) == ("transcribe", "split", "highlights")
    assert run_order(("transcript",)) == ("transcript",), "never run for it: transcription needs a model"
