"""A preallocated, chunked KV cache for transformers 5.x, laid out for the decode kernels.

transformers' DynamicLayer grows K/V with `torch.cat` on every step, which at 100K+ tokens moves more bytes than
the attention itself reads. Here each layer allocates [H_kv, capacity, D] once (held as a [1, H_kv, capacity, D]
view, the shape transformers expects) and writes new rows in place. It also keeps the mean K and V of every
completed chunk, refreshed as chunks fill, which sparse decoding scores and reads in place of unselected chunks.

`update` returns views of rows [0, length): prefill attention (SDPA) sees an ordinary K/V, and the decode kernels
recognise the storage and read it directly. Batch size 1 only: one video per cache.
"""

from __future__ import annotations

import torch
from transformers.cache_utils import Cache, CacheLayerMixin

from reelmark.core.kernels.options import DecodeOptions


class ChunkedKVLayer(CacheLayerMixin):
    """One decoder layer's K/V rows, plus pooled K/V per completed chunk. Storage is allocated on first update."""

    is_compileable = False
    is_sliding = False

    def __init__(self, capacity: int, options: DecodeOptions) -> None:
        super().__init__()
        if capacity < 1:
            raise ValueError(f"capacity must be positive, not {capacity}")
        self.capacity = capacity
        self.options = options
        self.length = 0
        self.pooled_keys: torch.Tensor | None = None
        self.pooled_values: torch.Tensor | None = None

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        batch, heads, _, head_dim = key_states.shape
        if batch != 1:
            raise ValueError(f"the chunked KV cache holds one sequence; got batch size {batch}")
        self.dtype, self.device = key_states.dtype, key_states.device
        shape = (1, heads, self.capacity, head_dim)
        self.keys = torch.zeros(shape, dtype=self.dtype, device=self.device)
        self.values = torch.zeros(shape, dtype=self.dtype, device=self.device)
        pooled_shape = (heads, self.capacity // self.options.chunk_size, head_dim)
        self.pooled_keys = torch.zeros(pooled_shape, dtype=self.dtype, device=self.device)
        self.pooled_values = torch.zeros(pooled_shape, dtype=self.dtype, device=self.device)
        self.is_initialized = True

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object, **kwargs: object
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new rows in place, refresh the pooled entries of chunks they complete, return rows [0, length)."""
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        start, added = self.length, key_states.shape[-2]
        end = start + added
        if end > self.capacity:
            raise RuntimeError(f"KV cache capacity {self.capacity} exceeded: {end} tokens (raise the capacity)")
        self.keys[:, :, start:end] = key_states
        self.values[:, :, start:end] = value_states
        self.length = end
        self._pool(start // self.options.chunk_size, end // self.options.chunk_size)
        return self.keys[:, :, :end], self.values[:, :, :end]

    def _pool(self, first: int, stop: int) -> None:
        """Mean K/V (computed in fp32) of chunks [first, stop), all complete."""
        if stop <= first:
            return
        size = self.options.chunk_size
        for rows, pooled in ((self.keys[0], self.pooled_keys), (self.values[0], self.pooled_values)):
            block = rows[:, first * size : stop * size].float()
            pooled[:, first:stop] = block.reshape(rows.shape[0], stop - first, size, rows.shape[2]).mean(2)

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        """The key length the new queries attend to (what `update` will return), starting at position 0."""
        return self.length + query_length, 0

    def get_seq_length(self) -> int:
        return self.length

    def get_max_length(self) -> int:
        return self.capacity

    def reset(self) -> None:
        """Forget the cached tokens; storage is kept for the next sequence."""
        self.length = 0


class ChunkedKVCache(Cache):
    """`Cache(layers=[...])` of `ChunkedKVLayer`s, one per decoder layer, all with the same options."""

    def __init__(self, num_layers: int, capacity: int, options: DecodeOptions) -> None:
        super().__init__(layers=[ChunkedKVLayer(capacity, options) for _ in range(num_layers)])
        self.options = options
