"""Regenerate the Python code for the wire API from `protos/reelmark/v1/*.proto`.

    python -m reelmark.core.api.generate            # rewrite core/api/v1 in this checkout
    python -m reelmark.core.api.generate --out DIR  # write elsewhere (the staleness test compares the two)

protoc names modules after the proto package (`reelmark.v1`), but `reelmark` is a namespace package that only
holds `reelmark.core` and `reelmark.bridge`, so the generated imports are rewritten to `reelmark.core.api.v1`.
Needs grpcio-tools (in the `test` extra); protos exist only in a source checkout, not in the wheel.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "protos"
PROTO_PACKAGE = "reelmark/v1"
TARGET = Path(__file__).resolve().parent / "v1"
PYTHON_PACKAGE = "reelmark.core.api.v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_files() -> list[Path]:
    """The protos of the API, in a stable order (protoc's output depends on it)."""
    folder = PROTO_ROOT / PROTO_PACKAGE
    files = sorted(folder.glob("*.proto"))
    if not files:
        raise SystemExit(f"no .proto files under {folder}; run this from a reelmark source checkout")
    return files


def _rewrite(text: str) -> str:
    """Point protoc's `reelmark.v1` module names into `reelmark.core.api.v1`."""
    text = re.sub(r"\bfrom reelmark\.v1 import\b", f"from {PYTHON_PACKAGE} import", text)
    text = re.sub(r"\bimport reelmark\.v1\.", f"import {PYTHON_PACKAGE}.", text)
    return re.sub(r"(['\"])reelmark\.v1\.(\w+_pb2)\1", rf"\1{PYTHON_PACKAGE}.\2\1", text)


def generate(out_dir: Path) -> list[Path]:
    """Write the generated modules for every proto into `out_dir`; returns the files written."""
    try:
        from grpc_tools import protoc
    except ImportError:
        raise SystemExit("grpcio-tools is needed to generate the API code: pip install -e '.[test]'") from None
    import importlib.resources

    well_known = Path(str(importlib.resources.files("grpc_tools") / "_proto"))
    with tempfile.TemporaryDirectory() as scratch:
        arguments = [
            "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}",
            f"--python_out={scratch}", f"--pyi_out={scratch}", f"--grpc_python_out={scratch}",
            *(str(path.relative_to(PROTO_ROOT)) for path in proto_files()),
        ]  # fmt: skip
        if protoc.main(arguments) != 0:
            raise SystemExit("protoc failed; its message is above")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for produced in sorted((Path(scratch) / PROTO_PACKAGE).iterdir()):
            text = produced.read_text(encoding="utf-8")
            if produced.name.endswith("_pb2_grpc.py") and "class " not in text:
                continue  # a proto without services: grpc's plugin still writes an empty module
            if produced.name.endswith(GENERATED_SUFFIXES):
                target = out_dir / produced.name
                target.write_text(_rewrite(text), encoding="utf-8")
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TARGET, help=f"where to write the modules (default {TARGET})")
    options = parser.parse_args(argv)
    if options.out.resolve() == TARGET:
        for stale in TARGET.iterdir():
            if stale.name.endswith(GENERATED_SUFFIXES):
                stale.unlink()
    for path in generate(options.out):
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
