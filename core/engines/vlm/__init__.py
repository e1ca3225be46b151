"""The `vlm` engine: real multimodal grounding with a vision-language model through transformers (DESIGN §6).

| module | job |
|---|---|
| `engine` | `VlmEngine`: the Engine protocol; orchestrates one analysis |
| `params` | `VlmParams`: options, parsed and checked |
| `loader` | local folder or cached Hugging Face id → model, tokenizer, adapter; device rule; never downloads |
| `commands` | `reelmark models pull/list`: the one download path |
| `families` | the adapter interface, Qwen2.5-VL and Qwen3-VL adapters |
| `video` | frames → `pixel_values` / `grid_thw` without torchvision, exact times carried |
| `planner` | fps and frame size from the duration within a token budget |
| `prefill` | chunk-by-chunk prefill into the KV cache; greedy decoding |
| `prompts` | the prompt templates per task |
| `parsing` | answers → seconds and [0, 1] boxes, with reasons for what is dropped |

Only `engine`'s names load here; torch and transformers load when an analysis starts.
"""

from __future__ import annotations

from reelmark.core.engines.vlm.engine import DEFAULT_TASKS, SUPPORTED_TASKS, VlmEngine
from reelmark.core.engines.vlm.params import VlmParams

__all__ = ["DEFAULT_TASKS", "SUPPORTED_TASKS", "VlmEngine", "VlmParams"]
