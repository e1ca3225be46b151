"""The Premiere UXP panel (plugin/premiere): its Node test suite, its packaging, and one run against a real daemon.

The panel's own tests use Node's built-in runner against a fake `premierepro`/`uxp` (plugin/premiere/test/);
these wrappers make `make test` run them. They skip, saying why, when Node is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
from reelmark.core.client import start_daemon_subprocess
from reelmark.core.media.synthetic import ClipSpec, write_clip

PLUGIN = Path(__file__).resolve().parent.parent / "plugin" / "premiere"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js (20 or newer) is not installed; the panel's tests need `node --test`")


def _node_test(*paths: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NODE, "--test", *paths], check=False, cwd=PLUGIN, env=env, capture_output=True, text=True, timeout=timeout)


def _package_module():
    spec = importlib.util.spec_from_file_location("premiere_package", PLUGIN / "tools" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_node
def test_node_suite_passes(tmp_path) -> None:
    env = {**os.environ, "REELMARK_BUILD_DIR": os.environ.get("REELMARK_BUILD_DIR", str(PLUGIN.parent.parent / "build"))}
    env.pop("REELMARK_TEST_HTTP", None)
    result = _node_test("test/", env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# fail 0" in result.stdout
    assert "# pass " in result.stdout and "# pass 0\n" not in result.stdout


def test_package_builds_a_ccx_with_the_manifest_at_its_root(tmp_path) -> None:
    package = _package_module()
    target = package.build(tmp_path)
    assert target.name == "reelmark-premiere-0.1.0.ccx"
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert {"manifest.json", "index.html", "main.js", "src/panel.js", "src/marker-colours.js", "src/styles.css"} <= names
    assert not any(name.startswith(("test/", "tools/")) for name in names)
    assert package.check_manifest(manifest) == []
    for key in package.REQUIRED_KEYS:
        assert key in manifest
    assert manifest["host"] == {"app": "premierepro", "minVersion": "25.6"}
    assert "http://127.0.0.1:7331" in manifest["requiredPermissions"]["network"]["domains"]
    # Rebuilding gives the same bytes: the archive is reproducible.
    first = target.read_bytes()
    assert package.build(tmp_path).read_bytes() == first


def test_manifest_check_names_what_is_wrong() -> None:
    package = _package_module()
    problems = package.check_manifest({"manifestVersion": 4, "host": {"app": "PS"}, "entrypoints": []})
    text = "; ".join(problems)
    for needle in ("missing required key 'id'", "manifestVersion must be 5", "host.app must be 'premierepro'",
                   "no panel entrypoint", "network.domains"):  # fmt: skip
        assert needle in text


@needs_node
def test_panel_against_a_real_daemon(tmp_path) -> None:
    clip = tmp_path / "C0042.mp4"
    write_clip(clip, ClipSpec(rate=Fraction(25), frame_count=50, cuts=(20,), width=160, height=96))
    with start_daemon_subprocess(tmp_path / "store.sqlite3", log=subprocess.DEVNULL) as daemon:
        env = {**os.environ, "REELMARK_TEST_HTTP": f"http://{daemon.http_address}", "REELMARK_TEST_CLIP": str(clip)}
        result = _node_test("test/daemon.integration.test.js", env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# pass 2" in result.stdout and "# skipped 0" in result.stdout
