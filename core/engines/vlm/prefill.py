"""Chunk-based prefill into the KV cache, and greedy decoding from it (DESIGN §6, Video-XL-2).

A one-shot prefill of L tokens holds every layer's activations for all L at once (the MLP's L × intermediate
tensors dominate; SDPA's math path adds L × L per head). Feeding the sequence `chunk` tokens at a time into the
cache, each chunk attending to the cache plus itself, gives the same keys, values and last logits, with peak
activation memory set by the chunk, not the video; the cache itself (2 × layers × L × kv heads × head dim)
is the one thing that still grows with L.

The rope positions are computed once for the whole sequence (`FamilyAdapter.position_ids`) and sliced, so
chunking never changes where a token sits. Decoding continues the positions from the highest one + 1, which
is how transformers continues a multimodal sequence (its `rope_deltas`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from reelmark.core.engines.vlm.families import FamilyAdapter, VisualFeatures


@dataclass(frozen=True)
class PromptInputs:
    """One prompt, ready to prefill: token ids, their embeddings (video rows filled in) and positions."""

    input_ids: torch.Tensor
    embeds: torch.Tensor
    positions: torch.Tensor
    visual_mask: torch.Tensor

    @property
    def length(self) -> int:
        return int(self.input_ids.shape[1])

    @property
    def next_position(self) -> int:
        return int(self.positions.max()) + 1


def embed_prompt(model: Any, adapter: FamilyAdapter, input_ids: torch.Tensor, positions: torch.Tensor,
                 visual: VisualFeatures) -> PromptInputs:  # fmt: skip
    """Text embeddings with the video placeholders replaced by the vision tower's rows, in order."""
    device = model.device
    input_ids = input_ids.to(device)
    embeds = model.get_input_embeddings()(input_ids)
    visual_mask = input_ids == model.config.video_token_id
    count = int(visual_mask.sum())
    if count != visual.embeds.shape[0]:
        raise ValueError(f"{count} video placeholders for {visual.embeds.shape[0]} visual rows: the prompt and the "
                         "video input disagree")  # fmt: skip
    embeds[visual_mask] = visual.embeds.to(device, embeds.dtype)
    return PromptInputs(input_ids, embeds, positions.to(device), visual_mask)


def prefill(
    model: Any,
    adapter: FamilyAdapter,
    prompt: PromptInputs,
    visual: VisualFeatures,
    cache: Any,
    chunk: int,
    start: int = 0,
    tick: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """Feed `prompt` from token `start` (tokens before it are already in `cache`) in chunks of `chunk` tokens
    (0: all at once); return the logits after the last token, shape (1, vocab)."""
    length = prompt.length
    step = chunk if chunk > 0 else length
    hidden: torch.Tensor | None = None
    rows_before = int(prompt.visual_mask[:, :start].sum())
    for first in range(start, length, step):
        last = min(length, first + step)
        mask = prompt.visual_mask[:, first:last]
        rows = int(mask.sum())
        deepstack = tuple(level[rows_before : rows_before + rows].to(prompt.embeds.device) for level in visual.deepstack)
        hidden = adapter.language_forward(
            model, prompt.embeds[:, first:last], prompt.positions[:, :, first:last], cache, mask, deepstack
        )[:, -1:]
        rows_before += rows
        if tick is not None:
            tick((last - start) / max(1, length - start))
    if hidden is None:
        raise ValueError(f"nothing to prefill: the prompt has {length} tokens and {start} are cached")
    return model.lm_head(hidden[:, -1])


def greedy_decode(
    model: Any,
    adapter: FamilyAdapter,
    logits: torch.Tensor,
    next_position: int,
    cache: Any,
    max_new_tokens: int,
    stop_ids: Sequence[int],
    cancelled: Callable[[], None] | None = None,
) -> list[int]:
    """Greedy tokens after `logits` until a stop token or `max_new_tokens` (deterministic, so an analysis is
    reproducible and its cache key means something)."""
    tokens: list[int] = []
    embed = model.get_input_embeddings()
    stops = set(stop_ids)
    for step in range(max_new_tokens):
        token = int(logits.argmax(-1)[0])
        if token in stops:
            break
        tokens.append(token)
        if step == max_new_tokens - 1:
            break
        if cancelled is not None:
            cancelled()
        ids = torch.tensor([[token]], device=logits.device)
        positions = torch.full((3, 1, 1), next_position + step, device=logits.device, dtype=torch.long)
        hidden = adapter.language_forward(model, embed(ids), positions, cache, None, ())
        logits = model.lm_head(hidden[:, -1])
    return tokens
