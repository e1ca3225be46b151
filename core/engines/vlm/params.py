"""The vlm engine's options (`--param name=value` on the CLI, `AnalysisSpec.params` in the daemon).

Values arrive as text from both; each is converted and checked here, and an unknown name is an error that lists
the known ones (a misspelt option would otherwise change nothing and look like it worked).

| option | default | meaning |
|---|---|---|
| model | (required) | checkpoint: a local folder, or a Hugging Face id already in the cache (`reelmark models pull ID`) |
| device | auto | `auto` (a CUDA GPU, else refuse), `cuda`, or `cpu` (small models and tests only) |
| fps | planned | frames per second fed to the model; unset: the planner picks from the duration |
| max_pixels | planned | pixel area per frame before patching; unset: the planner picks |
| token_budget | 32768 | visual tokens the planner may spend on the clip |
| prefill_chunk | 2048 | tokens per prefill step into the KV cache; 0 = one shot |
| vision_chunk | 16 | frame groups per vision-tower pass |
| max_new_tokens | 256 | answer length limit per prompt |
| decode | sdpa | `sdpa` (PyTorch attention), `dense` or `sparse` (the #8 Triton kernels) |
| sparse_budget | 0.0625 | share of KV chunks kept in full by `decode=sparse` |
| highlight_count | 5 | clips asked for by the highlights task |
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from reelmark.core.errors import InvalidRequestError

DEVICES = ("auto", "cuda", "cpu")
DECODERS = ("sdpa", "dense", "sparse")


@dataclass(frozen=True)
class VlmParams:
    model: str | None = None
    device: str = "auto"
    fps: Fraction | None = None
    max_pixels: int | None = None
    token_budget: int = 32768
    prefill_chunk: int = 2048
    vision_chunk: int = 16
    max_new_tokens: int = 256
    decode: str = "sdpa"
    sparse_budget: float = 1 / 16
    highlight_count: int = 5

    def cache_key(self) -> dict[str, Any]:
        """Every option as JSON-ready values, for the analysis's engine params."""
        return {
            name: (str(value) if isinstance(value, Fraction) else value)
            for name, value in dataclasses.asdict(self).items()
        }


_FIELDS = {field.name: field for field in dataclasses.fields(VlmParams)}
_CHOICES = {"device": DEVICES, "decode": DECODERS}


def _convert(name: str, value: Any) -> Any:
    kind = str(_FIELDS[name].type)
    if isinstance(value, str) and value.strip().lower() in ("", "none") and "None" in kind:
        return None
    if value is None and "None" in kind:
        return None
    try:
        if name in _CHOICES:
            if str(value) not in _CHOICES[name]:
                raise InvalidRequestError(f"--param {name} must be one of {', '.join(_CHOICES[name])}, not {value!r}")
            return str(value)
        if kind.startswith("Fraction"):
            return Fraction(str(value))
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("int"):
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        return str(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise InvalidRequestError(f"--param {name}={value!r} is not a valid {kind}") from None


def parse_params(raw: Mapping[str, Any]) -> VlmParams:
    """`VlmParams` from option names to values (text or JSON values); defaults fill the rest."""
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise InvalidRequestError(f"unknown vlm option(s) {', '.join(unknown)}; known options: {', '.join(sorted(_FIELDS))}")
    params = VlmParams(**{name: _convert(name, value) for name, value in raw.items()})
    _check(params)
    return params


def _check(params: VlmParams) -> None:
    if params.fps is not None and not 0 < params.fps <= 30:
        raise InvalidRequestError("--param fps must lie in (0, 30]")
    if params.max_pixels is not None and params.max_pixels < 28 * 28:
        raise InvalidRequestError("--param max_pixels must be at least 784 (one 28x28 token)")
    for name in ("token_budget", "vision_chunk", "max_new_tokens", "highlight_count"):
        if getattr(params, name) < 1:
            raise InvalidRequestError(f"--param {name} must be at least 1")
    if params.prefill_chunk < 0:
        raise InvalidRequestError("--param prefill_chunk must be 0 (one shot) or a positive number of tokens")
    if not 0 < params.sparse_budget <= 1:
        raise InvalidRequestError("--param sparse_budget must lie in (0, 1]")
