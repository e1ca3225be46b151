"""The preallocated chunked KV cache: in-place appends, pooled chunk means, and the sizes transformers asks for."""

from __future__ import annotations

import os

import torch

# Triton reads TRITON_INTERPRET once, when it is first imported (transformers imports it). Without a GPU the kernels
# need the interpreter, so it is set before any import that could pull Triton in.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest

from reelmark.core.kernels import ChunkedKVCache, ChunkedKVLayer, DecodeOptions, reference

OPTIONS = DecodeOptions(chunk_size=16)


def _states(tokens: int, seed: int, heads: int = 2, dim: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn((1, heads, tokens, dim), generator=generator),
        torch.randn((1, heads, tokens, dim), generator=generator),
    )


def test_appends_in_place_and_returns_the_filled_rows() -> None:
    layer = ChunkedKVLayer(capacity=128, options=OPTIONS)
    keys, values = _states(50, seed=0)
    returned_keys, returned_values = layer.update(keys[:, :, :20], values[:, :, :20])
    storage = layer.keys.data_ptr()
    assert returned_keys.shape == (1, 2, 20, 8)
    for start, stop in ((20, 21), (21, 37), (37, 50)):
        returned_keys, returned_values = layer.update(keys[:, :, start:stop], values[:, :, start:stop])
    assert layer.keys.data_ptr() == storage, "the storage was reallocated"
    assert layer.keys.shape == (1, 2, 128, 8)
    assert returned_keys.data_ptr() == storage
    assert torch.equal(returned_keys, keys) and torch.equal(returned_values, values)
    assert layer.get_seq_length() == 50


def test_pooled_means_cover_exactly_the_completed_chunks() -> None:
    """Appends that end mid-chunk, complete one, and complete several at once all leave the same pooled K/V."""
    keys, values = _states(70, seed=1)
    layer = ChunkedKVLayer(capacity=128, options=OPTIONS)
    for start, stop in ((0, 10), (10, 16), (16, 17), (17, 66), (66, 70)):
        layer.update(keys[:, :, start:stop], values[:, :, start:stop])
    n_complete = 70 // 16
    expected_keys = reference.pool_chunks(keys[0], 70, 16).float()
    expected_values = reference.pool_chunks(values[0], 70, 16).float()
    torch.testing.assert_close(layer.pooled_keys[:, :n_complete], expected_keys)
    torch.testing.assert_close(layer.pooled_values[:, :n_complete], expected_values)
    assert torch.count_nonzero(layer.pooled_keys[:, n_complete:]) == 0, "a partial chunk was pooled"


def test_mask_sizes_count_the_tokens_being_added() -> None:
    layer = ChunkedKVLayer(capacity=64, options=OPTIONS)
    assert layer.get_mask_sizes(10) == (10, 0)
    layer.update(*_states(10, seed=2))
    assert layer.get_mask_sizes(1) == (11, 0)
    assert layer.get_max_length() == 64


def test_capacity_and_batch_limits_are_enforced() -> None:
    layer = ChunkedKVLayer(capacity=16, options=OPTIONS)
    layer.update(*_states(10, seed=3))
    with pytest.raises(RuntimeError, match="capacity 16 exceeded"):
        layer.update(*_states(7, seed=4))
    batched = torch.zeros((2, 2, 4, 8))
    with pytest.raises(ValueError, match="batch size 2"):
        ChunkedKVLayer(capacity=16, options=OPTIONS).update(batched, batched)


def test_reset_keeps_storage_and_starts_over() -> None:
    cache = ChunkedKVCache(num_layers=3, capacity=64, options=OPTIONS)
    for index in range(3):
        cache.update(*_states(20, seed=index), layer_idx=index)
    storage = cache.layers[0].keys.data_ptr()
    cache.reset()
    assert cache.get_seq_length() == 0
    keys, values = _states(5, seed=9)
    returned_keys, _ = cache.update(keys, values, layer_idx=0)
    assert cache.layers[0].keys.data_ptr() == storage
    assert torch.equal(returned_keys, keys)
    assert len(cache) == 3 and cache.options is OPTIONS


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="budget"):
        DecodeOptions(budget=0)
    with pytest.raises(ValueError, match="chunk_size"):
        DecodeOptions(chunk_size=48)
    with pytest.raises(ValueError, match="mode"):
        DecodeOptions(mode="fast")  # type: ignore[arg-type]
