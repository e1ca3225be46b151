"""Prefill memory and time, chunked vs one-shot, through the vlm engine's own `prefill` (DESIGN §6, §12).

A random-weights Qwen2.5-VL text decoder (no checkpoint needed: the cost of prefill depends on the shapes, not
the weights) is fed N tokens of video-like embeddings with Qwen2.5-VL video rope positions, once in one shot and
once in chunks into the KV cache; each run is a fresh process so peaks do not mix.

    # GPU study (a 7B-shaped model, bf16, 1k–10k frames' worth of tokens at 36 tokens a frame):
    python tests/bench/prefill.py --shape 7b --device cuda --frames 1000,2500,5000,10000 --chunk 4096
    # the CPU figure the tests check (small shape):
    python tests/bench/prefill.py --shape small --device cpu --tokens 8192 --chunk 512

Memory: CUDA `max_memory_allocated` minus what the weights hold; CPU peak RSS (VmHWM, reset before each run) minus RSS before
the prefill. One-shot runs that do not fit print OOM. Times are the median of `--repeat` runs (min–max beside).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

SHAPES = {
    # Qwen2.5-VL-7B's text model (DESIGN §7): 28 layers, 28 q / 4 kv heads, head dim 128.
    "7b": {"hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
           "num_key_value_heads": 4, "vocab_size": 152064},
    "small": {"hidden_size": 256, "intermediate_size": 2048, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "vocab_size": 1024},
}  # fmt: skip
TOKENS_PER_FRAME = 36
"""Video-XL-2's 144 tokens per 4 frames."""


def _reset_peak_rss() -> None:
    """Linux: restart the high-water mark here, so a transient peak while importing (larger than what is resident
    now) cannot hide the prefill's own peak. Elsewhere the peak since start is all there is."""
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")


def _peak_rss_mib() -> float:
    return _status_mib("VmHWM")


def _rss_mib() -> float:
    return _status_mib("VmRSS")


def _status_mib(field: str) -> float:
    """A memory figure of this process from Linux's /proc/self/status; elsewhere the peak since start."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_once(shape: str, device: str, tokens: int, chunk: int, repeat: int) -> dict:
    """One configuration in this process: peak extra memory (MiB) and prefill seconds."""
    import torch
    from transformers import DynamicCache, Qwen2_5_VLTextConfig
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VLTextModel

    from reelmark.core.engines.vlm.families import Qwen25Adapter
    from reelmark.core.engines.vlm.prefill import PromptInputs, prefill

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    config = Qwen2_5_VLTextConfig(
        **SHAPES[shape], max_position_embeddings=1 << 20,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [16, 24, 24] if shape == "7b" else [8, 12, 12]},
    )  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):
        text = Qwen2_5_VLTextModel(config).to(dtype).eval()
        head = torch.nn.Linear(config.hidden_size, config.vocab_size, bias=False, dtype=dtype)
    model = SimpleNamespace(model=SimpleNamespace(language_model=text), lm_head=head, device=torch.device(device))
    # Video-like positions: 12 x 24 merged tokens per frame group, one temporal id per group.
    index = torch.arange(tokens, device=device)
    per_group = 288
    positions = torch.stack([(index // per_group) * 2, (index % per_group) // 24, index % 24]).view(3, 1, tokens)
    embeds = torch.randn(1, tokens, config.hidden_size, device=device, dtype=dtype) * 0.02
    prompt = PromptInputs(index.view(1, -1), embeds, positions, torch.zeros(1, tokens, dtype=torch.bool, device=device))
    visual = SimpleNamespace(deepstack=())
    seconds, peaks = [], []
    for _ in range(repeat):
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
        else:
            _reset_peak_rss()
            base = _rss_mib()
        began = time.perf_counter()
        try:
            with torch.inference_mode():
                prefill(model, Qwen25Adapter(), prompt, visual, DynamicCache(config=config), chunk)
            if device == "cuda":
                torch.cuda.synchronize()
        except torch.OutOfMemoryError:
            return {"tokens": tokens, "chunk": chunk, "oom": True}
        seconds.append(time.perf_counter() - began)
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20 if device == "cuda" else _peak_rss_mib() - base
        peaks.append(peak)
    return {"tokens": tokens, "chunk": chunk, "oom": False, "peak_mib": max(peaks), "seconds": statistics.median(seconds),
            "seconds_min": min(seconds), "seconds_max": max(seconds)}  # fmt: skip


def measure(shape: str, device: str, tokens: int, chunk: int, repeat: int = 1) -> dict:
    """`run_once` in a fresh interpreter, so one run's peak cannot hide another's."""
    command = [sys.executable, __file__, "--one", json.dumps([shape, device, tokens, chunk, repeat])]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tokens", default="8192", help="comma-separated token counts")
    parser.add_argument("--frames", default=None, help=f"comma-separated frame counts ({TOKENS_PER_FRAME} tokens each)")
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_once(*json.loads(args.one))))
        return
    counts = [int(n) * TOKENS_PER_FRAME for n in args.frames.split(",")] if args.frames else [int(n) for n in args.tokens.split(",")]
    print(f"prefill, {args.shape} shape on {args.device}; chunk {args.chunk} tokens; median of {args.repeat}")
    print("| tokens | frames | one-shot peak MiB | chunked peak MiB | ratio | one-shot s | chunked s |")
    print("|---|---|---|---|---|---|---|")
    for count in counts:
        one = measure(args.shape, args.device, count, 0, args.repeat)
        chunked = measure(args.shape, args.device, count, args.chunk, args.repeat)
        frames = count // TOKENS_PER_FRAME
        if one["oom"]:
            print(f"| {count} | {frames} | OOM | {chunked.get('peak_mib', 'OOM')} | – | – | {chunked.get('seconds', '–')} |")
            continue
        print(
            f"| {count} | {frames} | {one['peak_mib']:.0f} | {chunked['peak_mib']:.0f} | "
            f"{one['peak_mib'] / max(chunked['peak_mib'], 1e-9):.1f}x | {one['seconds']:.3f} ({one['seconds_min']:.3f}–"
            f"{one['seconds_max']:.3f}) | {chunked['seconds']:.3f} ({chunked['seconds_min']:.3f}–{chunked['seconds_max']:.3f}) |"
        )


if __name__ == "__main__":
    main()
