"""`attach` on the tiny random Qwen2.5-VL: our decode path against transformers' SDPA path, tokens and logits.

The model is built by tests/tiny_vlm.py and loaded with `from_pretrained`, as a real checkpoint would be. Two
copies are loaded: one keeps SDPA everywhere (the reference), the other is attached to our kernels.
"""

from __future__ import annotations

import os

import torch

# Triton reads TRITON_INTERPRET once, when it is first imported (transformers imports it). Without a GPU the kernels
# need the interpreter, so it is set before any import that could pull Triton in.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from pathlib import Path

import pytest
from tiny_vlm import build_tiny_qwen25_vl
from transformers import AutoTokenizer, DynamicCache, Qwen2_5_VLForConditionalGeneration

from reelmark.core.kernels import ATTENTION_NAME, ChunkedKVCache, DecodeOptions, attach, integration

VIDEO_GRID = torch.tensor([[2, 4, 4]])  # 2 temporal patches of 4 x 4 → 8 tokens after the 2 x 2 merge


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen25_vl(tmp_path_factory.mktemp("tiny_qwen25_vl"))


def _load(checkpoint: Path) -> Qwen2_5_VLForConditionalGeneration:
    return Qwen2_5_VLForConditionalGeneration.from_pretrained(checkpoint, attn_implementation="sdpa").eval()


@pytest.fixture(scope="module")
def video_inputs(checkpoint: Path) -> dict[str, torch.Tensor]:
    """Text, a video placeholder of the right length, more text; random pixels."""
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    special = tokenizer.convert_tokens_to_ids(["<|vision_start|>", "<|video_pad|>", "<|vision_end|>"])
    patches = int(VIDEO_GRID.prod())
    generator = torch.Generator().manual_seed(1)
    text = torch.randint(20, 1000, (1, 30), generator=generator)
    video = torch.tensor([[special[0]] + [special[1]] * (patches // 4) + [special[2]]])
    input_ids = torch.cat([text[:, :10], video, text[:, 10:]], dim=1)
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "pixel_values_videos": torch.randn((patches, 3 * 2 * 14 * 14), generator=generator),
        "video_grid_thw": VIDEO_GRID,
    }


def _generate(model: Qwen2_5_VLForConditionalGeneration, inputs: dict, tokens: int, **kwargs) -> list[int]:
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, **kwargs)
    return out[0, inputs["input_ids"].shape[1] :].tolist()


def _count_decode_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wrap `decode_layer` so the test sees how many decode steps went through our kernels."""
    calls: list[int] = []
    original = integration.decode_layer

    def counting(q: torch.Tensor, layer, scale: float) -> torch.Tensor:
        calls.append(layer.length)
        return original(q, layer, scale)

    monkeypatch.setattr(integration, "decode_layer", counting)
    return calls


def test_dense_decode_generates_the_same_tokens_as_sdpa(
    checkpoint: Path, video_inputs: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _generate(_load(checkpoint), video_inputs, tokens=10)
    model = _load(checkpoint)
    cache = attach(model, DecodeOptions(mode="dense", chunk_size=16), capacity=128)
    calls = _count_decode_calls(monkeypatch)
    assert _generate(model, video_inputs, tokens=10, past_key_values=cache) == expected
    prompt = video_inputs["input_ids"].shape[1]
    assert len(calls) == 2 * 9, "every decode step of both layers should run our kernel"
    assert max(calls) == prompt + 9 == cache.get_seq_length()
    assert model.config.text_config._attn_implementation == ATTENTION_NAME
    assert model.config.vision_config._attn_implementation == "sdpa"


def test_sparse_decode_with_the_whole_budget_generates_the_same_tokens(checkpoint: Path, video_inputs: dict) -> None:
    expected = _generate(_load(checkpoint), video_inputs, tokens=4)
    model = _load(checkpoint)
    cache = attach(model, DecodeOptions(mode="sparse", budget=1.0, chunk_size=16), capacity=128)
    assert _generate(model, video_inputs, tokens=4, past_key_values=cache) == expected


def test_chunked_prefill_then_decode_matches_sdpa(checkpoint: Path) -> None:
    """Prefill in three forward calls appending to the cache (the engine's chunked prefill), then a decode step:
    every logit matches a one-shot SDPA forward and SDPA's decode step."""
    generator = torch.Generator().manual_seed(5)
    input_ids = torch.randint(20, 1000, (1, 70), generator=generator)
    reference = _load(checkpoint)
    model = _load(checkpoint)
    cache = attach(model, DecodeOptions(mode="dense", chunk_size=16), capacity=96)
    with torch.no_grad():
        full = reference(input_ids=input_ids, past_key_values=DynamicCache(config=reference.config))
        for start, stop in ((0, 17), (17, 48), (48, 70)):
            ours = model(input_ids=input_ids[:, start:stop], past_key_values=cache)
            torch.testing.assert_close(ours.logits[0], full.logits[0, start:stop], atol=1e-4, rtol=1e-4)
        step = ours.logits[:, -1:].argmax(-1)
        expected = reference(input_ids=step, past_key_values=full.past_key_values).logits
        decoded = model(input_ids=step, past_key_values=cache).logits
    assert isinstance(cache, ChunkedKVCache) and cache.get_seq_length() == 71
    torch.testing.assert_close(decoded, expected, atol=1e-4, rtol=1e-4)


def test_decoding_with_another_cache_fails_loudly(checkpoint: Path, video_inputs: dict) -> None:
    model = _load(checkpoint)
    attach(model, DecodeOptions(mode="dense", chunk_size=16), capacity=128)
    with pytest.raises(RuntimeError, match="pass that cache as past_key_values"):
        _generate(model, video_inputs, tokens=3)
