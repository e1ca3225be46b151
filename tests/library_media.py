"""The test library's generated clips: synthetic pictures with a sentence spoken by espeak-ng (and the same
sentence as an embedded subtitle cue, the transcript), and a creation time tag."""

from __future__ import annotations

import shutil
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelmark.core.media.synthetic import ClipSpec, SubtitleCue, write_clip


def spoken_clip(path: Path, sentence: str, at_s: float, created: str | None, seed: int, frame_count: int = 125,
                subtitle: bool = True) -> Path:  # fmt: skip
    """A 25 fps clip of `frame_count` frames where `sentence` is spoken from `at_s` (with `subtitle`, a cue spans
    the speech)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (Debian: apt-get install espeak-ng); the spoken clips need it")
    path.parent.mkdir(parents=True, exist_ok=True)
    speech = path.with_suffix(".speech.wav")
    subprocess.run(["espeak-ng", "-w", str(speech), sentence], check=True, capture_output=True)
    with wave.open(str(speech)) as reader:
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
    speech.unlink()
    spoken_s = len(samples) / rate
    cue = SubtitleCue(Fraction(at_s).limit_denominator(100), Fraction(at_s + spoken_s).limit_denominator(100), sentence)
    silent = path.with_suffix(".silent.mp4")
    write_clip(silent, ClipSpec(frame_count=frame_count, subtitles=(cue,) if subtitle else (), seed=seed,
                                cuts=(frame_count // 2,)))  # fmt: skip
    track = np.zeros(int(frame_count / 25 * rate), dtype=np.float32)
    start = int(at_s * rate)
    track[start:start + len(samples)] = samples[: max(0, len(track) - start)] / 32768.0
    _remux_with_audio(silent, path, track, rate, created)
    silent.unlink()
    return path


def _remux_with_audio(source: Path, target: Path, track: np.ndarray, rate: int, created: str | None) -> None:
    with av.open(str(source)) as given, av.open(str(target), mode="w") as output:
        if created is not None:
            output.metadata["creation_time"] = created
        mapping = {stream.index: output.add_stream_from_template(stream) for stream in given.streams}
        audio = output.add_stream("aac", rate=rate, layout="mono")
        for packet in given.demux():
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            output.mux(packet)
        frame_size = 1024
        for offset in range(0, len(track), frame_size):
            chunk = track[offset:offset + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, offset
            output.mux(audio.encode(frame))
        output.mux(audio.encode(None))
