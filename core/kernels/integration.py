"""transformers integration: prefill through SDPA, decode through our kernels, for the text decoder only.

transformers picks an attention function by the name in the config (`AttentionInterface`) and builds the mask
with the function registered under the same name (`AttentionMaskInterface`; without that entry the mask would
be None and prefill would attend to the future). Both are registered under ATTENTION_NAME and set for the text
sub-config only, so the vision tower keeps its own implementation.

The attention function receives the module, the query and the K/V that the cache's `update` returned, but not
the cache. `attach` therefore binds each text attention module to its `ChunkedKVLayer`; a decode step checks
that the K/V it was handed are that layer's storage, so a step run with some other cache fails loudly instead
of reading stale rows.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

from reelmark.core.kernels.cache import ChunkedKVCache, ChunkedKVLayer
from reelmark.core.kernels.decode import dense_decode, keep_count, select_chunks, sparse_decode
from reelmark.core.kernels.options import DecodeOptions

ATTENTION_NAME = "reelmark_decode"
_LAYER_ATTRIBUTE = "reelmark_kv_layer"


def decode_layer(
    q: torch.Tensor, layer: ChunkedKVLayer, scale: float, options: DecodeOptions | None = None
) -> torch.Tensor:
    """One decode step's attention output [H_q, D] for query heads q [H_q, D] over everything `layer` holds.

    `options` overrides the layer's own (same chunk size: the pooled entries were built with it), so a study can
    run dense and several budgets on one cache state.
    """
    options = options or layer.options
    if options.chunk_size != layer.options.chunk_size:
        raise ValueError(f"the layer pools chunks of {layer.options.chunk_size} tokens, not {options.chunk_size}")
    keys, values = layer.keys[0], layer.values[0]
    if options.mode == "dense":
        return dense_decode(q, keys, values, layer.length, scale)
    n_complete = layer.length // options.chunk_size
    n_keep = keep_count(n_complete, options.budget, options.sink_chunks, options.recent_chunks)
    selection = select_chunks(
        q, layer.pooled_keys, n_complete, scale, n_keep, options.sink_chunks, options.recent_chunks
    )
    return sparse_decode(
        q, keys, values, layer.pooled_keys, layer.pooled_values, layer.length, scale, options.chunk_size, selection,
        pooled=options.pooled,
    )  # fmt: skip


def _attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """AttentionInterface entry: several new tokens (prefill) → SDPA; one new token (decode) → our kernels."""
    if query.shape[2] != 1:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    layer = getattr(module, _LAYER_ATTRIBUTE, None)
    if layer is None or not layer.is_initialized or key.data_ptr() != layer.keys.data_ptr():
        raise RuntimeError(
            "a decode step ran without the cache that reelmark.core.kernels.attach returned: "
            "pass that cache as past_key_values"
        )
    if attention_mask is not None and not bool(attention_mask.all()):
        raise NotImplementedError("the decode kernels attend to every cached token; padding masks are not supported")
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    out = decode_layer(query[0, :, 0, :], layer, scale)
    return out.reshape(1, 1, *out.shape), None


def register() -> None:
    """Register the attention and mask functions under ATTENTION_NAME (idempotent)."""
    AttentionInterface.register(ATTENTION_NAME, _attention)
    AttentionMaskInterface.register(ATTENTION_NAME, sdpa_mask)


def _text_attention_modules(model: PreTrainedModel, text_config: Any) -> list[torch.nn.Module]:
    """The decoder self-attention modules of the text model, in layer order."""
    found = [
        module
        for module in model.modules()
        if getattr(module, "config", None) is text_config
        and isinstance(getattr(module, "layer_idx", None), int)
        and hasattr(module, "num_key_value_groups")
    ]
    return sorted(found, key=lambda module: module.layer_idx)


def attach(model: PreTrainedModel, options: DecodeOptions, capacity: int) -> ChunkedKVCache:
    """Make `model`'s text decoder use our decode kernels and return the preallocated cache to pass as
    `past_key_values` (chunked prefill appends to it over repeated forward calls; generate() works too).

    capacity: the most tokens (prompt, video and generated) the cache will hold; storage per layer is
    2 x capacity x H_kv x D in the model's dtype, allocated on the first forward.
    """
    register()
    text_config = model.config.get_text_config()
    if text_config is model.config:
        model.set_attn_implementation(ATTENTION_NAME)
    else:
        model.set_attn_implementation({"text_config": ATTENTION_NAME})
    cache = ChunkedKVCache(text_config.num_hidden_layers, capacity, options)
    modules = _text_attention_modules(model, text_config)
    if len(modules) != text_config.num_hidden_layers:
        raise RuntimeError(
            f"found {len(modules)} text attention modules for {text_config.num_hidden_layers} layers in "
            f"{type(model).__name__}; this model layout is not supported"
        )
    for module in modules:
        setattr(module, _LAYER_ATTRIBUTE, cache.layers[module.layer_idx])
    return cache
