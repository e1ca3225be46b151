"""Words into `speech` moments: one per sentence or phrase, never across a pause the VAD heard.

A phrase ends after a word that ends a sentence (`utterances.ends_sentence`: . ? ! … and their full-width forms,
closing quotes allowed), before a word from another speech span (a silence of at least `vad.MIN_SILENCE_MS` lies
between), and before a gap between words of `MAX_GAP_S` or more. The moment's span runs from its first word's start to its last word's end, its text is the
words joined, its label the text cut to a marker-sized `LABEL_CHARS`, its score the mean word probability.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from reelmark.core.engines.speech.whisper import TimedWord
from reelmark.core.results import Moment, MomentKind, TimeSpan, Word
from reelmark.core.utterances import ends_sentence

MAX_GAP_S = 0.3
LABEL_CHARS = 40
TIME_DENOMINATOR = 1000
"""Word times are kept to the millisecond: Whisper's own resolution is 20 ms."""


def _exact(seconds: float) -> Fraction:
    return Fraction(round(seconds * TIME_DENOMINATOR), TIME_DENOMINATOR)


def group_phrases(words: Iterable[TimedWord]) -> list[list[TimedWord]]:
    phrases: list[list[TimedWord]] = []
    for word in words:
        current = phrases[-1] if phrases else None
        if (
            current is None
            or ends_sentence(current[-1].text)
            or current[-1].span != word.span
            or word.start - current[-1].end >= MAX_GAP_S
        ):
            phrases.append([word])
        else:
            current.append(word)
    return phrases


def speech_moments(words: Iterable[TimedWord], start: Fraction, end: Fraction) -> list[Moment]:
    """`speech` moments inside [start, end], with their words."""
    moments = []
    for phrase in group_phrases(words):
        timed = []
        for word in phrase:
            first = min(max(_exact(word.start), start), end)
            timed.append(Word(first, min(max(_exact(word.end), first), end), word.text, round(word.probability, 4)))
        text = " ".join(word.text for word in timed)
        label = text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"
        score = sum(word.probability or 0.0 for word in timed) / len(timed)
        moments.append(Moment(MomentKind.SPEECH, TimeSpan(timed[0].start, max(w.end for w in timed)), label=label,
                              score=round(score, 4), text=text, words=tuple(timed)))  # fmt: skip
    return moments
