"""Transcript search: lexical matching, semantic matching with the packaged MiniLM, padding, merging, laziness.

Expected matches are labelled by hand (which cue says what); nothing is read back from the code under test.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from reelmark.core.engines.signals import transcript
from reelmark.core.engines.signals.transcript import SEMANTIC_THRESHOLD, search_transcript
from reelmark.core.media.subtitles import Cue
from reelmark.core.results import MomentKind, TimeSpan


def _cue(start: float, end: float, text: str, source: str = "stream:2") -> Cue:
    return Cue(Fraction(start), Fraction(end), text, source)


LEXICAL = [
    _cue(0.5, 2, "Welcome back to the show."),
    _cue(4, 6, "Today: PRICING —\nplans, tiers & more!"),
    _cue(10, 12, "The red car enters the garage"),
    _cue(12.5, 14, "from the left side."),
    _cue(30, 32, "Thanks for watching"),
]
END = Fraction(33)


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lexical-only searches must never reach the model."""

    def refuse() -> None:
        raise AssertionError("the embedding model was loaded for a lexical-only search")

    monkeypatch.setattr(transcript, "_model", refuse)


def _spans(moments: list) -> list[tuple[float, float]]:
    return [(moment.span.start_s, moment.span.end_s) for moment in moments]


@pytest.mark.usefixtures("no_model")
def test_lexical_match_ignores_case_and_punctuation_and_pads() -> None:
    [moment] = search_transcript(LEXICAL, ["pricing"], padding_s=1.0, end=END, semantic=False)
    assert moment.kind == MomentKind.MATCH and moment.query == "pricing"
    assert moment.span == TimeSpan(Fraction(3), Fraction(7))
    assert moment.text == LEXICAL[1].text and moment.score == 1.0
    [phrase] = search_transcript(LEXICAL, ["RED car!"], padding_s=0.0, end=END, semantic=False)
    assert phrase.span == TimeSpan(Fraction(10), Fraction(12)) and phrase.score == 1.0


@pytest.mark.usefixtures("no_model")
def test_all_words_in_any_order_score_below_a_phrase() -> None:
    [moment] = search_transcript(LEXICAL, ["car red"], padding_s=0.0, end=END, semantic=False)
    assert moment.span == TimeSpan(Fraction(10), Fraction(12))
    assert 0 < moment.score < 1.0
    assert search_transcript(LEXICAL, ["red helicopter"], padding_s=0.0, end=END, semantic=False) == []


@pytest.mark.usefixtures("no_model")
def test_a_phrase_runs_on_into_the_next_cue_but_not_across_a_long_gap() -> None:
    [moment] = search_transcript(LEXICAL, ["garage from the left"], padding_s=0.5, end=END, semantic=False)
    assert moment.span == TimeSpan(Fraction(19, 2), Fraction(29, 2))
    assert "garage" in moment.text and "left side" in moment.text
    # 16 s of nothing between "left side." and "Thanks": not one utterance.
    assert search_transcript(LEXICAL, ["side thanks"], padding_s=0.0, end=END, semantic=False) == []
    # 2 s between "the show." and "Today:" is a pause inside one.
    [joined] = search_transcript(LEXICAL, ["show today"], padding_s=0.0, end=END, semantic=False)
    assert joined.span == TimeSpan(Fraction(1, 2), Fraction(6))
    # Two tracks (say, two languages) are never joined.
    split = [_cue(10, 12, "into the garage"), _cue(12.2, 13, "from the left", source="other.srt")]
    assert search_transcript(split, ["garage from the left"], padding_s=0.0, end=END, semantic=False) == []


@pytest.mark.usefixtures("no_model")
def test_overlapping_padded_matches_merge_and_clamp_to_the_media() -> None:
    moments = search_transcript(LEXICAL, ["the"], padding_s=1.0, end=END, semantic=False)
    # "the" is in cues 0, 2 and 3; padded, 2 and 3 overlap; cue 0 starts 0.5 s in, so it clamps at 0.
    assert _spans(moments) == [(0.0, 3.0), (9.0, 15.0)]
    assert moments[1].text == LEXICAL[2].text + "\n" + LEXICAL[3].text
    assert moments[1].score == 1.0
    [last] = search_transcript(LEXICAL, ["watching"], padding_s=5.0, end=END, semantic=False)
    assert last.span == TimeSpan(Fraction(25), END)


SEMANTIC = [
    _cue(0, 3, "Welcome back to the show, today we have a special guest."),
    _cue(5, 8, "So how much does the basic plan cost?"),
    _cue(10, 13, "We launched the product last spring in Berlin."),
    _cue(15, 18, "The weather was terrible, it rained every day."),
    _cue(20, 23, "Let's talk about the new camera features."),
    _cue(25, 28, "It shoots 8K at sixty frames per second."),
    _cue(30, 33, "He scored a goal in the last minute."),
    _cue(35, 38, "Thanks for watching, see you next week."),
]
# Query → the cues (by index) a person would point at; none of them holds all the words of its query.
RELEVANT = {"how much it costs": {1}, "rain": {3}, "camera specs": {4, 5}, "a goal is scored": {6}}


@pytest.mark.usefixtures("no_model")
def test_a_match_on_an_earlier_cue_does_not_cut_a_later_one_short() -> None:
    """A phrase match late in the clip and an all-words match on an earlier cue: each keeps its own padded span.
    The earlier cue's end used to become the clamp for every match of the query (a local name hid `end`), so the
    later match was cut to the earlier cue's end, or ended before it started."""
    cues = [_cue(1, 2, "apples and pears"), _cue(10, 12, "pears apples")]
    moments = search_transcript(cues, ["pears apples"], padding_s=0.5, end=END, semantic=False)
    assert _spans(moments) == [(0.5, 2.5), (9.5, 12.5)]
    assert [moment.score for moment in moments] == [transcript.TOKENS_SCORE, 1.0]


def test_semantic_matches_find_paraphrases_and_only_them() -> None:
    moments = search_transcript(SEMANTIC, list(RELEVANT) + ["cooking recipe"], padding_s=0.0, end=Fraction(40))
    for query, relevant in RELEVANT.items():
        found = [moment for moment in moments if moment.query == query]
        hit = {
            index for index, cue in enumerate(SEMANTIC) for m in found if m.span.overlaps(TimeSpan(cue.start, cue.end))
        }
        assert hit == relevant, query
        assert all(SEMANTIC_THRESHOLD <= moment.score <= 1 for moment in found)
    assert not [moment for moment in moments if moment.query == "cooking recipe"]


def test_semantic_off_finds_no_paraphrase() -> None:
    assert search_transcript(SEMANTIC, ["rain"], padding_s=0.0, end=Fraction(40), semantic=False) == []


def test_importing_the_module_loads_no_model() -> None:
    code = (
        "import sys, reelmark.core.engines.signals.transcript\n"
        "print(any(name.split('.')[0] in ('sentence_transformers', 'torch', 'transformers') for name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_word_level_times_narrow_a_phrase_match() -> None:
    """Where a cue has word timing, a phrase match covers its words, not the whole cue."""
    words = ((Fraction(1), "The"), (Fraction(3, 2), "guest"), (Fraction(2), "explains"), (Fraction(3), "pricing"))
    cue = Cue(Fraction(1), Fraction(4), "The guest explains pricing", "talk.vtt", None, words)
    (middle,) = search_transcript([cue], ["guest explains"], padding_s=0, end=Fraction(10), semantic=False)
    assert (middle.span.start, middle.span.end) == (Fraction(3, 2), Fraction(3))
    (last,) = search_transcript([cue], ["pricing"], padding_s=0, end=Fraction(10), semantic=False)
    assert (last.span.start, last.span.end) == (Fraction(3), Fraction(4))  # the last word runs to the cue's end
    untimed = Cue(Fraction(1), Fraction(4), "The guest explains pricing", "talk.srt")
    (whole,) = search_transcript([untimed], ["guest explains"], padding_s=0, end=Fraction(10), semantic=False)
    assert (whole.span.start, whole.span.end) == (Fraction(1), Fraction(4))
