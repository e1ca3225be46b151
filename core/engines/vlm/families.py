"""Family adapters: what differs between VLM checkpoints, behind one small interface.

The engine never names a model class. It asks the adapter for the family (chosen by the config's `model_type`):

| member | what it answers |
|---|---|
| `model_types` | the `config.json` `model_type`s it takes |
| `model_class()` | the transformers class to load with `from_pretrained` |
| `geometry(config, folder)` | patch, merge, temporal patch, pixel mean/std (`VisionGeometry`) |
| `box_convention`, `time_convention` | how its answers give boxes and plain-number times (see `parsing`) |
| `prompt_ids(tokenizer, config, video, text)` | the chat-formatted token ids with the video placeholders |
| `position_ids(model, input_ids, video)` | rope positions `(3, 1, L)` for that sequence |
| `encode_video(model, video, groups_per_chunk)` | `VisualFeatures`, computed a few frame groups at a time |
| `language_forward(model, embeds, positions, cache, visual_mask, deepstack)` | hidden states of one chunk |

To add a Vidi- or Video-XL-2-style checkpoint, write an adapter with these members (Video-XL-2 would put its
`Time {t}s:` text before each 4-frame group in `prompt_ids`, and answer in seconds) and list it in `ADAPTERS`.
Qwen2.5-VL and Qwen3-VL below use the native transformers classes; their rope positions are computed here by
the rule the checkpoints were trained with (`original_rope_index`), not by transformers' `get_rope_index`,
whose rule for text after a video changed between releases.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import groupby
from pathlib import Path
from typing import Any, Literal, Protocol

import torch

from reelmark.core.engines.vlm.video import VideoInput, VisionGeometry

BoxConvention = Literal["pixels", "thousand", "unit"]
"""Boxes in pixels of the resized frame the model saw, in 0–1000 of each side, or in [0, 1]."""
TimeConvention = Literal["seconds", "fraction"]
"""What a bare number means in a time answer: seconds, or a fraction of the clip's duration (Vidi)."""
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
VIDEO_TOKEN_TYPE = 2
"""`mm_token_type_ids` value of a video placeholder (text 0, image 1, video 2)."""


@dataclass(frozen=True)
class VisualFeatures:
    """The vision tower's output for a clip: one row per video placeholder token."""

    embeds: torch.Tensor
    deepstack: tuple[torch.Tensor, ...] = ()
    """Qwen3-VL adds these rows to the hidden states of the first decoder layers (DeepStack)."""


def original_rope_index(
    input_ids: torch.Tensor, video_token_id: int, grids: Sequence[tuple[int, int, int]], merge: int,
    ids_per_group: Fraction = Fraction(1),
) -> torch.Tensor:  # fmt: skip
    """Rope positions `(3, 1, L)` of one sequence by the rule of the original Qwen2-VL / Qwen2.5-VL release (and
    vLLM's `MRotaryEmbedding`): text counts on from the highest position so far + 1 on all three axes; each run
    of video placeholders takes the next grid (t, h, w) and gets, from that same start, temporal id
    floor(group × `ids_per_group`) (Qwen2.5-VL: `second_per_grid_ts` × `tokens_per_second`; 1 for Qwen3-VL,
    whose runs are single groups) and row/column ids of the merged grid.

    transformers ≥ 5.3 continues text after a video from its start + max(h, w) / merge instead (Qwen2.5-VL
    `get_rope_index` in 5.25): for Qwen2.5-VL, whose temporal ids grow with time, that puts the question inside
    the video's time range (a 600 s clip: `<|vision_end|>` at 29 instead of 1213). For Qwen3-VL's single-group
    runs the two rules agree. The temporal id is computed exactly (fractions), not in floats."""
    ids = input_ids[0].tolist()
    pieces: list[torch.Tensor] = []
    start = 0
    remaining = iter(grids)
    for is_video, run in groupby(ids, key=lambda token: token == video_token_id):
        length = len(list(run))
        if not is_video:
            pieces.append(torch.arange(start, start + length).expand(3, -1))
            start += length
            continue
        groups, rows, columns = next(remaining)
        rows, columns = rows // merge, columns // merge
        if groups * rows * columns != length:
            raise ValueError(f"{length} video placeholders do not match the grid {groups}x{rows}x{columns}")
        temporal = torch.tensor([math.floor(group * ids_per_group) for group in range(groups)])
        grid_t, grid_h, grid_w = torch.meshgrid(temporal, torch.arange(rows), torch.arange(columns), indexing="ij")
        block = torch.stack([grid_t, grid_h, grid_w]).reshape(3, -1) + start
        pieces.append(block)
        start = int(block.max()) + 1
    return torch.cat(pieces, dim=1).unsqueeze(1)


class FamilyAdapter(Protocol):
    name: str
    model_types: tuple[str, ...]
    box_convention: BoxConvention
    time_convention: TimeConvention

    def model_class(self) -> type: ...

    def geometry(self, config: Any, folder: Path) -> VisionGeometry: ...

    def prompt_ids(self, tokenizer: Any, config: Any, video: VideoInput, text: str) -> torch.Tensor: ...

    def position_ids(self, model: Any, input_ids: torch.Tensor, video: VideoInput) -> torch.Tensor: ...

    def encode_video(
        self, model: Any, video: VideoInput, groups_per_chunk: int, tick: Callable[[float], None]
    ) -> VisualFeatures: ...

    def language_forward(
        self, model: Any, embeds: torch.Tensor, positions: torch.Tensor, cache: Any,
        visual_mask: torch.Tensor | None, deepstack: tuple[torch.Tensor, ...],
    ) -> torch.Tensor: ...  # fmt: skip


class _QwenAdapter:
    """What Qwen2.5-VL and Qwen3-VL share: the chat format, the vision tower's calling convention, the cache."""

    name = "qwen"
    model_types: tuple[str, ...] = ()
    box_convention: BoxConvention = "pixels"
    time_convention: TimeConvention = "seconds"
    default_mean = CLIP_MEAN
    default_std = CLIP_STD
    system_prompt: str | None = None

    def geometry(self, config: Any, folder: Path) -> VisionGeometry:
        vision = config.vision_config
        mean, std = self.default_mean, self.default_std
        for name in ("video_preprocessor_config.json", "preprocessor_config.json"):
            path = folder / name
            if path.is_file():
                settings = json.loads(path.read_text(encoding="utf-8"))
                mean = tuple(settings.get("image_mean", mean))
                std = tuple(settings.get("image_std", std))
                break
        return VisionGeometry(
            int(vision.patch_size), int(vision.spatial_merge_size), int(vision.temporal_patch_size), mean, std
        )

    def prompt_ids(self, tokenizer: Any, config: Any, video: VideoInput, text: str) -> torch.Tensor:
        ids: list[int] = []

        def add(piece: str) -> None:
            ids.extend(tokenizer(piece, add_special_tokens=False).input_ids)

        if self.system_prompt is not None:
            add(f"<|im_start|>system\n{self.system_prompt}<|im_end|>\n")
        add("<|im_start|>user\n")
        ids.extend(self._video_ids(tokenizer, config, video))
        add(f"{text}<|im_end|>\n<|im_start|>assistant\n")
        return torch.tensor([ids], dtype=torch.long)

    def _video_ids(self, tokenizer: Any, config: Any, video: VideoInput) -> list[int]:
        raise NotImplementedError

    @staticmethod
    def token_types(config: Any, input_ids: torch.Tensor) -> torch.Tensor:
        return (input_ids == config.video_token_id).int() * VIDEO_TOKEN_TYPE

    def encode_video(
        self, model: Any, video: VideoInput, groups_per_chunk: int, tick: Callable[[float], None]
    ) -> VisualFeatures:
        """Run the vision tower over a few frame groups at a time. Its attention never crosses a frame group
        (Qwen's vision towers attend within one temporal patch), so the result equals one pass over the clip
        while the activations stay bounded by the chunk."""
        groups, rows, columns = video.grid_thw
        per_group = rows * columns
        device, dtype = model.device, model.model.visual.dtype
        embeds: list[torch.Tensor] = []
        deepstack: list[list[torch.Tensor]] = []
        for first in range(0, groups, groups_per_chunk):
            count = min(groups_per_chunk, groups - first)
            pixels = video.pixel_values[first * per_group : (first + count) * per_group].to(device, dtype)
            grid = torch.tensor([[count, rows, columns]], device=device)
            output = model.model.get_video_features(pixels, grid, return_dict=True)
            embeds.append(torch.cat(output.pooler_output, dim=0))
            for level, feature in enumerate(getattr(output, "deepstack_features", None) or ()):
                if len(deepstack) <= level:
                    deepstack.append([])
                deepstack[level].append(torch.cat(feature, dim=0))
            tick((first + count) / groups)
        return VisualFeatures(torch.cat(embeds), tuple(torch.cat(level) for level in deepstack))


class Qwen25Adapter(_QwenAdapter):
    """Qwen2.5-VL: absolute time in the temporal rope ids (`tokens_per_second` ids per second, scaled by
    `second_per_grid_ts`, which must be the real seconds per frame group: without it transformers assumes 1 s,
    and its processor falls back to 24 fps, and times come out wrong). Boxes in pixels of the resized frame."""

    name = "qwen2.5-vl"
    model_types = ("qwen2_5_vl",)
    box_convention: BoxConvention = "pixels"
    system_prompt = "You are a helpful assistant."

    def model_class(self) -> type:
        from transformers import Qwen2_5_VLForConditionalGeneration

        return Qwen2_5_VLForConditionalGeneration

    def _video_ids(self, tokenizer: Any, config: Any, video: VideoInput) -> list[int]:
        return [config.vision_start_token_id, *[config.video_token_id] * video.token_count, config.vision_end_token_id]

    def position_ids(self, model: Any, input_ids: torch.Tensor, video: VideoInput) -> torch.Tensor:
        """The original rule (`original_rope_index`): the temporal id of group g is
        floor(g × seconds per group × tokens_per_second), so time reaches the model only through the frame
        grid, which the engine samples uniformly (`uniform_grid`)."""
        ids_per_group = video.seconds_per_group * Fraction(str(model.config.vision_config.tokens_per_second))
        return original_rope_index(input_ids, model.config.video_token_id, [video.grid_thw], video.merge, ids_per_group)

    def language_forward(
        self, model: Any, embeds: torch.Tensor, positions: torch.Tensor, cache: Any,
        visual_mask: torch.Tensor | None, deepstack: tuple[torch.Tensor, ...],
    ) -> torch.Tensor:  # fmt: skip
        output = model.model.language_model(inputs_embeds=embeds, position_ids=positions, past_key_values=cache, use_cache=True)
        return output.last_hidden_state


class Qwen3Adapter(_QwenAdapter):
    """Qwen3-VL: time as text, `<t seconds>` (one decimal, the mean time of the group's frames) before each frame
    group's `<|vision_start|>…<|vision_end|>`; temporal rope ids restart per group. Boxes in 0–1000."""

    name = "qwen3-vl"
    model_types = ("qwen3_vl",)
    box_convention: BoxConvention = "thousand"
    default_mean = (0.5, 0.5, 0.5)
    default_std = (0.5, 0.5, 0.5)

    def model_class(self) -> type:
        from transformers import Qwen3VLForConditionalGeneration

        return Qwen3VLForConditionalGeneration

    def _video_ids(self, tokenizer: Any, config: Any, video: VideoInput) -> list[int]:
        ids: list[int] = []
        frame = [config.vision_start_token_id, *[config.video_token_id] * video.tokens_per_group, config.vision_end_token_id]
        for time in video.group_times:
            ids.extend(tokenizer(f"<{float(time):.1f} seconds>", add_special_tokens=False).input_ids)
            ids.extend(frame)
        return ids

    def position_ids(self, model: Any, input_ids: torch.Tensor, video: VideoInput) -> torch.Tensor:
        """Each group is its own vision run with temporal id 0 (time is in the `<t seconds>` text), as Qwen3-VL's
        `get_rope_index` splits the video grid; the original rule then equals transformers 5.25's."""
        groups, rows, columns = video.grid_thw
        grids = [(1, rows, columns)] * groups
        return original_rope_index(input_ids, model.config.video_token_id, grids, video.merge)

    def language_forward(
        self, model: Any, embeds: torch.Tensor, positions: torch.Tensor, cache: Any,
        visual_mask: torch.Tensor | None, deepstack: tuple[torch.Tensor, ...],
    ) -> torch.Tensor:  # fmt: skip
        with_deepstack = visual_mask is not None and bool(deepstack) and bool(visual_mask.any())
        output = model.model.language_model(
            inputs_embeds=embeds, position_ids=positions, past_key_values=cache, use_cache=True,
            visual_pos_masks=visual_mask if with_deepstack else None,
            deepstack_visual_embeds=list(deepstack) if with_deepstack else None,
        )  # fmt: skip
        return output.last_hidden_state


ADAPTERS: tuple[FamilyAdapter, ...] = (Qwen25Adapter(), Qwen3Adapter())


def adapter_for(model_type: str) -> FamilyAdapter | None:
    """The adapter for a config's `model_type`, or None when no adapter takes it."""
    return next((adapter for adapter in ADAPTERS if model_type in adapter.model_types), None)


def supported_model_types() -> tuple[str, ...]:
    return tuple(model_type for adapter in ADAPTERS for model_type in adapter.model_types)
