"""Finding and loading a checkpoint, without ever downloading one.

`--model` is a local folder, or a Hugging Face id that `reelmark models pull ID` already put in the local cache;
both are read with `local_files_only`, so an analysis never touches the network. The family adapter is chosen by
the config's `model_type`. Dtype and device: bf16 on a CUDA GPU, fp32 on CPU. With no GPU the engine refuses
(FAILED_PRECONDITION) unless the request says `device=cpu`, which suits tiny models and tests, not a 7B model.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelmark.core.engines.vlm.families import FamilyAdapter, adapter_for, supported_model_types
from reelmark.core.engines.vlm.video import VisionGeometry
from reelmark.core.errors import EngineUnavailableError

log = logging.getLogger("reelmark.vlm.loader")

NO_MODEL = (
    "the vlm engine needs a model: pass --model PATH_OR_ID (a checkpoint folder, or a Hugging Face id fetched "
    "with `reelmark models pull ID`), or params {\"model\": ...} through the daemon"
)


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    tokenizer: Any
    adapter: FamilyAdapter
    geometry: VisionGeometry
    model_id: str
    """What the user named (folder or id): recorded with every analysis."""
    folder: Path
    device: str

    @property
    def stop_ids(self) -> tuple[int, ...]:
        """End-of-turn and end-of-text ids: greedy decoding stops at any of them."""
        ids = {self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids("<|im_end|>")}
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        ids.update(eos if isinstance(eos, list) else [eos])
        return tuple(sorted(value for value in ids if isinstance(value, int) and value >= 0))


def resolve_model(spec: str) -> Path:
    """The local folder of `spec`: the folder itself, or the cached snapshot of a Hugging Face id."""
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise EngineUnavailableError(f"{path} is not a model checkpoint (no config.json in it)")
        return path.resolve()
    if path.exists() or spec.startswith((".", "/", "~")) or spec.count("/") != 1:
        raise EngineUnavailableError(f"model {spec!r} is neither a checkpoint folder nor a Hugging Face id (owner/name)")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(spec, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        raise EngineUnavailableError(
            f"model {spec!r} is not in the local Hugging Face cache; fetch it once with `reelmark models pull {spec}` "
            "(nothing is downloaded during an analysis)"
        ) from None


NO_GPU = (
    "the vlm engine needs a CUDA GPU and none is visible (torch.cuda.is_available() is False); run it on a "
    "machine with an NVIDIA GPU and a CUDA build of torch, use --engine signals, or pass --param device=cpu "
    "for a small model (slow; meant for tests)"
)


def choose_device(requested: str) -> str:
    """`cuda` when a CUDA GPU is present and wanted; `cpu` only when asked for by name."""
    import torch

    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    raise EngineUnavailableError(NO_GPU)


class ModelCache:
    """Keeps the last loaded checkpoint: the daemon runs one vlm job at a time, and loading takes longer than a
    short analysis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._loaded: LoadedModel | None = None

    def get(self, spec: str, device: str) -> LoadedModel:
        with self._lock:
            folder = resolve_model(spec)
            key = (str(folder), device)
            if self._loaded is None or self._key != key:
                self._loaded = None  # free the old one first: two 7B models rarely fit together
                started = time.perf_counter()
                log.debug("loading model %s from %s on %s", spec, folder, device)
                self._loaded = load_model(spec, folder, device)
                self._key = key
                log.debug("loaded model %s in %.1f s", spec, time.perf_counter() - started)
            else:
                log.debug("model %s already loaded on %s", spec, device)
            return self._loaded


def load_model(spec: str, folder: Path, device: str) -> LoadedModel:
    import torch
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    adapter = adapter_for(config.model_type)
    if adapter is None:
        raise EngineUnavailableError(
            f"{spec}: model type {config.model_type!r} has no adapter; supported: {', '.join(supported_model_types())}"
        )
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = adapter.model_class().from_pretrained(folder, dtype=dtype, local_files_only=True, attn_implementation="sdpa")
    model.to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    return LoadedModel(model, tokenizer, adapter, adapter.geometry(config, folder), spec, folder, device)
