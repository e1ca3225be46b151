"""`reelmark models`: the one way weights reach this machine (`pull`), and what is already here (`list`).

Analyses never download (the loader reads with `local_files_only`); pulling is explicit so a user decides when
gigabytes move and where from. Heavy imports wait for the command, so registering the group costs the CLI nothing.
"""

from __future__ import annotations

import click


@click.group("models")
def models() -> None:
    """Fetch and list vision-language model checkpoints for --engine vlm."""


@models.command("pull")
@click.argument("model_id")
@click.option("--revision", default=None, help="Branch, tag or commit to fetch (default: main).")
def pull(model_id: str, revision: str | None) -> None:
    """Download MODEL_ID (e.g. Qwen/Qwen2.5-VL-7B-Instruct) into the Hugging Face cache."""
    from huggingface_hub import snapshot_download

    folder = snapshot_download(model_id, revision=revision)
    click.echo(f"{model_id}: {folder}")
    click.echo(f"use it with: reelmark analyze FILE --engine vlm --model {model_id}")


@models.command("list")
def list_models() -> None:
    """Checkpoints in the Hugging Face cache whose family the vlm engine takes."""
    import json

    from huggingface_hub import scan_cache_dir
    from huggingface_hub.constants import HF_HUB_CACHE
    from huggingface_hub.errors import CacheNotFound

    from reelmark.core.engines.vlm.families import supported_model_types

    empty = (f"no vlm checkpoints in the Hugging Face cache ({HF_HUB_CACHE}) yet; fetch one with "
             "`reelmark models pull Qwen/Qwen2.5-VL-7B-Instruct`, or pass a local folder to --model")  # fmt: skip
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
            if model_type in supported:
                click.echo(f"{repo.repo_id}\t{model_type}\t{revision.commit_hash[:12]}\t{revision.snapshot_path}")
                listed += 1
                break
    if not listed:
        click.echo(empty)
