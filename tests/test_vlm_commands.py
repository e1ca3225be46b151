"""`reelmark models` and Hugging Face ids: a cached id loads offline, `list` shows it, `pull` is the only path that
fetches (here a stand-in records the call: tests never download)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import huggingface_hub
import huggingface_hub.constants
import pytest
from click.testing import CliRunner
from tiny_vlm import build_tiny_qwen3_vl

from reelmark.core.cli.models import models
from reelmark.core.engines.vlm.families import Qwen3Adapter
from reelmark.core.engines.vlm.loader import ModelCache

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugging Face cache holding `tiny/qwen3-vl` at one commit, in the layout `pull` leaves behind."""
    repo = tmp_path / "hub" / "models--tiny--qwen3-vl"
    build_tiny_qwen3_vl(repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_a_cached_id_loads_without_the_network(hub_cache: Path) -> None:
    loaded = ModelCache().get("tiny/qwen3-vl", "cpu")
    assert isinstance(loaded.adapter, Qwen3Adapter) and loaded.model_id == "tiny/qwen3-vl"
    assert loaded.folder == hub_cache / "models--tiny--qwen3-vl" / "snapshots" / COMMIT


def test_list_shows_cached_checkpoints_of_supported_families(hub_cache: Path) -> None:
    result = CliRunner().invoke(models, ["list"])
    assert result.exit_code == 0 and result.output.startswith("tiny/qwen3-vl\tqwen3_vl\t0123456789ab"), result.output


def test_pull_fetches_through_huggingface_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = []
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, revision=None: calls.append((repo, revision)) or str(tmp_path))
    result = CliRunner().invoke(models, ["pull", "Qwen/Qwen2.5-VL-7B-Instruct", "--revision", "v1"])
    assert result.exit_code == 0 and calls == [("Qwen/Qwen2.5-VL-7B-Instruct", "v1")]
    assert "--engine vlm --model Qwen/Qwen2.5-VL-7B-Instruct" in result.output


def test_registering_the_commands_does_not_import_torch() -> None:
    code = "import sys, reelmark.core.cli.models, reelmark.core.engines.vlm; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", "the CLI's start-up would pay for torch"
