"""Decode attention benchmark: our dense and sparse Triton kernels against torch SDPA (and flash-attn if installed).

Shapes are the Qwen2.5-VL-7B text model (28 query heads, 4 KV heads, head dim 128, bf16), batch 1, one new
token, at 32K, 64K, 128K and 256K cached tokens (issue #8 §6, DESIGN §7).

Table 1, one layer: time (`triton.testing.do_bench`, which flushes L2 before every run; median and min–max) of a
CUDA-graph replay of the step (kernels only) and of eager calls (with Python and launch overhead),
bytes the method must read (K/V rows, pooled entries, selection inputs), achieved GB/s against the device's peak
HBM bandwidth, speed-up over our dense kernel and over SDPA, and the output error against our dense kernel (max
abs, worst-head cosine). The cache is a needle cache from sparse_accuracy.py (i.i.d. keys plus 8 planted chunks
per head that align with the query), so the error columns mean something.

Table 2, a 28-layer decode step of a 7B-shaped model (Qwen2 architecture, random bf16 weights) with the cache
already holding the context: tokens/s with SDPA over the same preallocated cache, our dense kernel, and our
sparse path at budget 1/16.

Without a GPU (or with --cpu-smoke) it runs the same code on tiny shapes under Triton's interpreter and times
with perf_counter: a check that the script works, not a performance figure.

    .venv/bin/python tests/bench/decode_attention.py [--cpu-smoke] [--contexts 32768 131072] [--skip-model]
"""

from __future__ import annotations

import os
import sys

import torch

# Triton reads TRITON_INTERPRET when first imported (transformers imports it): the CPU smoke run (forced without a
# GPU) needs the interpreter, so it is set before any other import.
if "--cpu-smoke" in sys.argv or not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch.nn.functional as F
from transformers import Qwen2Config, Qwen2ForCausalLM

from reelmark.core.kernels import ChunkedKVLayer, DecodeOptions, attach, decode_layer, keep_count

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sparse_accuracy  # noqa: E402  (a sibling script: the needle caches)

BUDGETS = (1 / 8, 1 / 16, 1 / 32)
# Peak HBM bandwidth in GB/s by device name (vendor datasheets); the first matching fragment wins.
PEAK_GBPS = (
    ("H200", 4800.0), ("H100 NVL", 3900.0), ("H100 PCIe", 2000.0), ("H100", 3350.0), ("A100-SXM4-80GB", 2039.0),
    ("A100 80GB PCIe", 1935.0), ("A100", 1555.0), ("L40S", 864.0), ("4090", 1008.0),
)  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """Attention and model dimensions; `layers`, `hidden`, `intermediate` and `vocab` only matter for table 2."""

    heads: int
    kv_heads: int
    head_dim: int
    chunk: int
    layers: int
    hidden: int
    intermediate: int
    vocab: int


QWEN25_VL_7B = Shape(heads=28, kv_heads=4, head_dim=128, chunk=64, layers=28, hidden=3584, intermediate=18944,
                     vocab=152064)  # fmt: skip
# The smoke shape keeps the 7:1 grouping; the interpreter needs small contexts.
SMOKE = Shape(heads=28, kv_heads=4, head_dim=16, chunk=16, layers=2, hidden=448, intermediate=512, vocab=1000)


@dataclass(frozen=True)
class Timing:
    median_ms: float
    min_ms: float
    max_ms: float


def gpu_timer(fn: Callable[[], object]) -> Timing:
    """do_bench with L2 flushed before every run; median, min and max over the runs."""
    import triton.testing

    median, low, high = triton.testing.do_bench(fn, warmup=25, rep=200, quantiles=[0.5, 0.0, 1.0])
    return Timing(median, low, high)


def graphed(fn: Callable[[], object]) -> Callable[[], None]:
    """`fn` captured once in a CUDA graph (after a warm-up call that compiles it), returned as its replay: the GPU
    time of its kernels without the ≈10 µs of Python and launch overhead per kernel that eager calls pay."""
    fn()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def cpu_timer(fn: Callable[[], object], repeats: int = 3) -> Timing:
    """perf_counter around a few calls (interpreter: correctness of the script, not speed)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return Timing(statistics.median(times), min(times), max(times))


def peak_gbps(smoke: bool) -> tuple[str, float | None]:
    if smoke:
        return "CPU (Triton interpreter)", None
    name = torch.cuda.get_device_name()
    return name, next((peak for fragment, peak in PEAK_GBPS if fragment in name), None)


def needle_layer(shape: Shape, context: int, device: str) -> tuple[ChunkedKVLayer, torch.Tensor]:
    """A cache layer holding a `context`-token needle cache from sparse_accuracy.py (i.i.d. keys, 8 planted chunks
    per head; pooled K/V built by the layer itself), and its bf16 query [H_q, D]."""
    needles = sparse_accuracy.Shape(
        num_kv=shape.kv_heads, group=shape.heads // shape.kv_heads, head_dim=shape.head_dim, length=context,
        chunk=shape.chunk, needles=8, seeds=1,
    )  # fmt: skip
    q, keys, values, *_ = sparse_accuracy.needle_cache(needles, seed=0, clustered=False, device=device)
    layer = ChunkedKVLayer(capacity=context, options=DecodeOptions(chunk_size=shape.chunk))
    layer.update(keys[None], values[None])
    return layer, q.bfloat16()


def tokens(count: int) -> str:
    return f"{count // 1024}K" if count % 1024 == 0 else str(count)


def bytes_read(shape: Shape, context: int, budget: float | None) -> int:
    """K/V bytes a decode step must read: every row (dense), or selected chunks + tail in full, the other chunks
    as pooled K/V, and the pooled keys once more for the selection (sparse)."""
    row = shape.kv_heads * shape.head_dim * 2
    if budget is None:
        return 2 * context * row
    n_complete = context // shape.chunk
    kept = keep_count(n_complete, budget, sink=1, recent=2)
    tail = context - n_complete * shape.chunk
    return 2 * (kept * shape.chunk + tail) * row + 2 * (n_complete - kept) * row + n_complete * row


def flash_attn_method(layer: ChunkedKVLayer, q: torch.Tensor) -> Callable[[], torch.Tensor] | None:
    """flash-attn's decode over the same K/V in its [B, L, H, D] layout, if the package is installed."""
    try:
        from flash_attn import flash_attn_func
    except ImportError:
        return None
    keys = layer.keys[:, :, : layer.length].transpose(1, 2).contiguous()
    values = layer.values[:, :, : layer.length].transpose(1, 2).contiguous()
    query = q[None, None]
    return lambda: flash_attn_func(query, keys, values)[0, 0]


def layer_methods(layer: ChunkedKVLayer, q: torch.Tensor, scale: float) -> dict[str, tuple[Callable, float | None]]:
    """Name → (one decode step of one layer returning [H_q, D], sparse budget or None)."""
    keys, values = layer.keys[:, :, : layer.length], layer.values[:, :, : layer.length]
    query = q[None, :, None]
    methods: dict[str, tuple[Callable, float | None]] = {
        "torch SDPA": (lambda: F.scaled_dot_product_attention(query, keys, values, scale=scale, enable_gqa=True)[0, :, 0],
                       None),  # fmt: skip
    }
    flash = flash_attn_method(layer, q)
    if flash is not None:
        methods["flash-attn"] = (flash, None)
    dense = DecodeOptions(mode="dense", chunk_size=layer.options.chunk_size)
    methods["ours dense"] = (lambda: decode_layer(q, layer, scale, dense), None)
    for budget in BUDGETS:
        options = DecodeOptions(mode="sparse", budget=budget, chunk_size=layer.options.chunk_size)
        methods[f"ours sparse 1/{round(1 / budget)}"] = (
            lambda options=options: decode_layer(q, layer, scale, options),
            budget,
        )
    return methods


def layer_table(shape: Shape, contexts: list[int], device: str, timer: Callable, peak: float | None) -> None:
    """On a GPU the main figures time CUDA-graph replays (kernels only); `eager µs` times plain calls."""
    on_gpu = device == "cuda"
    print("\n## One layer, batch 1, one new token" + (" (times: CUDA graph replay, L2 flushed)" if on_gpu else ""))
    print("| context | method | median µs | min–max µs | eager µs | MB read | GB/s | % of peak | vs dense | vs SDPA | "
          "max abs err | min cosine |")  # fmt: skip
    print("|" + "---|" * 12)
    scale = shape.head_dim**-0.5
    for context in contexts:
        layer, q = needle_layer(shape, context, device)
        methods = layer_methods(layer, q, scale)
        reference = methods["ours dense"][0]().float()
        eager = {name: timer(fn) for name, (fn, _) in methods.items()}
        timings = {name: timer(graphed(fn)) for name, (fn, _) in methods.items()} if on_gpu else eager
        for name, (fn, budget) in methods.items():
            timing = timings[name]
            moved = bytes_read(shape, context, budget)
            gbps = moved / (timing.median_ms * 1e-3) / 1e9
            share = f"{100 * gbps / peak:.0f}%" if peak else "–"
            out = fn().float()
            error = (out - reference).abs().max().item()
            cosine = F.cosine_similarity(out, reference, dim=-1).min().item()
            print(
                f"| {tokens(context)} | {name} | {1000 * timing.median_ms:.1f} | "
                f"{1000 * timing.min_ms:.1f}–{1000 * timing.max_ms:.1f} | {1000 * eager[name].median_ms:.1f} | "
                f"{moved / 1e6:.1f} | {gbps:.0f} | {share} | "
                f"{timings['ours dense'].median_ms / timing.median_ms:.2f}× | "
                f"{timings['torch SDPA'].median_ms / timing.median_ms:.2f}× | {error:.4f} | {cosine:.5f} |"
            )
        del layer


def random_model(shape: Shape, device: str) -> Qwen2ForCausalLM:
    """A Qwen2 decoder of the given dimensions with random bf16 weights (no checkpoint)."""
    config = Qwen2Config(
        vocab_size=shape.vocab, hidden_size=shape.hidden, intermediate_size=shape.intermediate,
        num_hidden_layers=shape.layers, num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
        max_position_embeddings=1 << 20, attn_implementation="sdpa",
    )  # fmt: skip
    with torch.device(device):
        return Qwen2ForCausalLM._from_config(config, dtype=torch.bfloat16).eval()


def fill_cache(cache, shape: Shape, context: int, device: str) -> None:
    """Put `context` random tokens in every layer of the cache, as a finished prefill would."""
    size = (1, shape.kv_heads, context, shape.head_dim)
    for index in range(len(cache.layers)):
        keys = torch.randn(size, device=device, dtype=torch.bfloat16)
        cache.update(keys, torch.randn_like(keys), layer_idx=index)


def time_step(
    model: Qwen2ForCausalLM, shape: Shape, options: DecodeOptions, sdpa: bool, context: int, device: str,
    timer: Callable,
) -> Timing:
    """One decode step of the whole model over a cache holding `context` tokens. With `sdpa`, attention runs
    through torch SDPA over the same preallocated cache (no `torch.cat`), so only the attention differs."""
    cache = attach(model, options, capacity=context + 1)
    if sdpa:
        model.set_attn_implementation("sdpa")
    fill_cache(cache, shape, context, device)
    token = torch.tensor([[11]], device=device)

    def step() -> None:
        for layer in cache.layers:
            layer.length = context  # each step appends a token: start every run from the same state
        with torch.no_grad():
            model(input_ids=token, past_key_values=cache, use_cache=True)

    return timer(step)


def model_table(shape: Shape, contexts: list[int], device: str, timer: Callable) -> None:
    print(f"\n## {shape.layers}-layer decode step, random {shape.hidden}-hidden Qwen2 weights, bf16")
    print("| context | attention | median ms | min–max ms | tokens/s | vs SDPA |")
    print("|" + "---|" * 6)
    model = random_model(shape, device)
    variants = (
        ("torch SDPA", DecodeOptions(mode="dense", chunk_size=shape.chunk), True),
        ("ours dense", DecodeOptions(mode="dense", chunk_size=shape.chunk), False),
        ("ours sparse 1/16", DecodeOptions(mode="sparse", budget=1 / 16, chunk_size=shape.chunk), False),
    )
    for context in contexts:
        rows = [(name, time_step(model, shape, options, sdpa, context, device, timer)) for name, options, sdpa in variants]
        sdpa_ms = rows[0][1].median_ms
        for name, timing in rows:
            print(
                f"| {tokens(context)} | {name} | {timing.median_ms:.2f} | {timing.min_ms:.2f}–{timing.max_ms:.2f} | "
                f"{1000 / timing.median_ms:.1f} | {sdpa_ms / timing.median_ms:.2f}× |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny shapes under the interpreter (automatic without a GPU)")
    parser.add_argument("--contexts", type=int, nargs="+", help="cached tokens (default 32K 64K 128K 256K)")
    parser.add_argument("--model-contexts", type=int, nargs="+", help="contexts for the 28-layer step (default 32K 128K)")
    parser.add_argument("--skip-model", action="store_true", help="only the per-layer table")
    args = parser.parse_args()
    smoke = args.cpu_smoke or not torch.cuda.is_available()
    device = "cpu" if smoke else "cuda"
    shape = SMOKE if smoke else QWEN25_VL_7B
    contexts = args.contexts or ([1024 + 40, 2048] if smoke else [32768, 65536, 131072, 262144])
    model_contexts = args.model_contexts or ([512 + 7] if smoke else [32768, 131072])
    timer = cpu_timer if smoke else gpu_timer
    name, peak = peak_gbps(smoke)
    print(f"# Decode attention, {name}" + (f", peak {peak:.0f} GB/s" if peak else ""))
    if smoke:
        print("CPU smoke run: tiny shapes under Triton's interpreter; times are not performance figures.")
    print(f"shape: {shape.heads} q heads, {shape.kv_heads} kv heads, head dim {shape.head_dim}, chunk {shape.chunk}")
    layer_table(shape, contexts, device, timer, peak)
    if not args.skip_model:
        model_table(shape, model_contexts, device, timer)


if __name__ == "__main__":
    main()
