"""#19 item 8: the CLI sits on top. No module below it (daemon, engines, bridge, media, store) imports it, so a
worker process or a plug-in never loads the command line to reach the code under it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOWER = [ROOT / "core", ROOT / "bridge", ROOT / "plugin" / "resolve"]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_lower_layer_imports_the_cli() -> None:
    offenders = []
    for folder in LOWER:
        for path in folder.rglob("*.py"):
            if (ROOT / "core" / "cli") in path.parents:
                continue
            if any(name == "reelmark.core.cli" or name.startswith("reelmark.core.cli.") for name in imported_modules(path)):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"modules below the CLI that import it: {offenders}"
