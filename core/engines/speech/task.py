"""The signals engine's `transcribe` task: `speech` moments with word timings, from the options in
`SignalsParams` (which inherits `TranscribeOptions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelmark.core.engines.speech.models import DEFAULT_MODEL, load_model, model_folder
from reelmark.core.engines.speech.options import TranscribeOptions

if TYPE_CHECKING:
    from reelmark.core.engines.signals.context import SignalsContext
    from reelmark.core.engines.speech.whisper import StreamingTranscription
    from reelmark.core.results import Moment

TASK = "transcribe"


def check_model(options: TranscribeOptions) -> None:
    """Fail before any decoding when the model is missing (cheap: files only)."""
    model_folder(options.model)


def listen(context: SignalsContext) -> StreamingTranscription:
    """The transcriber the signals engine's one audio pass feeds (the model loads now, before the decode)."""
    from reelmark.core.engines.speech.whisper import StreamingTranscription

    options = context.params
    model = load_model(model_folder(options.model), *options.device_and_compute_type())
    return StreamingTranscription(options, model, context.cancelled)


def transcribe(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.speech.phrases import speech_moments

    options = context.params
    transcription = context.listeners.get(TASK)
    if transcription is None:
        context.diagnostics.append(f"transcribe: {context.info.path} has no audio stream, so there is nothing to transcribe")
        return []
    transcript = transcription.finish()
    if options.model is None:
        context.diagnostics.append(f"transcribe: no model given, used the fetched default {DEFAULT_MODEL}")
    if not transcript.words:
        context.diagnostics.append("transcribe: no speech heard in the analysed range")
    elif options.language is None and transcript.language:
        context.diagnostics.append(f"transcribe: language detected as {transcript.language}")
    return speech_moments(transcript.words, context.start, context.end)
