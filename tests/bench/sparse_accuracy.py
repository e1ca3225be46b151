"""Accuracy of sparse decoding against dense: attention output error as a function of the budget (issue #8 §5).

Two sources of decode steps:
- Synthetic "needle" caches: random keys (i.i.d., or clustered per chunk like the tokens of one video clip) with a
  few planted chunks whose keys align with the query group, so those chunks carry much of the attention mass.
- The tiny random Qwen2.5-VL of tests/tiny_vlm.py: while it generates with dense decode, every decode call of
  every layer is shadowed by sparse decode on the same cache state and query.

For each budget it prints the max abs error and the cosine of the sparse output against dense (worst head), for
three treatments of the unselected chunks (a pooled entry with the +log(chunk) logit correction, the default; a
pooled entry without it; dropped, as plain top-k), and how many needle chunks the selection kept. Runs the kernels on the GPU when there is one; `--cpu-smoke` (automatic without a GPU) uses small
shapes under Triton's interpreter.

    .venv/bin/python tests/bench/sparse_accuracy.py [--cpu-smoke]
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
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reelmark.core.kernels import DecodeOptions, attach, integration, keep_count, reference
from reelmark.core.kernels.decode import dense_decode, select_chunks, sparse_decode

BUDGETS = (1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32)


@dataclass(frozen=True)
class Shape:
    num_kv: int
    group: int
    head_dim: int
    length: int
    chunk: int
    needles: int
    seeds: int


GPU_SHAPE = Shape(num_kv=4, group=7, head_dim=128, length=131072, chunk=64, needles=8, seeds=4)
CPU_SHAPE = Shape(num_kv=2, group=7, head_dim=64, length=4096 + 37, chunk=32, needles=3, seeds=2)


@dataclass
class Errors:
    """Worst case over every compared output: max abs error and lowest per-head cosine."""

    max_abs: float = 0.0
    min_cosine: float = 1.0
    needles_kept: int = 0
    needles_total: int = 0

    def add(self, sparse: torch.Tensor, dense: torch.Tensor) -> None:
        sparse, dense = sparse.double(), dense.double()
        self.max_abs = max(self.max_abs, (sparse - dense).abs().max().item())
        cosine = torch.nn.functional.cosine_similarity(sparse, dense, dim=-1).min().item()
        self.min_cosine = min(self.min_cosine, cosine)


def needle_cache(shape: Shape, seed: int, clustered: bool, device: str) -> tuple[torch.Tensor, ...]:
    """q [H_q, D], K/V [H_kv, L, D] bf16, pooled K/V, and the planted chunk ids [H_kv, needles]."""
    generator = torch.Generator().manual_seed(seed)
    heads, dim, chunk = shape.num_kv, shape.head_dim, shape.chunk
    n_complete = shape.length // chunk
    q = torch.randn((heads * shape.group, dim), generator=generator)
    keys = torch.randn((heads, shape.length, dim), generator=generator)
    if clustered:
        centres = torch.randn((heads, n_complete + 1, dim), generator=generator) * 1.5
        keys = keys * 0.5 + centres.repeat_interleave(chunk, dim=1)[:, : shape.length]
    values = torch.randn((heads, shape.length, dim), generator=generator)
    direction = torch.nn.functional.normalize(q.reshape(heads, shape.group, dim).mean(1), dim=-1)
    planted = torch.stack(
        [torch.randperm(n_complete - 4, generator=generator)[: shape.needles] + 1 for _ in range(heads)]
    )
    strength = 2.5 * math.sqrt(dim)
    for head in range(heads):
        for needle in planted[head].tolist():
            rows = slice(needle * chunk, (needle + 1) * chunk)
            keys[head, rows] = keys[head, rows] * 0.3 + strength * direction[head]
    keys, values = keys.bfloat16(), values.bfloat16()
    pooled_keys = reference.pool_chunks(keys, shape.length, chunk).bfloat16()
    pooled_values = reference.pool_chunks(values, shape.length, chunk).bfloat16()
    return tuple(t.to(device) for t in (q, keys, values, pooled_keys, pooled_values, planted))


# How unselected chunks enter the softmax: pooled entry with the +log(chunk) logit correction (the default),
# pooled entry without it, or not at all (plain top-k).
VARIANTS = ("+log C", "none", "dropped")


def study_needles(shape: Shape, clustered: bool, device: str) -> dict[tuple[float, str], Errors]:
    results = {(budget, variant): Errors() for budget in BUDGETS for variant in VARIANTS}
    scale = shape.head_dim**-0.5
    n_complete = shape.length // shape.chunk
    for seed in range(shape.seeds):
        q, keys, values, pooled_keys, pooled_values, planted = needle_cache(shape, seed, clustered, device)
        dense = dense_decode(q, keys, values, shape.length, scale)
        for budget in BUDGETS:
            n_keep = keep_count(n_complete, budget, sink=1, recent=2)
            selection = select_chunks(q, pooled_keys, n_complete, scale, n_keep, sink=1, recent=2)
            for variant in VARIANTS:
                bias = math.log(shape.chunk) if variant == "+log C" else 0.0
                sparse = sparse_decode(
                    q, keys, values, pooled_keys, pooled_values, shape.length, scale, shape.chunk, selection, bias,
                    pooled=variant != "dropped",
                )  # fmt: skip
                errors = results[(budget, variant)]
                errors.add(sparse, dense)
                kept = selection.flags.gather(1, planted.to(selection.flags.device).long())
                errors.needles_kept += int(kept.sum())
                errors.needles_total += kept.numel()
    return results


def study_tiny_model(tokens: int, prompt: int, chunk: int, device: str) -> dict[tuple[float, str], Errors]:
    """Shadow every dense decode call of the tiny VLM with sparse decode at each budget."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tiny_vlm import build_tiny_qwen25_vl
    from transformers import Qwen2_5_VLForConditionalGeneration

    results = {(budget, "+log C"): Errors() for budget in BUDGETS}
    original = integration.decode_layer

    def shadowed(q: torch.Tensor, layer, scale: float, options: DecodeOptions | None = None) -> torch.Tensor:
        dense = original(q, layer, scale)
        for budget in BUDGETS:
            sparse_options = DecodeOptions(mode="sparse", budget=budget, chunk_size=chunk)
            results[(budget, "+log C")].add(original(q, layer, scale, sparse_options), dense)
        return dense

    with tempfile.TemporaryDirectory() as folder:
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
            build_tiny_qwen25_vl(Path(folder)), attn_implementation="sdpa"
        ).eval().to(device)
    cache = attach(model, DecodeOptions(mode="dense", chunk_size=chunk), capacity=prompt + tokens + 1)
    input_ids = torch.randint(20, 1000, (1, prompt), generator=torch.Generator().manual_seed(0)).to(device)
    integration.decode_layer = shadowed
    try:
        with torch.no_grad():
            model.generate(
                input_ids=input_ids, past_key_values=cache, max_new_tokens=tokens, min_new_tokens=tokens,
                do_sample=False,
            )  # fmt: skip
    finally:
        integration.decode_layer = original
    return results


def print_table(title: str, results: dict[tuple[float, str], Errors], needles: bool) -> None:
    print(f"\n{title}")
    columns = ["budget", "unselected chunks", "max abs error", "min cosine"] + (["needles kept"] if needles else [])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for (budget, variant), errors in results.items():
        row = f"| 1/{round(1 / budget)} | {variant} | {errors.max_abs:.4f} | {errors.min_cosine:.5f} |"
        if needles:
            row += f" {errors.needles_kept}/{errors.needles_total} |"
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="small shapes (automatic without a GPU)")
    args = parser.parse_args()
    on_gpu = torch.cuda.is_available() and not args.cpu_smoke
    device = "cuda" if on_gpu else "cpu"
    shape = GPU_SHAPE if on_gpu else CPU_SHAPE
    machine = torch.cuda.get_device_name() if on_gpu else "CPU, Triton interpreter"
    print(f"# Sparse decode accuracy vs dense ({machine})")
    print(
        f"needle caches: {shape.num_kv} kv heads x group {shape.group}, head dim {shape.head_dim}, "
        f"{shape.length} tokens, chunk {shape.chunk}, {shape.needles} needle chunks per head, {shape.seeds} seeds"
    )
    for clustered in (False, True):
        kind = "clustered chunks" if clustered else "i.i.d. keys"
        print_table(f"## Needle caches, {kind}", study_needles(shape, clustered, device), needles=True)
    tokens, prompt, chunk = (16, 1500, 16) if on_gpu else (4, 600, 16)
    print_table(
        f"## Tiny Qwen2.5-VL (random weights), {prompt}-token prompt, {tokens} decode steps x 2 layers, chunk {chunk}",
        study_tiny_model(tokens, prompt, chunk, device),
        needles=False,
    )


if __name__ == "__main__":
    main()
