"""Launchers for the decode kernels: shapes, split sizes and the per-step launch sequence.

One decode step of one layer is two launches dense (split-K pass, reduce) and three sparse (selection, split-K
pass, reduce); DESIGN §7 budgets two or three, since each Triton launch costs about 10 µs on the host.

Shapes (batch 1, one new token): q is [H_q, D]; K/V storage is [H_kv, capacity, D] with rows [0, length) valid;
pooled K/V are [H_kv, capacity // chunk, D] with rows [0, length // chunk) valid. Query head i belongs to KV head
i // (H_q // H_kv), the grouping transformers' `repeat_kv` uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import triton

from reelmark.core.kernels import triton_kernels as kernels

DENSE_BLOCK_N = 64
POOLED_BLOCK = 32
SELECT_BLOCK = 256
MAX_SPLITS = 128


@dataclass(frozen=True)
class Selection:
    """The completed chunks each KV head reads in full: `indices[h, :count]` ascending; `flags[h, c]` is 1 for those."""

    indices: torch.Tensor
    flags: torch.Tensor
    count: int


def keep_count(n_complete: int, budget: float, sink: int, recent: int) -> int:
    """How many completed chunks to read in full: the budget's share, never fewer than the sink and recent chunks."""
    wanted = math.ceil(budget * n_complete - 1e-9)
    return min(n_complete, max(wanted, sink + recent))


def _group_pad(group: int) -> int:
    """Rows of the query tile: the group size rounded up to a power of two, at least 16 (`tl.dot`'s minimum)."""
    return max(16, triton.next_power_of_2(group))


def _upcast(storage: torch.Tensor) -> bool:
    """Whether kernels must compute on fp32 tiles: always under the interpreter, and for fp32 storage."""
    return kernels.INTERPRETED or storage.dtype == torch.float32


def _target_splits(num_kv_heads: int, device: torch.device) -> int:
    """Splits per KV head so a batch-1 step launches at least twice as many programs as the GPU has SMs."""
    if device.type != "cuda":
        return 4
    sms = torch.cuda.get_device_properties(device).multi_processor_count
    return max(1, min(MAX_SPLITS, -(-2 * sms // num_kv_heads)))


def _check_shapes(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, length: int) -> int:
    """Validate the layouts the kernels index directly; return the group size."""
    kernels.check_runnable()
    if q.dim() != 2 or keys.dim() != 3 or keys.shape != values.shape or keys.stride() != values.stride():
        raise ValueError(f"expected q [H_q, D] and K/V [H_kv, capacity, D], got {tuple(q.shape)}, {tuple(keys.shape)}")
    if q.stride(-1) != 1 or keys.stride(-1) != 1:
        raise ValueError("the head dimension must be contiguous")
    heads, head_dim = q.shape
    if head_dim != keys.shape[2] or heads % keys.shape[0]:
        raise ValueError(f"{heads} query heads of dim {head_dim} do not fit K/V {tuple(keys.shape)}")
    if not 0 < length <= keys.shape[1]:
        raise ValueError(f"length {length} outside 1..{keys.shape[1]}")
    return heads // keys.shape[0]


def _reduce(o_part: torch.Tensor, lse_part: torch.Tensor, q: torch.Tensor, group: int) -> torch.Tensor:
    """Merge the split partials into the [H_q, D] output, in q's dtype."""
    num_kv, splits, group_pad, head_dim = o_part.shape
    out = torch.empty_like(q)
    s_pad = triton.next_power_of_2(splits)
    kernels._reduce_kernel[(q.shape[0],)](
        o_part, lse_part, out, out.stride(0), splits, group,
        D=head_dim, G_PAD=group_pad, S_PAD=s_pad, BLOCK_S=min(s_pad, 16),
    )  # fmt: skip
    return out


def _partials(q: torch.Tensor, num_kv: int, splits: int, group: int) -> tuple[torch.Tensor, torch.Tensor]:
    """fp32 buffers for the per-split outputs and base-2 log-sum-exps."""
    group_pad = _group_pad(group)
    o_part = torch.empty((num_kv, splits, group_pad, q.shape[1]), dtype=torch.float32, device=q.device)
    lse_part = torch.empty((num_kv, splits, group_pad), dtype=torch.float32, device=q.device)
    return o_part, lse_part


def dense_decode(
    q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, length: int, scale: float, num_splits: int | None = None
) -> torch.Tensor:
    """Exact attention of one token's query heads over cache rows [0, length): the dense baseline."""
    group = _check_shapes(q, keys, values, length)
    num_kv, _, head_dim = keys.shape
    target = num_splits or _target_splits(num_kv, q.device)
    per_split = triton.cdiv(triton.cdiv(length, target), DENSE_BLOCK_N) * DENSE_BLOCK_N
    splits = triton.cdiv(length, per_split)
    o_part, lse_part = _partials(q, num_kv, splits, group)
    kernels._dense_split_kernel[(num_kv, splits)](
        q, keys, values, o_part, lse_part,
        q.stride(0), keys.stride(0), keys.stride(1),
        length, per_split, group, scale * math.log2(math.e),
        D=head_dim, G_PAD=_group_pad(group), BLOCK_N=DENSE_BLOCK_N, UPCAST=_upcast(keys),
    )  # fmt: skip
    return _reduce(o_part, lse_part, q, group)


def select_chunks(
    q: torch.Tensor, pooled_keys: torch.Tensor, n_complete: int, scale: float, n_keep: int, sink: int, recent: int
) -> Selection:
    """Per KV head, the `n_keep` completed chunks to read in full (see `_select_kernel` for the rule)."""
    kernels.check_runnable()
    num_kv, _, head_dim = pooled_keys.shape
    group = q.shape[0] // num_kv
    width = max(n_complete, 1)
    keys = torch.empty((num_kv, width), dtype=torch.int32, device=q.device)
    indices = torch.empty((num_kv, width), dtype=torch.int32, device=q.device)
    flags = torch.empty((num_kv, width), dtype=torch.int8, device=q.device)
    if n_complete:
        kernels._select_kernel[(num_kv,)](
            q, pooled_keys, keys, indices, flags,
            q.stride(0), pooled_keys.stride(0), pooled_keys.stride(1), width,
            n_complete, n_keep, sink, recent, group, scale * math.log2(math.e),
            D=head_dim, G_PAD=_group_pad(group), BLOCK_C=min(SELECT_BLOCK, triton.next_power_of_2(width)),
            BLOCK_ALL=triton.next_power_of_2(width), UPCAST=_upcast(pooled_keys), num_warps=8,
        )  # fmt: skip
    return Selection(indices=indices, flags=flags, count=n_keep if n_complete else 0)


def sparse_decode(
    q: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    pooled_keys: torch.Tensor,
    pooled_values: torch.Tensor,
    length: int,
    scale: float,
    chunk_size: int,
    selection: Selection,
    pooled_bias: float | None = None,
    num_splits: int | None = None,
    pooled: bool = True,
) -> torch.Tensor:
    """Bi-granularity attention: selected chunks and the tail in full, every other completed chunk as one pooled entry.

    `pooled_bias` is added to a pooled entry's natural-log logit; the default log(chunk_size) weighs the entry as
    chunk_size keys equal to the chunk's mean key (0 weighs it as a single key). `pooled=False` leaves the
    unselected chunks out entirely.
    """
    group = _check_shapes(q, keys, values, length)
    num_kv, _, head_dim = keys.shape
    n_complete = length // chunk_size
    bias = math.log(chunk_size) if pooled_bias is None else pooled_bias
    n_full = selection.count + int(length > n_complete * chunk_size)
    splits = max(1, min(num_splits or _target_splits(num_kv, q.device), n_full))
    full_per_split = triton.cdiv(n_full, splits)
    pooled_per_split = max(1, triton.cdiv(n_complete, splits)) if pooled else 0
    o_part, lse_part = _partials(q, num_kv, splits, group)
    kernels._sparse_split_kernel[(num_kv, splits)](
        q, keys, values, pooled_keys, pooled_values, selection.indices, selection.flags, o_part, lse_part,
        q.stride(0), keys.stride(0), keys.stride(1), pooled_keys.stride(0), pooled_keys.stride(1),
        selection.indices.stride(0),
        length, n_complete, selection.count, full_per_split, pooled_per_split, group,
        scale * math.log2(math.e), bias * math.log2(math.e),
        D=head_dim, G_PAD=_group_pad(group), CHUNK=chunk_size, BLOCK_P=POOLED_BLOCK, UPCAST=_upcast(keys),
    )  # fmt: skip
    return _reduce(o_part, lse_part, q, group)
