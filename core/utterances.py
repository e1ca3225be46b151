"""Where speech breaks: sentence ends and long pauses between transcribed words.

Shared by subtitle layout (a new cue), smart split (a segment end) and highlights (a window edge), so that all
three agree on what a sentence and a pause are. Words are `reelmark.core.results.Word`s in time order.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import pairwise
from typing import Literal

from reelmark.core.results import TimeSpan, Word

SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")
LONG_PAUSE_S = Fraction(7, 10)
"""A silence this long between two words is a pause a listener hears as a break (longer than the 0.2–0.5 s gaps
between phrases of fluent speech), so it may end a cue or a segment even mid-sentence."""
BreakKind = Literal["sentence", "pause"]


def ends_sentence(text: str) -> bool:
    """Whether a word closes a sentence (its last character, after closing quotes and brackets, is `.?!…`)."""
    return text.rstrip("\"'”’)»").endswith(SENTENCE_ENDS)


def speech_breaks(words: Sequence[Word]) -> list[tuple[Fraction, BreakKind]]:
    """The middle of every gap after a sentence end ("sentence") or of every long pause ("pause"), in time order."""
    breaks: list[tuple[Fraction, BreakKind]] = []
    for before, after in pairwise(words):
        if after.start <= before.end:
            continue
        middle = (before.end + after.start) / 2
        if ends_sentence(before.text):
            breaks.append((middle, "sentence"))
        elif after.start - before.end >= LONG_PAUSE_S:
            breaks.append((middle, "pause"))
    return breaks


def utterances(words: Sequence[Word]) -> list[TimeSpan]:
    """Stretches of speech without a break: words joined until a sentence end or a long pause (never inside a word)."""
    spans: list[TimeSpan] = []
    start: Fraction | None = None
    for index, word in enumerate(words):
        start = word.start if start is None else start
        following = words[index + 1] if index + 1 < len(words) else None
        if following is None or ends_sentence(word.text) or following.start - word.end >= LONG_PAUSE_S:
            spans.append(TimeSpan(start, max(start, word.end)))
            start = None
    return spans


def sentences(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped into sentences (each closed by a word that `ends_sentence`, the last by the end of the words)."""
    grouped: list[list[Word]] = [[]]
    for word in words:
        grouped[-1].append(word)
        if ends_sentence(word.text):
            grouped.append([])
    return [group for group in grouped if group]
