"""A generated podcast with planted key sentences, for the speech-aware editing tests and bench.

espeak-ng (the Debian package) speaks each sentence (`speech_data.speak`, the speech tests' helper); the sentences
are joined with known silences under the speech tests' moving picture (a static two-shot would read as frozen
picture), so every sentence's start and end are known exactly. The planted "key" sentences are a talk's main points about one subject (home solar power);
the rest is what fills a podcast: greetings, asides, back-channel, off-topic stories. The filler is made louder
(`FILLER_GAIN`) so that loudness alone points at it: a highlight picker that does not listen
to what is said picks the filler.

Word times inside a sentence are spread over its sound in proportion to each word's length in characters (espeak
does not report word times); the sentence's own start and end are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from speech_data import RATE, _sound_bounds, espeak_available, speak, write_clip

from reelmark.core.results import Moment, MomentKind, TimeSpan, Word

COVERED = 0.8
"""A key sentence counts as found when highlights cover this share of it."""

KEY = (
    "Solar panels on a south facing roof usually pay for themselves within eight to ten years.",
    "A home battery stores the midday solar power so the house can use it during the evening peak.",
    "With net metering you sell the surplus solar electricity back to the grid at a fair price.",
    "Cleaning the solar panels twice a year keeps their output close to the rated power.",
)
FILLER = (
    "Hey everyone, welcome back, great to have you here again!",
    "Yeah, totally, ha ha!",
    "Sorry, my dog is barking at the mail man again!",
    "Can you all hear me okay now?",
    "I had a really big pizza for lunch today, wow!",
    "Oh man, that is so funny!",
    "By the way, do not forget to like and subscribe!",
    "My cousin just got a new bicycle, it is bright red!",
)
ORDER = ("F", "F", "K", "F", "F", "K", "F", "F", "K", "F", "K", "F")
GAPS_S = (0.7, 0.9, 1.1)
FILLER_GAIN = 1.7
"""The filler is this much louder (about +4.6 dB)."""


@dataclass(frozen=True)
class SpokenSentence:
    span: TimeSpan
    text: str
    key: bool
    words: tuple[Word, ...]


def espeak_missing() -> str | None:
    """Why the recording cannot be made here, or None."""
    return None if espeak_available() else "espeak-ng is not installed (Debian: apt-get install espeak-ng; .ci/run does)"


def _words(text: str, start: Fraction, end: Fraction) -> tuple[Word, ...]:
    """Words spread over [start, end] by their length in characters (a space's share is the gap between words)."""
    tokens = text.split()
    total = len(" ".join(tokens))
    words, position = [], 0
    for token in tokens:
        first, position = position, position + len(token)
        words.append(Word(start + (end - start) * Fraction(first, total), start + (end - start) * Fraction(position, total), token))
        position += 1
    return tuple(words)


def build_podcast(folder: Path) -> tuple[Path, list[SpokenSentence]]:
    """The podcast file (`podcast.mp4`, the speech tests' picture and AAC sound) and its sentences, exactly timed."""
    keys, fillers = iter(KEY), iter(FILLER)
    pieces: list[np.ndarray] = [np.zeros(RATE, dtype=np.float32)]
    sentences: list[SpokenSentence] = []
    position = RATE
    for index, kind in enumerate(ORDER):
        text = next(keys) if kind == "K" else next(fillers)
        spoken = speak(text)
        first, last = _sound_bounds(spoken)
        sound = spoken[first:last] * (1.0 if kind == "K" else FILLER_GAIN)
        start, end = Fraction(position, RATE), Fraction(position + len(sound), RATE)
        sentences.append(SpokenSentence(TimeSpan(start, end), text, kind == "K", _words(text, start, end)))
        gap = np.zeros(round(GAPS_S[index % len(GAPS_S)] * RATE), dtype=np.float32)
        pieces += [sound, gap]
        position += len(sound) + len(gap)
    pieces.append(np.zeros(RATE, dtype=np.float32))
    path = folder / "podcast.mp4"
    write_clip(path, np.clip(np.concatenate(pieces), -1, 1))
    return path, sentences


def speech_moments(sentences: list[SpokenSentence]) -> list[Moment]:
    """What the `transcribe` task returns for the podcast: one speech moment per sentence, with its words."""
    return [Moment(MomentKind.SPEECH, sentence.span, text=sentence.text, words=sentence.words) for sentence in sentences]


def coverage(highlights: list[Moment], sentence: SpokenSentence) -> float:
    """The share of `sentence` the highlights cover."""
    overlap = sum(max(Fraction(0), min(h.span.end, sentence.span.end) - max(h.span.start, sentence.span.start)) for h in highlights)
    return float(overlap / sentence.span.duration)


def key_recall(highlights: list[Moment], sentences: list[SpokenSentence]) -> float:
    """The share of key sentences the highlights cover (at least `COVERED` of each)."""
    keys = [sentence for sentence in sentences if sentence.key]
    return sum(coverage(highlights, sentence) >= COVERED for sentence in keys) / len(keys)


def key_precision(highlights: list[Moment], sentences: list[SpokenSentence]) -> float:
    """The share of highlight time spent on key sentences."""
    total = sum(h.span.duration for h in highlights)
    on_key = sum(coverage(highlights, s) * s.span.duration for s in sentences if s.key)
    return float(on_key / total) if total else 0.0
