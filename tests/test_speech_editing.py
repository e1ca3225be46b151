"""Speech-aware editing on a generated podcast with planted key sentences (`tests/spoken_podcast.py`).

Highlights with the transcription must find the planted main points, where loudness alone (the same picker
without words, the anchor, in the same run) picks the louder filler; no highlight starts or ends inside a word;
smart split ends segments where sentences end or speech pauses, never mid-sentence.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core.engines.signals.audio_features import extract_audio_features
from reelmark.core.engines.signals.context import SignalsContext, SignalsParams
from reelmark.core.engines.signals.features import extract_video_features
from reelmark.core.engines.signals.highlights import pick_highlights
from reelmark.core.engines.signals.shots import detect_shots
from reelmark.core.engines.signals.split import smart_split
from reelmark.core.media.probing import probe
from reelmark.core.results import Moment, MomentKind, TimeSpan, Word
from reelmark.core.utterances import speech_breaks, utterances
from spoken_podcast import COVERED, SpokenSentence, build_podcast, coverage, espeak_missing, key_recall, speech_moments

F = Fraction
BUDGET_S = 22.0
"""About the four key sentences' length: room for each, and for nothing else."""


@pytest.fixture(scope="module")
def podcast(tmp_path_factory: pytest.TempPathFactory) -> tuple[SignalsContext, list[SpokenSentence]]:
    missing = espeak_missing()
    if missing:
        pytest.skip(missing)
    path, sentences = build_podcast(tmp_path_factory.mktemp("podcast"))
    info = probe(path)
    end = sentences[-1].span.end + 1
    ctx = SignalsContext(info, F(0), end, SignalsParams(highlight_count=4, highlight_budget_s=BUDGET_S))
    ctx.video = extract_video_features(info, start=ctx.start, end=end)
    ctx.audio = extract_audio_features(info, start=ctx.start, end=end)
    ctx.shots = detect_shots(ctx.video)
    return ctx, sentences


def transcribed(ctx: SignalsContext, sentences: list[SpokenSentence]) -> SignalsContext:
    heard = replace(ctx, results={"transcribe": speech_moments(sentences)}, diagnostics=[])
    return heard


def test_highlights_find_the_planted_key_sentences_where_loudness_does_not(podcast) -> None:
    ctx, sentences = podcast
    anchor = pick_highlights(replace(ctx, diagnostics=[]))
    heard = pick_highlights(transcribed(ctx, sentences))
    assert key_recall(heard, sentences) >= 0.75, [(h.span.start_s, h.span.end_s) for h in heard]
    assert key_recall(heard, sentences) > key_recall(anchor, sentences)
    filler = [sentence for sentence in sentences if not sentence.key]
    assert all(coverage(heard, sentence) < COVERED for sentence in filler)
    assert all("main point" in h.text for h in heard)


def test_no_highlight_starts_or_ends_inside_a_word(podcast) -> None:
    ctx, sentences = podcast
    words = [word for sentence in sentences for word in sentence.words]
    for highlight in pick_highlights(transcribed(ctx, sentences)):
        for edge in (highlight.span.start, highlight.span.end):
            assert not any(word.start < edge < word.end for word in words), float(edge)


def test_split_ends_segments_between_sentences(podcast) -> None:
    ctx, sentences = podcast
    heard = transcribed(ctx, sentences)
    heard.params = SignalsParams(split_target_s=10.0)
    segments = smart_split(heard)
    assert len(segments) >= 3
    spoken = [sentence.span for sentence in sentences]
    for segment in segments[:-1]:
        assert not any(span.start < segment.span.end < span.end for span in spoken), segment.text


def words_of(text: str, start: str, step: str = "0.4") -> list[Word]:
    return [Word(F(start) + i * F(step), F(start) + i * F(step) + F(3, 10), token) for i, token in enumerate(text.split())]


def test_split_prefers_a_sentence_end_to_a_pause_inside_a_sentence(podcast) -> None:
    """No audio or picture to go on: only the words, 0.1 s apart. The sentence end at 14.2 s is where the 15 s target
    cuts, not at the 15 s grid point mid-sentence nor between any two words."""
    ctx, _ = podcast
    words = words_of("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                     "sixteen seventeen eighteen nineteen twenty twentyone twentytwo twentythree twentyfour "
                     "twentyfive twentysix twentyseven twentyeight twentynine thirty thirtyone end.", "1.5")  # fmt: skip
    later = words_of("and then we go on speaking for a long while about other things until the end of it all "
                     "and we stop here", "14.6")  # fmt: skip
    moment = Moment(MomentKind.SPEECH, TimeSpan(words[0].start, later[-1].end), text="", words=tuple(words + later))
    bare = SignalsContext(ctx.info, F(0), F(30), SignalsParams(split_target_s=15.0), results={"transcribe": [moment]})
    [first, second] = smart_split(bare)
    assert words[-1].end < first.span.end < later[0].start and "sentence end" in first.text


def test_breaks_and_utterances_follow_sentence_ends_and_long_pauses() -> None:
    words = [Word(F(0), F(1, 2), "Hi."), Word(F(6, 10), F(1), "So"), Word(F(2), F(5, 2), "anyway")]
    assert speech_breaks(words) == [(F(11, 20), "sentence"), (F(3, 2), "pause")]
    assert utterances(words) == [TimeSpan(F(0), F(1, 2)), TimeSpan(F(6, 10), F(1)), TimeSpan(F(2), F(5, 2))]


HEARD: list[Moment] = []
"""What the stand-in transcription returns (the podcast's sentences as speech moments)."""


def stand_in_transcribe(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    """The `transcribe` task's place in the table, without a model: the real-model runs are the speech tests'."""
    return list(HEARD)


def test_one_analyze_call_transcribes_then_searches_splits_and_picks(podcast, tmp_path: Path, monkeypatch) -> None:
    """The engine runs transcription first (task table order), and search, split and highlights read its words."""
    from reelmark.core.engines.base import AnalysisRequest
    from reelmark.core.engines.signals import SignalsEngine
    from reelmark.core.engines.signals.tasks import TASKS, TaskSpec

    ctx, sentences = podcast
    HEARD[:] = speech_moments(sentences)
    monkeypatch.setitem(TASKS, "transcribe", TaskSpec("transcribe", f"{__name__}:stand_in_transcribe", needs_video=False))
    model = tmp_path / "model"
    model.mkdir()
    for name in ("model.bin", "config.json"):  # the speech task's preflight looks for these files only
        (model / name).write_bytes(b"")
    request = AnalysisRequest(Path(ctx.info.path), ("transcript", "split", "transcribe"), queries=("home battery",),
                              params={"model": str(model), "split_target_s": "10"})  # fmt: skip
    analysis = SignalsEngine().analyze(request)
    [match] = analysis.of_kind(MomentKind.MATCH)
    battery = next(sentence for sentence in sentences if "battery" in sentence.text)
    words = [word for word in battery.words if word.text in ("home", "battery")]
    padding = F(SignalsParams().transcript_padding_s)
    assert match.span == TimeSpan(words[0].start - padding, words[-1].end + padding)
    spoken = [sentence.span for sentence in sentences]
    for segment in analysis.of_kind(MomentKind.SEGMENT)[:-1]:
        assert not any(span.start < segment.span.end < span.end for span in spoken)
    assert len(analysis.of_kind(MomentKind.SPEECH)) == len(sentences)
