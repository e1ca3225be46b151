"""Speech: word-timed transcription with faster-whisper (CTranslate2), gated by Silero voice activity.

| module | job |
|---|---|
| `options` | `TranscribeOptions`: model, language, beam size, VAD gating, compute type (the signals engine's options inherit them) |
| `models` | a local CTranslate2 Whisper folder or an already-fetched Hugging Face id, loaded with one clear error |
| `vad` | Silero VAD on streamed 16 kHz audio: per-frame speech probabilities and speech spans |
| `whisper` | the streamed transcription: VAD-gated pieces of bounded length, words mapped back to media time |
| `phrases` | words into `speech` moments, one per sentence or phrase, never across a silence |
| `task` | the signals engine's `transcribe` task |

Nothing here downloads: models arrive with `reelmark models pull` (see `reelmark.core.cli.models`).
"""
