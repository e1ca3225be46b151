"""Build the installable .ccx of the Premiere panel: a zip with manifest.json at its root.

    python3 plugin/premiere/tools/package.py [--out DIR]     # default: the repository's build/

Before zipping it checks the manifest against the keys the UXP manifest v5 reference requires and that every
file the panel loads is there. Only the plugin's runtime files go in (no tests, tools or fixtures).
Install the result with the UXP Developer Tool or by double-clicking it (Creative Cloud).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

PLUGIN = Path(__file__).resolve().parent.parent
DEFAULT_OUT = PLUGIN.parent.parent / "build"
REQUIRED_KEYS = ("manifestVersion", "id", "name", "version", "main", "host", "entrypoints")
RUNTIME_FILES = ("manifest.json", "index.html", "main.js")
RUNTIME_DIRS = ("src",)
# A fixed timestamp keeps the archive byte-for-byte reproducible.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


class ManifestError(ValueError):
    pass


def check_manifest(manifest: dict, root: Path = PLUGIN) -> list[str]:
    """Problems with the manifest, in words; empty when it is fine."""
    problems = [f"missing required key {key!r}" for key in REQUIRED_KEYS if key not in manifest]
    if manifest.get("manifestVersion") != 5:
        problems.append("manifestVersion must be 5")
    host = manifest.get("host") or {}
    if host.get("app") != "premierepro":
        problems.append("host.app must be 'premierepro'")
    if not host.get("minVersion"):
        problems.append("host.minVersion is missing")
    elif not re.fullmatch(r"\d+\.\d+\.\d+", str(host["minVersion"])):
        problems.append("host.minVersion must be x.y.z (e.g. 25.6.0), as the manifest reference and Adobe's samples write it")
    if not any(e.get("type") == "panel" for e in manifest.get("entrypoints", [])):
        problems.append("no panel entrypoint")
    if "main" in manifest and not (root / manifest["main"]).is_file():
        problems.append(f"main file {manifest['main']!r} does not exist")
    domains = ((manifest.get("requiredPermissions") or {}).get("network") or {}).get("domains")
    if domains != "all" and not (isinstance(domains, list) and any(d.startswith("http://127.0.0.1:") for d in domains)):
        problems.append("requiredPermissions.network.domains must list the daemon's http://127.0.0.1:PORT")
    return problems


def files_to_pack(root: Path = PLUGIN) -> list[Path]:
    files = [root / name for name in RUNTIME_FILES]
    for folder in RUNTIME_DIRS:
        files += sorted(p for p in (root / folder).rglob("*") if p.is_file() and p.suffix != ".json")
    missing = [str(p.relative_to(root)) for p in files if not p.is_file()]
    if missing:
        raise ManifestError(f"missing plugin files: {', '.join(missing)}")
    return files


def build(out_dir: Path = DEFAULT_OUT, root: Path = PLUGIN) -> Path:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    problems = check_manifest(manifest, root)
    if problems:
        raise ManifestError("; ".join(problems))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"reelmark-premiere-{manifest['version']}.ccx"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files_to_pack(root):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the .ccx (default: build/)")
    args = parser.parse_args(argv)
    try:
        target = build(args.out)
    except ManifestError as error:
        print(f"cannot package the Premiere panel: {error}", file=sys.stderr)
        return 1
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
