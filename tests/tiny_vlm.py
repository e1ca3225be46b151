"""Tiny random Qwen2.5-VL and Qwen3-VL checkpoints for tests (DESIGN §6): nothing is downloaded.

Each builder makes a model from a config small enough to generate from video on CPU in well under a second
(vocab 1024, hidden 64, 2 layers, 4 query / 2 kv heads, vision depth 2), a byte-level BPE tokenizer trained
here with `tokenizers` (its special tokens are the ids the config points at), and writes both with
`save_pretrained`, so tests load them through the same loader a user's real checkpoint takes.

Not a test module: tests import the builders (and so does the kernels work, issue #8).
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

VOCAB_SIZE = 1024
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
    "<|video_pad|>",
)  # fmt: skip
# Text the tokenizer's merges are learnt from: the prompts and answers the engine exchanges.
TRAINING_TEXT = (
    "system user assistant You are a helpful assistant. When does it happen in the video? Answer with the start "
    "and end time in seconds. seconds 0 1 2 3 4 5 6 7 8 9 . - : , [ ] ( ) a person a car walks enters leaves "
    "List the highlights of this video with titles. Describe the video with timestamps. Track the box."
)


def _tokenizer():
    """A byte-level BPE tokenizer of exactly `VOCAB_SIZE` entries with the Qwen chat and vision tokens."""
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=list(SPECIAL_TOKENS), initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )  # fmt: skip
    core.train_from_iterator([TRAINING_TEXT] * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
    )  # fmt: skip
    return tokenizer


def _token_ids(tokenizer) -> dict[str, int]:
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    assert all(0 <= value < VOCAB_SIZE for value in ids.values()), ids
    return ids


def _text_config(ids: dict[str, int]) -> dict:
    return {
        "vocab_size": VOCAB_SIZE, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 32768,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        "bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"], "pad_token_id": ids["<|endoftext|>"],
    }  # fmt: skip


def _special_ids(ids: dict[str, int]) -> dict:
    return {
        "image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"],
    }  # fmt: skip


def _save(model, tokenizer, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_qwen25_vl(folder: Path) -> Path:
    """A ~290K-parameter random Qwen2.5-VL (patch 14, merge 2, 2 frames per temporal patch, 2 tokens/s)."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    tokenizer = _tokenizer()
    ids = _token_ids(tokenizer)
    config = Qwen2_5_VLConfig(
        text_config=_text_config(ids),
        vision_config={
            "depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
            "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "tokens_per_second": 2,
            "window_size": 56, "fullatt_block_indexes": [1],
        },
        **_special_ids(ids),
    )  # fmt: skip
    torch.manual_seed(0)
    return _save(Qwen2_5_VLForConditionalGeneration(config).eval(), tokenizer, Path(folder))


def build_tiny_qwen3_vl(folder: Path) -> Path:
    """A random Qwen3-VL of the same size (patch 16, merge 2, deepstack after vision layer 0)."""
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    tokenizer = _tokenizer()
    ids = _token_ids(tokenizer)
    text = {**_text_config(ids), "head_dim": 16}
    text["rope_parameters"] = {**text["rope_parameters"], "mrope_interleaved": True}
    config = Qwen3VLConfig(
        text_config=text,
        vision_config={
            "depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
            "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2, "num_position_embeddings": 64,
            "deepstack_visual_indexes": [0],
        },
        **_special_ids(ids),
    )  # fmt: skip
    torch.manual_seed(0)
    return _save(Qwen3VLForConditionalGeneration(config).eval(), tokenizer, Path(folder))
