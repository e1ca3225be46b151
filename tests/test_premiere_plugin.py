"""The Premiere UXP panel (plugin/premiere): its Node test suite, its packaging, and one run against a real daemon.

The panel's own tests use Node's built-in runner against a fake `premierepro`/`uxp` (plugin/premiere/test/);
these wrappers make `make test` run them. They skip, saying why, when Node is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
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


NODE_TEST_FILES = sorted(path.name for path in (PLUGIN / "test").glob("*.test.js") if path.name != "daemon.integration.test.js")
TAP_SKIP = re.compile(r"^\s*ok \d+ - (?P<name>.*?) # SKIP ?(?P<reason>.*)$")


def node_skips(tap: str) -> list[str]:
    """Node's skipped tests in a TAP report, as "name: reason"."""
    return [f"{match['name']}: {match['reason']}" for match in map(TAP_SKIP.match, tap.splitlines()) if match]


@needs_node
@pytest.mark.parametrize("test_file", NODE_TEST_FILES)
def test_node_suite_passes(test_file: str) -> None:
    """One pytest test per Node test file, so a skip inside one (no Chromium for the screenshot) shows in pytest's
    summary with Node's reason, after the file's other tests have passed."""
    env = {**os.environ, "REELMARK_BUILD_DIR": os.environ.get("REELMARK_BUILD_DIR", str(PLUGIN.parent.parent / "build"))}
    env.pop("REELMARK_TEST_HTTP", None)
    result = _node_test("--test-reporter=tap", f"test/{test_file}", env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# fail 0" in result.stdout
    assert "# pass " in result.stdout and "# pass 0\n" not in result.stdout
    skipped = node_skips(result.stdout)
    if skipped:
        pytest.skip(f"{test_file}: " + "; ".join(skipped))


def test_node_skips_are_read_from_tap() -> None:
    tap = "ok 1 - renders # SKIP Chromium is not installed\n  ok 2 - nested # SKIP no daemon\nok 3 - fine\n"
    assert node_skips(tap) == ["renders: Chromium is not installed", "nested: no daemon"]


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
    assert manifest["host"] == {"app": "premierepro", "minVersion": "25.6.0"}
    assert manifest["requiredPermissions"]["network"]["domains"] == ["http://127.0.0.1:7331", "http://localhost:7331"]
    # Rebuilding gives the same bytes: the archive is reproducible.
    first = target.read_bytes()
    assert package.build(tmp_path).read_bytes() == first


def test_manifest_check_names_what_is_wrong() -> None:
    package = _package_module()
    problems = package.check_manifest({"manifestVersion": 4, "host": {"app": "PS", "minVersion": "25.6"}, "entrypoints": []})
    text = "; ".join(problems)
    for needle in ("missing required key 'id'", "manifestVersion must be 5", "host.app must be 'premierepro'",
                   "no panel entrypoint", "network.domains", "host.minVersion must be x.y.z"):  # fmt: skip
        assert needle in text


@needs_node
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_panel_against_a_real_daemon(tmp_path, host: str) -> None:
    """Both loopback forms the manifest declares reach the daemon (Node's fetch, not UXP's: see the README)."""
    clip = tmp_path / "C0042.mp4"
    write_clip(clip, ClipSpec(rate=Fraction(25), frame_count=50, cuts=(20,), width=160, height=96))
    with start_daemon_subprocess(tmp_path / "store.sqlite3", log=subprocess.DEVNULL) as daemon:
        port = daemon.http_address.rsplit(":", 1)[1]
        env = {**os.environ, "REELMARK_TEST_HTTP": f"http://{host}:{port}", "REELMARK_TEST_CLIP": str(clip)}
        result = _node_test("test/daemon.integration.test.js", env=env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# pass 2" in result.stdout and "# skipped 0" in result.stdout
