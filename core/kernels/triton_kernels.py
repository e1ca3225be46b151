"""The Triton kernels of the decode path: chunk selection, dense and sparse split-K attention, and the reduce.

Decode attention is memory-bound, so every kernel is shaped around reading each byte of K/V once:
- GQA-packed: one program per (KV head, split) loads its whole query group as one zero-padded tile of G_PAD rows,
  so K/V are read once per group rather than once per query head.
- Split-K: the work of one KV head is cut into `S` contiguous pieces so a batch-1 step still fills the GPU. Each
  piece writes fp32 partial outputs (already normalised) and a base-2 log-sum-exp; `_reduce_kernel` merges them.
- exp2 with the softmax scale and log2(e) folded into q, fp32 accumulation whatever the storage dtype.

`UPCAST` is a compile-time flag that turns every loaded tile into fp32. It is needed under TRITON_INTERPRET=1,
where bf16 arithmetic (including `tl.dot`) runs on the raw bit patterns and is silently wrong, and for fp32
storage on a GPU, where `tl.dot` would otherwise round its inputs to tf32.

Every load is masked: an out-of-bounds load segfaults the interpreter and reads garbage on a GPU.

Without a CUDA device the kernels need Triton's interpreter, which must be on before `triton` is first imported
(Triton's own `tl.zeros`, `tl.sum`... are built at that import). The package `__init__` turns it on when it is
the first to import Triton; `check_runnable` explains the failure when something imported Triton earlier.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

INTERPRETED = bool(triton.knobs.runtime.interpret)
_jit = triton.jit


def check_runnable() -> None:
    """Raise a clear error where the kernels cannot run: no GPU and Triton not in interpreter mode."""
    if not INTERPRETED and not torch.cuda.is_available():
        raise RuntimeError(
            "no CUDA device and Triton is not in interpreter mode: Triton was imported before reelmark.core.kernels "
            "(transformers imports it); set TRITON_INTERPRET=1 in the environment to run the kernels on a CPU"
        )


@_jit
def _dot(a, b, UPCAST: tl.constexpr):
    """a @ b with fp32 accumulation; exact fp32 products when the tiles were upcast."""
    if UPCAST:
        return tl.dot(a, b, input_precision="ieee")
    return tl.dot(a, b)


@_jit
def _load_query_tile(
    Q, stride_qh, head_kv, G, qk_scale, dims, G_PAD: tl.constexpr, UPCAST: tl.constexpr, STORE_TY: tl.constexpr
):
    """The G query heads of one KV head as a [G_PAD, D] tile, pre-scaled by softmax scale * log2(e)."""
    rows = tl.arange(0, G_PAD)
    ptrs = Q + (head_kv * G + rows)[:, None] * stride_qh + dims[None, :]
    q = tl.load(ptrs, mask=(rows < G)[:, None], other=0.0).to(tl.float32) * qk_scale
    if not UPCAST:
        q = q.to(STORE_TY)
    return q


@_jit
def _online_softmax_step(s, v, m_i, l_i, acc, UPCAST: tl.constexpr):
    """Fold one block of base-2 logits `s` [G_PAD, N] (masked entries at -inf) and values `v` [N, D] into the state."""
    m_new = tl.maximum(m_i, tl.max(s, 1))
    m_use = tl.where(m_new == float("-inf"), 0.0, m_new)
    alpha = tl.exp2(m_i - m_use)
    p = tl.exp2(s - m_use[:, None])
    l_i = l_i * alpha + tl.sum(p, 1)
    if not UPCAST:
        p = p.to(v.dtype)
    acc = acc * alpha[:, None] + _dot(p, v, UPCAST)
    return m_new, l_i, acc


@_jit
def _attend_tokens(q, K, V, stride_kn, offs, end, dims, m_i, l_i, acc, UPCAST: tl.constexpr):
    """Attend the query tile to cache rows `offs` (those >= `end` are masked out and never loaded)."""
    valid = offs < end
    k = tl.load(K + offs[:, None] * stride_kn + dims[None, :], mask=valid[:, None], other=0.0)
    v = tl.load(V + offs[:, None] * stride_kn + dims[None, :], mask=valid[:, None], other=0.0)
    if UPCAST:
        k = k.to(tl.float32)
        v = v.to(tl.float32)
    s = _dot(q, tl.trans(k), UPCAST)
    s = tl.where(valid[None, :], s, float("-inf"))
    return _online_softmax_step(s, v, m_i, l_i, acc, UPCAST)


@_jit
def _store_partial(O_part, LSE_part, head_kv, split, S, m_i, l_i, acc, dims, G_PAD: tl.constexpr, D: tl.constexpr):
    """Write one split's normalised output and base-2 LSE; a split with no work writes 0 and -inf."""
    rows = tl.arange(0, G_PAD)
    base = (head_kv * S + split) * G_PAD
    has_mass = l_i > 0.0
    lse = tl.where(has_mass, m_i + tl.log2(tl.where(has_mass, l_i, 1.0)), float("-inf"))
    out = acc / tl.where(has_mass, l_i, 1.0)[:, None]
    tl.store(O_part + (base + rows)[:, None] * D + dims[None, :], out)
    tl.store(LSE_part + base + rows, lse)


@_jit
def _split_start(Q, K, V, stride_qh, stride_kh, head_kv, G, qk_scale, dims, G_PAD: tl.constexpr, D: tl.constexpr,
                 UPCAST: tl.constexpr):  # fmt: skip
    """A split program's query tile, its KV head's K/V base pointers, and an empty online-softmax state."""
    q = _load_query_tile(Q, stride_qh, head_kv, G, qk_scale, dims, G_PAD, UPCAST, K.dtype.element_ty)
    m_i = tl.full([G_PAD], float("-inf"), tl.float32)
    l_i = tl.zeros([G_PAD], tl.float32)
    acc = tl.zeros([G_PAD, D], tl.float32)
    return q, K + head_kv * stride_kh, V + head_kv * stride_kh, m_i, l_i, acc


@_jit
def _dense_split_kernel(
    Q, K, V, O_part, LSE_part,
    stride_qh, stride_kh, stride_kn,
    length, tokens_per_split, G, qk_scale,
    D: tl.constexpr, G_PAD: tl.constexpr, BLOCK_N: tl.constexpr, UPCAST: tl.constexpr,
):  # fmt: skip
    """Program (KV head h, split s): tokens [s * tokens_per_split, (s + 1) * tokens_per_split) ∩ [0, length)."""
    head_kv = tl.program_id(0)
    split = tl.program_id(1)
    S = tl.num_programs(1)
    dims = tl.arange(0, D)
    q, K_head, V_head, m_i, l_i, acc = _split_start(Q, K, V, stride_qh, stride_kh, head_kv, G, qk_scale, dims,
                                                    G_PAD, D, UPCAST)  # fmt: skip
    start = split * tokens_per_split
    end = tl.minimum(start + tokens_per_split, length)
    for n0 in range(start, end, BLOCK_N):
        offs = n0 + tl.arange(0, BLOCK_N)
        m_i, l_i, acc = _attend_tokens(q, K_head, V_head, stride_kn, offs, end, dims, m_i, l_i, acc, UPCAST)
    _store_partial(O_part, LSE_part, head_kv, split, S, m_i, l_i, acc, dims, G_PAD, D)


@_jit
def _sparse_split_kernel(
    Q, K, V, PK, PV, SEL_IDX, SEL_FLAG, O_part, LSE_part,
    stride_qh, stride_kh, stride_kn, stride_ph, stride_pn, stride_sel,
    length, n_complete, n_selected, full_per_split, pooled_per_split, G, qk_scale, pooled_bias,
    D: tl.constexpr, G_PAD: tl.constexpr, CHUNK: tl.constexpr, BLOCK_P: tl.constexpr, UPCAST: tl.constexpr,
):  # fmt: skip
    """Program (KV head h, split s): a slice of the full-chunk list and a slice of the pooled entries, one softmax.

    The full-chunk list of head h is its selected completed chunks (SEL_IDX[h, :n_selected]) followed by the partial
    tail chunk when `length` is not a multiple of CHUNK. Pooled entries are the completed chunks whose SEL_FLAG is 0;
    each stands for its whole chunk, so its base-2 logit gets `pooled_bias` (log2(CHUNK): the chunk's CHUNK keys
    taken as equal to their mean).
    """
    head_kv = tl.program_id(0)
    split = tl.program_id(1)
    S = tl.num_programs(1)
    dims = tl.arange(0, D)
    q, K_head, V_head, m_i, l_i, acc = _split_start(Q, K, V, stride_qh, stride_kh, head_kv, G, qk_scale, dims,
                                                    G_PAD, D, UPCAST)  # fmt: skip

    n_full = n_selected + (length > n_complete * CHUNK).to(tl.int32)
    e0 = split * full_per_split
    e1 = tl.minimum(e0 + full_per_split, n_full)
    for entry in range(e0, e1):
        chunk = tl.load(SEL_IDX + head_kv * stride_sel + entry, mask=entry < n_selected, other=n_complete)
        offs = chunk * CHUNK + tl.arange(0, CHUNK)
        m_i, l_i, acc = _attend_tokens(q, K_head, V_head, stride_kn, offs, length, dims, m_i, l_i, acc, UPCAST)

    PK_head = PK + head_kv * stride_ph
    PV_head = PV + head_kv * stride_ph
    c0 = split * pooled_per_split
    c1 = tl.minimum(c0 + pooled_per_split, n_complete)
    for p0 in range(c0, c1, BLOCK_P):
        offs = p0 + tl.arange(0, BLOCK_P)
        inside = offs < c1
        flag = tl.load(SEL_FLAG + head_kv * stride_sel + offs, mask=inside, other=1)
        use = inside & (flag == 0)
        pk = tl.load(PK_head + offs[:, None] * stride_pn + dims[None, :], mask=use[:, None], other=0.0)
        pv = tl.load(PV_head + offs[:, None] * stride_pn + dims[None, :], mask=use[:, None], other=0.0)
        if UPCAST:
            pk = pk.to(tl.float32)
            pv = pv.to(tl.float32)
        s = _dot(q, tl.trans(pk), UPCAST) + pooled_bias
        s = tl.where(use[None, :], s, float("-inf"))
        m_i, l_i, acc = _online_softmax_step(s, pv, m_i, l_i, acc, UPCAST)
    _store_partial(O_part, LSE_part, head_kv, split, S, m_i, l_i, acc, dims, G_PAD, D)


@_jit
def _order_key(x):
    """An int32 whose signed order is the float order of `x` (flip the magnitude bits of negatives)."""
    bits = x.to(tl.int32, bitcast=True)
    return bits ^ ((bits >> 31) & 0x7FFFFFFF)


@_jit
def _select_kernel(
    Q, PK, KEYS, SEL_IDX, SEL_FLAG,
    stride_qh, stride_ph, stride_pn, stride_sel,
    n_complete, n_keep, sink, recent, G, qk_scale,
    D: tl.constexpr, G_PAD: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_ALL: tl.constexpr, UPCAST: tl.constexpr,
):  # fmt: skip
    """Program h: pick the `n_keep` completed chunks of KV head h to read in full.

    A chunk's score is the largest logit any query head of the group gives its pooled key; sink and recent chunks
    score +inf. The scores go through KEYS (scratch) as int32 order keys, then come back as one register tile of
    BLOCK_ALL >= n_complete entries. Top-k without sorting: bisect on the order key for the k-th largest score (32
    steps, each a compare and a sum over the tile), then keep every chunk above it and, among ties, the lowest
    indices. Writes SEL_IDX[h, :n_keep] (ascending chunk ids) and SEL_FLAG[h, :n_complete] (1 = read in full).
    """
    head_kv = tl.program_id(0)
    dims = tl.arange(0, D)
    rows = tl.arange(0, G_PAD)
    q = _load_query_tile(Q, stride_qh, head_kv, G, qk_scale, dims, G_PAD, UPCAST, PK.dtype.element_ty)
    PK_head = PK + head_kv * stride_ph
    KEYS_head = KEYS + head_kv * stride_sel
    for c0 in range(0, n_complete, BLOCK_C):
        offs = c0 + tl.arange(0, BLOCK_C)
        inside = offs < n_complete
        pk = tl.load(PK_head + offs[:, None] * stride_pn + dims[None, :], mask=inside[:, None], other=0.0)
        if UPCAST:
            pk = pk.to(tl.float32)
        s = _dot(q, tl.trans(pk), UPCAST)
        s = tl.where((rows < G)[:, None], s, float("-inf"))
        key = _order_key(tl.max(s, 0))
        forced = (offs < sink) | (offs >= n_complete - recent)
        key = tl.where(forced, 2147483647, key)
        tl.store(KEYS_head + offs, key, mask=inside)
    tl.debug_barrier()

    offs = tl.arange(0, BLOCK_ALL)
    inside = offs < n_complete
    key = tl.load(KEYS_head + offs, mask=inside, other=-2147483648)
    # Largest t with count(key >= t) >= n_keep. lo/hi are int64 so hi can start past the int32 range; every mid
    # lies in [lo, hi) and so fits int32.
    lo = tl.full([], -2147483648, tl.int64)
    hi = tl.full([], 2147483648, tl.int64)
    for _ in range(32):
        mid = lo + (hi - lo) // 2
        count = tl.sum(((key >= mid.to(tl.int32)) & inside).to(tl.int32), 0)
        enough = count >= n_keep
        lo = tl.where(enough, mid, lo)
        hi = tl.where(enough, hi, mid)
    threshold = lo.to(tl.int32)
    above = (key > threshold) & inside
    tie = ((key == threshold) & inside).to(tl.int32)
    ties_wanted = n_keep - tl.sum(above.to(tl.int32), 0)
    chosen = above | ((tie == 1) & (tl.cumsum(tie, 0) - 1 < ties_wanted))
    slot = tl.cumsum(chosen.to(tl.int32), 0) - 1
    tl.store(SEL_IDX + head_kv * stride_sel + slot, offs, mask=chosen)
    tl.store(SEL_FLAG + head_kv * stride_sel + offs, chosen.to(tl.int8), mask=inside)


@_jit
def _reduce_kernel(
    O_part, LSE_part, OUT, stride_oh, S, G,
    D: tl.constexpr, G_PAD: tl.constexpr, S_PAD: tl.constexpr, BLOCK_S: tl.constexpr,
):  # fmt: skip
    """Program (query head): merge the S partial outputs of its KV head by their log-sum-exp weights."""
    head = tl.program_id(0)
    head_kv = head // G
    row = head % G
    dims = tl.arange(0, D)
    splits = tl.arange(0, S_PAD)
    lse = tl.load(LSE_part + (head_kv * S + splits) * G_PAD + row, mask=splits < S, other=float("-inf"))
    top = tl.max(lse, 0)
    top = tl.where(top == float("-inf"), 0.0, top)
    total = tl.sum(tl.exp2(lse - top), 0)
    acc = tl.zeros([D], tl.float32)
    for s0 in range(0, S, BLOCK_S):
        block = s0 + tl.arange(0, BLOCK_S)
        inside = block < S
        w = tl.exp2(tl.load(LSE_part + (head_kv * S + block) * G_PAD + row, mask=inside, other=float("-inf")) - top)
        o = tl.load(O_part + ((head_kv * S + block) * G_PAD + row)[:, None] * D + dims[None, :],
                    mask=inside[:, None], other=0.0)  # fmt: skip
        acc += tl.sum(w[:, None] * o, 0)
    out = acc / total
    tl.store(OUT + head * stride_oh + dims, out.to(OUT.dtype.element_ty))
