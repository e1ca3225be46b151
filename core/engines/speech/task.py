"""The signals engine's `transcribe` task: `speech` moments with word timings, from the options in
`SignalsParams` (which inherits `TranscribeOptions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reelmark.core.engines.speech.models import DEFAULT_MODEL, load_model, model_folder
from reelmark.core.engines.speech.options import TranscribeOptions

if TYPE_CHECKING:
    from reelmark.core.engines.signals.context import SignalsContext
    from reelmark.core.results import Moment

TASK = "transcribe"


def check_model(options: TranscribeOptions, tasks: tuple[str, ...]) -> None:
    """Fail before any decoding when transcription is asked for and its model is missing (cheap: files only)."""
    if TASK in tasks:
        model_folder(options.model)


def transcribe(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.speech.phrases import speech_moments
    from reelmark.core.engines.speech.whisper import transcribe_stream

    options = context.params
    folder = model_folder(options.model)
    if not context.info.audio:
        context.diagnostics.append(f"transcribe: {context.info.path} has no audio stream, so there is nothing to transcribe")
        return []
    model = load_model(folder, *options.device_and_compute_type())
    transcript = transcribe_stream(context.info, context.start, context.end, options, model, context.cancelled)
    if options.model is None:
        context.diagnostics.append(f"transcribe: no model given, used the fetched default {DEFAULT_MODEL}")
    if not transcript.words:
        context.diagnostics.append("transcribe: no speech heard in the analysed range")
    elif options.language is None and transcript.language:
        context.diagnostics.append(f"transcribe: language detected as {transcript.language}")
    return speech_moments(transcript.words, context.start, context.end)
