"""Finding and loading a Whisper model without touching the network.

A model is a CTranslate2 Whisper folder (`model.bin`, `config.json`, `tokenizer.json`, vocabulary), given as a
path or as a Hugging Face id that `reelmark models pull` fetched into the cache before. Every way this can fail
(nothing given, no such folder, not fetched yet, a damaged `model.bin`) ends as one `EngineUnavailableError` line
that says what to do; an analysis never downloads.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from reelmark.core.errors import EngineUnavailableError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

DEFAULT_MODEL = "Systran/faster-whisper-small"
"""Used when no model is given and it has been fetched: plugins and clients then need not name one."""
PULL_HINT = f"get one with `reelmark models pull {DEFAULT_MODEL}` (or any faster-whisper size)"
REQUIRED_FILES = ("model.bin", "config.json")


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or "\\" in model or Path(model).expanduser().exists() or model.count("/") != 1


def model_folder(model: str | None) -> Path:
    """The folder holding `model`'s files, checked for the files CTranslate2 needs; no loading yet (cheap, for
    preflight)."""
    if not model:
        try:
            return model_folder(DEFAULT_MODEL)
        except EngineUnavailableError:
            raise EngineUnavailableError(
                f"--task transcribe needs a Whisper model: pass --model PATH_OR_ID, or fetch the default once with "
                f"`reelmark models pull {DEFAULT_MODEL}`"
            ) from None
    if _looks_like_path(model):
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise EngineUnavailableError(f"speech model folder {folder} does not exist; {PULL_HINT}, or give a CTranslate2 Whisper folder")
    else:
        folder = _cached_snapshot(model)
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise EngineUnavailableError(
            f"{folder} is not a CTranslate2 Whisper model (no {', '.join(missing)}); {PULL_HINT}"
        )
    return folder


def _cached_snapshot(model_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(model_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        raise EngineUnavailableError(
            f"speech model {model_id} is not on this machine; fetch it once with `reelmark models pull {model_id}`"
        ) from None


@functools.lru_cache(maxsize=2)
def load_model(folder: Path, device: str, compute_type: str) -> WhisperModel:
    """The loaded model, kept for the next analysis in this process (a daemon loads it once)."""
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(str(folder), device=device, compute_type=compute_type, local_files_only=True)
    except (RuntimeError, ValueError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EngineUnavailableError(
            f"speech model in {folder} cannot be loaded ({reason}); its files may be damaged: fetch it again "
            f"(`reelmark models pull ID`) or use another folder"
        ) from None
