"""`reelmark models`: the one way weights reach this machine (`pull`), and what is already here (`list`).

Analyses never download (the loader reads with `local_files_only`); pulling is explicit so a user decides when
gigabytes move and where from. Heavy imports wait for the command, so registering the group costs the CLI nothing.
"""

from __future__ import annotations

import click

WHISPER_WEIGHTS = "model.bin"
"""A CTranslate2 model's weights file: what tells a faster-whisper checkpoint from a Transformers one."""
WHISPER_KIND = "whisper-ctranslate2"


@click.group("models")
def models() -> None:
    """Fetch and list model checkpoints: vision-language models for --engine vlm, CTranslate2 Whisper models
    (e.g. Systran/faster-whisper-small) for --task transcribe."""


@models.command("pull")
@click.argument("model_id")
@click.option("--revision", default=None, help="Branch, tag or commit to fetch (default: main).")
def pull(model_id: str, revision: str | None) -> None:
    """Download MODEL_ID (e.g. Qwen/Qwen2.5-VL-7B-Instruct, Systran/faster-whisper-small) into the Hugging Face
    cache."""
    from pathlib import Path

    folder = _fetch(model_id, revision)
    click.echo(f"{model_id}: {folder}")
    if (Path(folder) / WHISPER_WEIGHTS).is_file():
        click.echo(f"use it with: reelmark analyze FILE --task transcribe --model {model_id}")
    else:
        click.echo(f"use it with: reelmark analyze FILE --engine vlm --model {model_id}")


def _fetch(model_id: str, revision: str | None) -> str:
    """The model's folder in the Hugging Face cache, fetched as needed; each way the Hub can fail is one line that
    says what to do (the library's own messages run to several lines and speak of snapshots and cache folders)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from reelmark.core.errors import ModelFetchError

    try:
        return snapshot_download(model_id, revision=revision)
    except HFValidationError:
        raise ModelFetchError(f"{model_id!r} is not a model id; write it as owner/name, e.g. "
                              "Systran/faster-whisper-small") from None  # fmt: skip
    except GatedRepoError:
        raise ModelFetchError(f"{model_id} is gated: accept its terms on its Hugging Face page, log in with "
                              "`hf auth login`, and pull again") from None  # fmt: skip
    except RepositoryNotFoundError:
        raise ModelFetchError(f"{model_id}: no such model on the Hugging Face Hub, or a private one; check the id "
                              "(e.g. Qwen/Qwen2.5-VL-7B-Instruct)") from None  # fmt: skip
    except RevisionNotFoundError:
        raise ModelFetchError(f"{model_id} has no revision {revision!r}; leave out --revision for its main branch") from None
    except (LocalEntryNotFoundError, OfflineModeIsEnabled):
        raise ModelFetchError(f"cannot reach the Hugging Face Hub to fetch {model_id} (no network, or HF_HUB_OFFLINE "
                              "is set); pull it on a machine that can and copy the folder here, then pass that folder "
                              "to --model") from None  # fmt: skip


@models.command("list")
def list_models() -> None:
    """Checkpoints in the Hugging Face cache that reelmark can use: vlm families and CTranslate2 Whisper models."""
    import json

    from huggingface_hub import scan_cache_dir
    from huggingface_hub.constants import HF_HUB_CACHE
    from huggingface_hub.errors import CacheNotFound

    from reelmark.core.engines.vlm.families import supported_model_types

    empty = (f"no usable checkpoints in the Hugging Face cache ({HF_HUB_CACHE}) yet; fetch one with "
             "`reelmark models pull Qwen/Qwen2.5-VL-7B-Instruct` (vlm) or `reelmark models pull "
             "Systran/faster-whisper-small` (transcribe), or pass a local folder to --model")  # fmt: skip
    try:
        cache = scan_cache_dir()
    except CacheNotFound:  # its message is about the library's cache_dir argument, which a user never sees
        click.echo(empty)
        return
    supported = set(supported_model_types())
    listed = 0
    for repo in sorted(cache.repos, key=lambda item: item.repo_id):
        if repo.repo_type != "model":
            continue
        for revision in repo.revisions:
            config = revision.snapshot_path / "config.json"
            model_type = json.loads(config.read_text()).get("model_type") if config.is_file() else None
            if (revision.snapshot_path / WHISPER_WEIGHTS).is_file():
                model_type = WHISPER_KIND
            if model_type in supported or model_type == WHISPER_KIND:
                click.echo(f"{repo.repo_id}\t{model_type}\t{revision.commit_hash[:12]}\t{revision.snapshot_path}")
                listed += 1
                break
    if not listed:
        click.echo(empty)
