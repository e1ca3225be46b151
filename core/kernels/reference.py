"""Plain-torch statements of what the decode kernels compute, written for clarity, not speed.

The tests hold the Triton kernels to these, and the accuracy study uses them to explain errors. They share the
kernels' argument conventions (see `reelmark.core.kernels.decode`) and compute in float64.
"""

from __future__ import annotations

import math

import torch


def _grouped(q: torch.Tensor, num_kv: int) -> torch.Tensor:
    """[H_q, D] → [H_kv, G, D] in float64."""
    return q.double().reshape(num_kv, q.shape[0] // num_kv, q.shape[1])


def _attend(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, bias: torch.Tensor, scale: float) -> torch.Tensor:
    """Softmax attention of q [H_kv, G, D] over per-head entries [H_kv, N, D] with additive logit bias [H_kv, N]."""
    logits = torch.einsum("hgd,hnd->hgn", q, keys.double()) * scale + bias[:, None, :]
    weights = torch.softmax(logits, dim=-1)
    return torch.einsum("hgn,hnd->hgd", weights, values.double())


def dense_attention(
    q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, length: int, scale: float
) -> torch.Tensor:
    """Exact decode attention over rows [0, length); returns [H_q, D] float64."""
    num_kv = keys.shape[0]
    bias = torch.zeros((num_kv, length), dtype=torch.float64, device=q.device)
    out = _attend(_grouped(q, num_kv), keys[:, :length], values[:, :length], bias, scale)
    return out.reshape(q.shape)


def pool_chunks(rows: torch.Tensor, length: int, chunk_size: int) -> torch.Tensor:
    """Mean of each completed chunk of rows [0, length) of a [H_kv, capacity, D] tensor, in float64."""
    n_complete = length // chunk_size
    heads, _, dim = rows.shape
    return rows[:, : n_complete * chunk_size].double().reshape(heads, n_complete, chunk_size, dim).mean(2)


def select_chunks(
    q: torch.Tensor, pooled_keys: torch.Tensor, n_complete: int, scale: float, n_keep: int, sink: int, recent: int
) -> torch.Tensor:
    """[H_kv, n_complete] bool: the top `n_keep` chunks by the group's best pooled-key logit, sink and recent forced."""
    num_kv = pooled_keys.shape[0]
    scores = torch.einsum("hgd,hcd->hgc", _grouped(q, num_kv), pooled_keys[:, :n_complete].double()).amax(1) * scale
    chunk = torch.arange(n_complete, device=q.device)
    forced = (chunk < sink) | (chunk >= n_complete - recent)
    scores = torch.where(forced, torch.full_like(scores, math.inf), scores)
    chosen = torch.zeros((num_kv, n_complete), dtype=torch.bool, device=q.device)
    chosen.scatter_(1, scores.topk(n_keep, dim=1).indices, True)
    return chosen


def sparse_attention(
    q: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    pooled_keys: torch.Tensor,
    pooled_values: torch.Tensor,
    length: int,
    scale: float,
    chunk_size: int,
    chosen: torch.Tensor,
    pooled_bias: float,
) -> torch.Tensor:
    """Bi-granularity attention with a given choice: chosen chunks and the tail token by token, other completed
    chunks as their pooled entry with `pooled_bias` added to the logit. Returns [H_q, D] float64."""
    num_kv, _, dim = keys.shape
    n_complete = length // chunk_size
    grouped = _grouped(q, num_kv)
    token_chunk = torch.arange(length, device=q.device) // chunk_size
    outputs = []
    for head in range(num_kv):
        in_tail = token_chunk >= n_complete
        full = in_tail | chosen[head, token_chunk.clamp(max=n_complete - 1)] if n_complete else in_tail
        pooled = ~chosen[head, :n_complete]
        entry_keys = torch.cat([keys[head, :length][full].double(), pooled_keys[head, :n_complete][pooled].double()])
        entry_values = torch.cat(
            [values[head, :length][full].double(), pooled_values[head, :n_complete][pooled].double()]
        )
        bias = torch.cat(
            [
                torch.zeros(int(full.sum()), dtype=torch.float64, device=q.device),
                torch.full((int(pooled.sum()),), pooled_bias, dtype=torch.float64, device=q.device),
            ]
        )
        outputs.append(_attend(grouped[head : head + 1], entry_keys[None], entry_values[None], bias[None], scale)[0])
    return torch.stack(outputs).reshape(q.shape[0], dim)
