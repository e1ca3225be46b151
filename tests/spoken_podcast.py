"""A generated podcast with planted key sentences, for the speech-aware editing tests and bench.

espeak-ng (the Debian package) speaks each sentence to its own WAV; the sentences are joined with known silences
under a picture of moving grain (a static two-shot would read as frozen picture), so every sentence's start and
end are known exactly. The planted "key" sentences are a talk's main points about one subject (home solar power);
the rest is what fills a podcast: greetings, asides, back-channel, off-topic stories. The filler is spoken louder
(espeak's amplitude 170 against 100) so that loudness alone points at it: a highlight picker that does not listen
to what is said picks the filler.

Word times inside a sentence are spread over its sound in proportion to each word's length in characters (espeak
does not report word times); the sentence's own start and end are exact.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

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
GAPS_S = (Fraction(7, 10), Fraction(9, 10), Fraction(11, 10))
SAMPLE_RATE = 22050
FPS = 10


@dataclass(frozen=True)
class SpokenSentence:
    span: TimeSpan
    text: str
    key: bool
    words: tuple[Word, ...]


def espeak_missing() -> str | None:
    """Why the recording cannot be made here, or None."""
    return None if shutil.which("espeak-ng") else "espeak-ng is not installed (Debian: apt-get install espeak-ng; .ci/run does)"


def _speak(text: str, amplitude: int, folder: Path, index: int) -> np.ndarray:
    path = folder / f"sentence-{index}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-a", str(amplitude), "-w", str(path), text], check=True, timeout=60)
    with wave.open(str(path)) as reader:
        assert reader.getframerate() == SAMPLE_RATE and reader.getnchannels() == 1
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    sounding = np.flatnonzero(np.abs(samples) > 200)
    return samples[sounding[0] : sounding[-1] + 1]


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
    """The podcast file (`podcast.mkv`, H.264 + PCM) and its sentences, exactly timed."""
    keys, fillers = iter(KEY), iter(FILLER)
    pieces: list[np.ndarray] = [np.zeros(SAMPLE_RATE, dtype=np.int16)]
    sentences: list[SpokenSentence] = []
    time = Fraction(1)
    for index, kind in enumerate(ORDER):
        text = next(keys) if kind == "K" else next(fillers)
        sound = _speak(text, 100 if kind == "K" else 170, folder, index)
        end = time + Fraction(len(sound), SAMPLE_RATE)
        sentences.append(SpokenSentence(TimeSpan(time, end), text, kind == "K", _words(text, time, end)))
        gap = GAPS_S[index % len(GAPS_S)]
        pieces += [sound, np.zeros(int(gap * SAMPLE_RATE), dtype=np.int16)]
        time = end + Fraction(int(gap * SAMPLE_RATE), SAMPLE_RATE)
    pieces.append(np.zeros(SAMPLE_RATE, dtype=np.int16))
    audio = np.concatenate(pieces)
    path = folder / "podcast.mkv"
    _mux(path, audio)
    return path, sentences


def _mux(path: Path, audio: np.ndarray) -> None:
    rng = np.random.default_rng(16)
    frames = int(len(audio) / SAMPLE_RATE * FPS)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 160, 96, "yuv420p"
        sound = container.add_stream("pcm_s16le", rate=SAMPLE_RATE)
        sound.layout = "mono"
        for _ in range(frames):
            grain = rng.normal(110, 12, (6, 10)).clip(0, 255).astype(np.uint8)
            picture = np.repeat(np.repeat(grain, 16, axis=0), 16, axis=1)
            frame = av.VideoFrame.from_ndarray(np.stack([picture] * 3, axis=-1), format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode())
        block = SAMPLE_RATE // 10
        for offset in range(0, len(audio), block):
            chunk = av.AudioFrame.from_ndarray(audio[offset : offset + block].reshape(1, -1), format="s16", layout="mono")
            chunk.sample_rate = SAMPLE_RATE
            chunk.pts = offset
            container.mux(sound.encode(chunk))
        container.mux(sound.encode())


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
