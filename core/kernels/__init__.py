"""Bi-granularity sparse KV decoding for hour-long video contexts (DESIGN §7).

An hour of video is 50K–250K cached tokens, and dense decode attention reads all of them for every generated
token; decode is memory-bound, so time follows bytes read. Sparse decoding reads the K/V of a few relevant chunks
(plus the first and the latest) in full and a single pooled (mean) K/V for every other chunk, in one softmax.

- `attach(model, options, capacity)`: the entry point for the vlm engine; returns the cache to pass as
  `past_key_values`. Prefill runs through SDPA; decode steps run through the Triton kernels.
- `DecodeOptions`: dense or sparse, budget, chunk size, sink and recent chunks.
- `dense_decode`, `select_chunks`, `sparse_decode`: the kernels' launchers, for benchmarks and tests.
- `reference`: plain-torch statements of the same computations.

Importing this package needs no GPU: without one, the kernels run under Triton's interpreter (slow, for tests),
provided this package is imported before anything else imports Triton, or TRITON_INTERPRET=1 is set.
"""

from __future__ import annotations

import os
import sys

import torch

# Only effective before the first import of triton (transformers, imported by the modules below, imports it): see
# `triton_kernels`. Without a GPU, compiled Triton cannot run, so the interpreter loses nothing.
if not torch.cuda.is_available() and "triton" not in sys.modules:
    os.environ.setdefault("TRITON_INTERPRET", "1")

from reelmark.core.kernels.cache import ChunkedKVCache, ChunkedKVLayer
from reelmark.core.kernels.decode import Selection, dense_decode, keep_count, select_chunks, sparse_decode
from reelmark.core.kernels.integration import ATTENTION_NAME, attach, decode_layer
from reelmark.core.kernels.options import DecodeOptions

__all__ = [
    "ATTENTION_NAME",
    "ChunkedKVCache",
    "ChunkedKVLayer",
    "DecodeOptions",
    "Selection",
    "attach",
    "decode_layer",
    "dense_decode",
    "keep_count",
    "select_chunks",
    "sparse_decode",
]
