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

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from reelmark.core.engines.options import parse_options
from reelmark.core.errors import InvalidRequestError


@dataclass(frozen=True)
class VlmParams:
    model: str | None = None
    """Checkpoint: a local folder, or a Hugging Face id already in the cache (`reelmark models pull ID`)."""
    device: Literal["auto", "cuda", "cpu"] = "auto"
    """`auto` (a CUDA GPU, else refuse), `cuda`, or `cpu` (small models and tests only)."""
    fps: Fraction | None = None
    """Frames per second fed to the model; none lets the planner pick from the duration."""
    max_pixels: int | None = None
    """Pixel area per frame before patching; none lets the planner pick."""
    token_budget: int = 32768
    """Visual tokens the planner may spend on the clip."""
    prefill_chunk: int = 2048
    """Tokens per prefill step into the KV cache; 0 = one shot."""
    vision_chunk: int = 16
    """Frame groups per vision-tower pass."""
    max_new_tokens: int = 256
    """Answer length limit per prompt."""
    decode: Literal["sdpa", "dense", "sparse"] = "sdpa"
    """`sdpa` (PyTorch attention), `dense` or `sparse` (the #8 Triton kernels)."""
    sparse_budget: float = 1 / 16
    """Share of KV chunks kept in full by `decode=sparse`."""
    highlight_count: int = 5
    """Clips asked for by the highlights task."""

    def __post_init__(self) -> None:
        """The limits, checked wherever the options are built (CLI, daemon, tests)."""
        if self.fps is not None and not 0 < self.fps <= 30:
            raise InvalidRequestError("--param fps must lie in (0, 30]")
        if self.max_pixels is not None and self.max_pixels < 28 * 28:
            raise InvalidRequestError("--param max_pixels must be at least 784 (one 28x28 token)")
        for name in ("token_budget", "vision_chunk", "max_new_tokens", "highlight_count"):
            if getattr(self, name) < 1:
                raise InvalidRequestError(f"--param {name} must be at least 1")
        if self.prefill_chunk < 0:
            raise InvalidRequestError("--param prefill_chunk must be 0 (one shot) or a positive number of tokens")
        if not 0 < self.sparse_budget <= 1:
            raise InvalidRequestError("--param sparse_budget must lie in (0, 1]")


def parse_params(raw: Mapping[str, Any]) -> VlmParams:
    """`VlmParams` from option names to values (text or JSON values); defaults fill the rest."""
    return parse_options(VlmParams, raw, "vlm")
