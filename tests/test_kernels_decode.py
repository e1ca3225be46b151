"""The decode kernels against plain-torch references (issue #8, "Correctness on CPU").

Without a GPU the kernels run under Triton's interpreter (`reelmark.core.kernels` turns it on when it is imported
before anything else imports Triton), so shapes stay at a few thousand tokens. With a GPU the same tests run the
compiled kernels. K/V are bf16 as in production; queries are fp32 so the outputs carry no bf16 rounding and the
comparison with the float64 references can be tight.
"""

from __future__ import annotations

import os

import torch

# Triton reads TRITON_INTERPRET once, when it is first imported (transformers imports it). Without a GPU the kernels
# need the interpreter, so it is set before any import that could pull Triton in.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import math

import pytest

from reelmark.core.kernels import (
    ChunkedKVLayer,
    DecodeOptions,
    decode_layer,
    dense_decode,
    keep_count,
    reference,
    select_chunks,
    sparse_decode,
)

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
NUM_KV, HEAD_DIM, CHUNK, CAPACITY = 2, 32, 16, 1280
# 1000 and 1011 are not multiples of the chunk (partial tail), 1024 is, 9 is shorter than one chunk.
LENGTHS = (1000, 1024, 9)
GROUPS = (1, 4, 7)


def _cache(length: int, seed: int, dtype: torch.dtype = torch.bfloat16) -> tuple[torch.Tensor, ...]:
    """Random K/V storage with rows past `length` set to NaN (a kernel reading them would poison its output), and
    pooled K/V of the completed chunks."""
    generator = torch.Generator().manual_seed(seed)
    keys = torch.randn((NUM_KV, CAPACITY, HEAD_DIM), generator=generator).to(dtype)
    values = torch.randn((NUM_KV, CAPACITY, HEAD_DIM), generator=generator).to(dtype)
    keys[:, length:] = math.nan
    values[:, length:] = math.nan
    n_complete = length // CHUNK
    pooled_keys = torch.full((NUM_KV, CAPACITY // CHUNK, HEAD_DIM), math.nan, dtype=dtype)
    pooled_values = torch.full_like(pooled_keys, math.nan)
    pooled_keys[:, :n_complete] = reference.pool_chunks(keys, length, CHUNK).to(dtype)
    pooled_values[:, :n_complete] = reference.pool_chunks(values, length, CHUNK).to(dtype)
    return tuple(tensor.to(DEVICE) for tensor in (keys, values, pooled_keys, pooled_values))


def _query(group: int, seed: int, strength: float = 1.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn((NUM_KV * group, HEAD_DIM), generator=generator) * strength).to(DEVICE)


def _assert_close(actual: torch.Tensor, expected: torch.Tensor, atol: float = 2e-5) -> None:
    assert actual.shape == expected.shape
    assert torch.isfinite(actual).all()
    error = (actual.double().cpu() - expected.double().cpu()).abs().max().item()
    assert error <= atol, f"max abs error {error:.3g} > {atol}"


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("length", LENGTHS)
def test_dense_kernel_matches_reference(group: int, length: int) -> None:
    keys, values, _, _ = _cache(length, seed=group)
    q = _query(group, seed=length)
    scale = HEAD_DIM**-0.5
    out = dense_decode(q, keys, values, length, scale, num_splits=3)
    _assert_close(out, reference.dense_attention(q, keys, values, length, scale))


def test_dense_kernel_fp32_storage_and_bf16_output() -> None:
    """fp32 storage is computed exactly; a bf16 query gives a bf16 output rounded from the same result."""
    keys, values, _, _ = _cache(1011, seed=3, dtype=torch.float32)
    q = _query(4, seed=5)
    expected = reference.dense_attention(q, keys, values, 1011, 0.2)
    _assert_close(dense_decode(q, keys, values, 1011, 0.2), expected)
    half = dense_decode(q.bfloat16(), keys.bfloat16(), values.bfloat16(), 1011, 0.2)
    assert half.dtype == torch.bfloat16
    _assert_close(half, expected, atol=2e-2)


def test_split_count_does_not_change_the_result() -> None:
    keys, values, _, _ = _cache(1000, seed=11)
    q = _query(7, seed=12)
    one = dense_decode(q, keys, values, 1000, 0.3, num_splits=1)
    many = dense_decode(q, keys, values, 1000, 0.3, num_splits=6)
    _assert_close(many, one, atol=1e-5)


@pytest.mark.parametrize("group", GROUPS)
def test_selection_matches_reference(group: int) -> None:
    length = 1000
    _, _, pooled_keys, _ = _cache(length, seed=20 + group)
    q = _query(group, seed=30 + group, strength=3.0)
    n_complete = length // CHUNK
    n_keep = keep_count(n_complete, 1 / 8, sink=1, recent=2)
    selection = select_chunks(q, pooled_keys, n_complete, 0.2, n_keep, sink=1, recent=2)
    expected = reference.select_chunks(q, pooled_keys, n_complete, 0.2, n_keep, sink=1, recent=2)
    flags = selection.flags[:, :n_complete].bool().cpu()
    assert torch.equal(flags, expected.cpu())
    assert selection.count == n_keep == 8
    for head in range(NUM_KV):
        chosen = selection.indices[head, :n_keep].cpu()
        assert torch.equal(chosen, torch.nonzero(expected[head].cpu()).flatten().to(chosen.dtype))
        assert {0, n_complete - 2, n_complete - 1} <= set(chosen.tolist())


def test_selection_breaks_ties_by_lowest_chunk() -> None:
    """Equal scores everywhere: after the sink and recent chunks, the lowest-numbered chunks are kept.

    Zero keys against a positive query make every score exactly +0 whatever order the dot product sums in."""
    n_complete = 40
    pooled_keys = torch.zeros((NUM_KV, CAPACITY // CHUNK, HEAD_DIM), dtype=torch.bfloat16, device=DEVICE)
    selection = select_chunks(_query(4, seed=1).abs(), pooled_keys, n_complete, 0.2, 6, sink=1, recent=2)
    for head in range(NUM_KV):
        assert selection.indices[head, :6].tolist() == [0, 1, 2, 3, 38, 39]
        assert int(selection.flags[head, :n_complete].sum()) == 6


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("length", LENGTHS)
def test_sparse_kernel_matches_reference_with_the_same_selection(group: int, length: int) -> None:
    keys, values, pooled_keys, pooled_values = _cache(length, seed=40 + group)
    q = _query(group, seed=50 + length, strength=2.0)
    n_complete = length // CHUNK
    n_keep = keep_count(n_complete, 1 / 8, sink=1, recent=2)
    selection = select_chunks(q, pooled_keys, n_complete, 0.3, n_keep, sink=1, recent=2)
    chosen = selection.flags[:, :n_complete].bool()
    out = sparse_decode(q, keys, values, pooled_keys, pooled_values, length, 0.3, CHUNK, selection, num_splits=3)
    expected = reference.sparse_attention(
        q, keys, values, pooled_keys, pooled_values, length, 0.3, CHUNK, chosen, math.log(CHUNK)
    )
    _assert_close(out, expected)


def test_sparse_kernel_without_pooled_logit_correction() -> None:
    keys, values, pooled_keys, pooled_values = _cache(1000, seed=60)
    q = _query(4, seed=61)
    selection = select_chunks(q, pooled_keys, 62, 0.3, 10, sink=1, recent=2)
    chosen = selection.flags[:, :62].bool()
    out = sparse_decode(q, keys, values, pooled_keys, pooled_values, 1000, 0.3, CHUNK, selection, pooled_bias=0.0)
    expected = reference.sparse_attention(q, keys, values, pooled_keys, pooled_values, 1000, 0.3, CHUNK, chosen, 0.0)
    _assert_close(out, expected)
    with_bias = sparse_decode(q, keys, values, pooled_keys, pooled_values, 1000, 0.3, CHUNK, selection)
    assert (with_bias - out).abs().max() > 1e-3, "the pooled-entry bias had no effect"


def test_sparse_kernel_can_drop_unselected_chunks() -> None:
    """pooled=False is plain top-k: the reference with pooled entries weighted by exp(-inf) = 0."""
    keys, values, pooled_keys, pooled_values = _cache(1000, seed=62)
    q = _query(7, seed=63)
    selection = select_chunks(q, pooled_keys, 62, 0.3, 10, sink=1, recent=2)
    chosen = selection.flags[:, :62].bool()
    out = sparse_decode(q, keys, values, pooled_keys, pooled_values, 1000, 0.3, CHUNK, selection, pooled=False)
    expected = reference.sparse_attention(
        q, keys, values, pooled_keys, pooled_values, 1000, 0.3, CHUNK, chosen, -math.inf
    )
    _assert_close(out, expected)


@pytest.mark.parametrize(("group", "length"), [(1, 500), (4, 512), (7, 500)])
def test_sparse_with_every_chunk_kept_equals_dense(group: int, length: int) -> None:
    keys, values, pooled_keys, pooled_values = _cache(length, seed=70 + group)
    q = _query(group, seed=80)
    n_complete = length // CHUNK
    n_keep = keep_count(n_complete, 1.0, sink=1, recent=2)
    assert n_keep == n_complete
    selection = select_chunks(q, pooled_keys, n_complete, 0.25, n_keep, sink=1, recent=2)
    sparse = sparse_decode(q, keys, values, pooled_keys, pooled_values, length, 0.25, CHUNK, selection)
    _assert_close(sparse, dense_decode(q, keys, values, length, 0.25), atol=1e-5)


def test_keep_count_follows_the_budget_and_keeps_sink_and_recent() -> None:
    assert keep_count(2048, 1 / 16, sink=1, recent=2) == 128
    assert keep_count(100, 1 / 16, sink=1, recent=2) == 7
    assert keep_count(20, 1 / 32, sink=1, recent=2) == 3
    assert keep_count(2, 1 / 32, sink=1, recent=2) == 2
    assert keep_count(0, 1 / 16, sink=1, recent=2) == 0
    assert keep_count(50, 1.0, sink=1, recent=2) == 50


def test_bad_shapes_are_refused() -> None:
    keys, values, _, _ = _cache(100, seed=90)
    with pytest.raises(ValueError, match="length"):
        dense_decode(_query(4, seed=1), keys, values, CAPACITY + 1, 0.2)
    with pytest.raises(ValueError, match="query heads"):
        dense_decode(_query(4, seed=1)[:7], keys, values, 100, 0.2)


def test_sparse_decode_step_over_a_filled_cache_layer_matches_reference() -> None:
    """`decode_layer` end to end on a cache filled by appends: the layer's pooled K/V, the reference selection
    rule and the reference bi-granularity attention."""
    options = DecodeOptions(mode="sparse", budget=1 / 8, chunk_size=CHUNK)
    layer = ChunkedKVLayer(capacity=CAPACITY, options=options)
    keys, values, _, _ = _cache(1011, seed=100)
    for start, stop in ((0, 600), (600, 1000), (1000, 1011)):
        layer.update(keys[None, :, start:stop], values[None, :, start:stop])
    q = _query(7, seed=101, strength=2.0)
    n_complete = 1011 // CHUNK
    n_keep = keep_count(n_complete, options.budget, options.sink_chunks, options.recent_chunks)
    chosen = reference.select_chunks(q, layer.pooled_keys, n_complete, 0.2, n_keep, sink=1, recent=2)
    expected = reference.sparse_attention(
        q, keys, values, layer.pooled_keys, layer.pooled_values, 1011, 0.2, CHUNK, chosen, math.log(CHUNK)
    )
    _assert_close(decode_layer(q, layer, 0.2), expected)
