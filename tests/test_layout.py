"""The repository layout is fixed, and code refers to it only through the `reelmark.*` namespace.

core/ and bridge/ are installed as `reelmark.core` and `reelmark.bridge`; the bare names `core` and `bridge`
only happen to resolve when Python runs from the repository root, so code using them breaks once installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCANNED_DIRS = ("core", "bridge", "plugin", "protos", "tests")
SKIPPED_DIRS = {"__pycache__", ".venv"}
BARE_IMPORT = re.compile(r"^\s*(from|import)\s+(core|bridge)(\.|\s|$)")


def _python_files() -> list[Path]:
    files = []
    for top in SCANNED_DIRS:
        for dirpath, dirnames, filenames in os.walk(REPO_ROOT / top):
            dirnames[:] = [name for name in dirnames if name not in SKIPPED_DIRS]
            files.extend(Path(dirpath) / name for name in filenames if name.endswith(".py"))
    return sorted(files)


def test_bare_import_pattern_matches_what_it_should() -> None:
    """Guards the guard: the pattern must flag bare imports and leave the namespaced ones alone."""
    for bad in ("import core", "from core.media import probe", "  from bridge import x", "import bridge.otio"):
        assert BARE_IMPORT.match(bad), bad
    for good in ("from reelmark.core import results", "import reelmark.bridge", "import corelib", "# import core"):
        assert not BARE_IMPORT.match(good), good


def test_no_bare_imports_of_top_level_directories() -> None:
    """Exists because `import core` works from the repo root (and in an editable checkout) but not installed."""
    files = _python_files()
    assert REPO_ROOT / "core" / "__init__.py" in files, f"the scan found no core/__init__.py: {files[:5]}"
    offenders = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if BARE_IMPORT.match(line):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use reelmark.core / reelmark.bridge, not the bare directory names:\n" + "\n".join(offenders)


def test_fixed_top_level_layout_exists() -> None:
    """Exists because pyproject.toml, the plugins and the docs all assume these paths at the repository root."""
    for directory in ("core", "bridge", "plugin/resolve", "plugin/premiere", "protos", "tests"):
        assert (REPO_ROOT / directory).is_dir(), f"missing directory {directory}/"
    assert (REPO_ROOT / "pyproject.toml").is_file(), "missing pyproject.toml"


def test_importing_core_does_not_load_heavy_dependencies(tmp_path: Path) -> None:
    """Exists because the CLI and the NLE plugins import reelmark.core and its results model and must start fast.

    PyAV, torch and transformers take seconds to import (and plugins may not have them at all), so they may load
    only inside the commands and engines that need them. Runs in a fresh interpreter: this test process may
    already have imported them.
    """
    result = subprocess.run(
        [
            sys.executable, "-c",
            "import reelmark.core, sys; print('av' in sys.modules, 'torch' in sys.modules, "
            "'transformers' in sys.modules)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"import failed\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.stdout.strip() == "False False False", (
        "importing reelmark.core loaded (av, torch, transformers) = "
        f"{result.stdout.strip()}\nstderr:\n{result.stderr}"
    )
