"""The built wheel is what users get, not the source tree: build it, install it alone, and use it.

The repository layout (core/, bridge/ at the root) is mapped onto the `reelmark.*` namespace by an explicit
`package-dir` and `packages` list in pyproject.toml. An editable install hides mistakes in that mapping (a
subpackage missing from `packages` still imports from the source tree), so these tests build a real wheel,
inspect it, install it into a fresh virtual environment and run the installed `reelmark` command from outside
the repository. No network: pip is always run with --no-index and --no-deps.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import reelmark.core

REPO_ROOT = Path(__file__).resolve().parent.parent
# Import packages whose sources live in a top-level directory of the repository.
PACKAGE_ROOTS = {"core": "reelmark/core", "bridge": "reelmark/bridge"}


def _run(args: list[str | os.PathLike[str]], *, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs a command with an environment that cannot point Python at the dev tree or another venv."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON") and key != "VIRTUAL_ENV"}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_NO_INDEX"] = "1"
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )


def _describe(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"command {result.args!r} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


def _expected_init_files() -> list[str]:
    """`reelmark/...` paths of every `__init__.py` under core/ and bridge/ in the source tree."""
    expected = []
    for source_dir, package_path in PACKAGE_ROOTS.items():
        root = REPO_ROOT / source_dir
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [name for name in dirnames if name != "__pycache__"]
            if "__init__.py" in filenames:
                relative = Path(dirpath).relative_to(root).as_posix()
                prefix = package_path if relative == "." else f"{package_path}/{relative}"
                expected.append(f"{prefix}/__init__.py")
    return sorted(expected)


def _requirements(metadata_text: str) -> dict[str, Requirement]:
    message = Parser().parsestr(metadata_text)
    requirements = {}
    for line in message.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue  # optional-dependencies (the test extra) are not what a plain install pulls in
        requirements[requirement.name.lower()] = requirement
    return requirements


def _assert_pinned(requirements: dict[str, Requirement], name: str, lower: str, upper: str) -> None:
    assert name in requirements, f"{name} missing from Requires-Dist: {sorted(requirements)}"
    specifier = requirements[name].specifier
    specs = {(spec.operator, spec.version) for spec in specifier}
    assert (">=", lower) in specs, f"{name} should require >={lower}, got {specifier}"
    assert ("<", upper) in specs, f"{name} should require <{upper}, got {specifier}"


@pytest.mark.slow
def test_wheel_builds_installs_alone_and_runs(tmp_path: Path) -> None:
    """The wheel holds every subpackage, pins the dependencies we test, and works installed outside the repo.

    Exists because the explicit `packages` list in pyproject.toml must be kept in step with the source tree by
    hand, `reelmark` must stay a namespace package (no reelmark/__init__.py), py.typed must ship, the
    OpenTimelineIO and transformers pins protect the file formats and the engines, and only an installed wheel
    (not the editable install) shows whether the console script and the media stack work for a user.
    """
    wheel_dir = tmp_path / "wheelhouse"
    # Build from a clean copy of the source: setuptools builds in place under build/, where files left by an
    # earlier build (or `make run`'s build/demo) could slip into the wheel and hide a packaging mistake.
    source = tmp_path / "source"
    shutil.copytree(
        REPO_ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__")
    )
    build = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheel_dir, source],
        cwd=tmp_path,
    )
    assert build.returncode == 0, f"building the wheel failed\n{_describe(build)}"
    wheels = sorted(wheel_dir.glob("reelmark-*.whl"))
    assert len(wheels) == 1, f"expected exactly one reelmark wheel, found {wheels}\n{_describe(build)}"
    wheel = wheels[0]
    assert Version(wheel.name.split("-")[1]) == Version(reelmark.core.__version__), wheel.name

    # --- contents ---------------------------------------------------------------------------------------------
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_names = [name for name in names if name.endswith(".dist-info/METADATA")]
        assert len(metadata_names) == 1, f"expected one METADATA file in the wheel, found {metadata_names}"
        metadata_text = archive.read(metadata_names[0]).decode("utf-8")

    expected_inits = _expected_init_files()
    assert "reelmark/core/__init__.py" in expected_inits, f"source tree scan found no core package: {expected_inits}"
    missing = [name for name in expected_inits if name not in names]
    assert not missing, (
        f"packages in the source tree but not in the wheel (add them to [tool.setuptools] packages): {missing}"
    )
    assert "reelmark/__init__.py" not in names, "reelmark must be an implicit namespace package in the wheel"
    assert "reelmark/core/py.typed" in names, "reelmark/core/py.typed (PEP 561 marker) missing from the wheel"

    # --- dependencies -----------------------------------------------------------------------------------------
    requirements = _requirements(metadata_text)
    _assert_pinned(requirements, "opentimelineio", "0.18", "0.19")
    _assert_pinned(requirements, "transformers", "5", "6")
    for name in ("av", "numpy", "grpcio", "torch", "triton"):
        assert name in requirements, f"{name} missing from Requires-Dist: {sorted(requirements)}"

    # --- a fresh environment with only the wheel installed ----------------------------------------------------
    fresh = tmp_path / "fresh"
    made = _run([sys.executable, "-m", "venv", "--without-pip", fresh], cwd=tmp_path)
    assert made.returncode == 0, f"creating the fresh venv failed\n{_describe(made)}"
    fresh_python = fresh / "bin" / "python"
    assert fresh_python.exists(), f"no interpreter at {fresh_python}"

    installed = _run(
        [sys.executable, "-m", "pip", "--python", fresh_python, "install", "--no-deps", "--no-index", wheel],
        cwd=tmp_path,
    )
    assert installed.returncode == 0, f"installing the wheel into the fresh venv failed\n{_describe(installed)}"

    purelib = _run([fresh_python, "-c", "import sysconfig;print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path)
    assert purelib.returncode == 0, _describe(purelib)
    fresh_site_packages = Path(purelib.stdout.strip())
    assert fresh_site_packages.is_dir(), f"fresh site-packages {fresh_site_packages} does not exist"
    assert fresh_site_packages.resolve().is_relative_to(fresh.resolve()), fresh_site_packages

    # The fresh venv cannot download its dependencies (no network), so borrow the dev venv's: a .pth file whose
    # line is a plain directory appends that directory to sys.path. site.py processes .pth files only in the
    # site-packages directories it was given (via addsitedir), not in directories a .pth line merely appends, so
    # the dev venv's own __editable__.reelmark-*.pth (which installs a finder pointing at this source tree) is
    # never run. The dev directory also comes after the fresh site-packages on sys.path. So `reelmark` resolves
    # to the installed wheel while av, numpy, click, torch... resolve to the dev venv.
    dev_site_packages = sysconfig.get_paths()["purelib"]
    (fresh_site_packages / "reelmark_test_dev_deps.pth").write_text(dev_site_packages + "\n", encoding="utf-8")

    # Run outside the repository so `python -c` (which puts the cwd on sys.path) cannot pick up the sources.
    outside = tmp_path / "outside"
    outside.mkdir()
    imported = _run(
        [
            fresh_python, "-c",
            "import reelmark.core, reelmark.bridge, reelmark.core.media.probing; print(reelmark.core.__file__)",
        ],
        cwd=outside,
    )
    assert imported.returncode == 0, f"importing the installed packages failed\n{_describe(imported)}"
    core_file = Path(imported.stdout.strip().splitlines()[-1])
    assert core_file.resolve().is_relative_to(fresh.resolve()), (
        f"reelmark.core was imported from {core_file}, not from the fresh venv {fresh}\n{_describe(imported)}"
    )

    reelmark_script = fresh / "bin" / "reelmark"
    assert reelmark_script.exists(), f"the wheel did not install the console script {reelmark_script}"
    version = _run([reelmark_script, "--version"], cwd=outside)
    assert version.returncode == 0, _describe(version)
    assert f"version {reelmark.core.__version__}" in version.stdout, _describe(version)

    from reelmark.core.media.synthetic import ClipSpec, write_clip

    clip = outside / "clip.mp4"
    write_clip(clip, ClipSpec(frame_count=10))
    assert clip.is_file() and clip.stat().st_size > 0, f"write_clip produced no file at {clip}"
    probed = _run([reelmark_script, "probe", clip, "--json"], cwd=outside)
    assert probed.returncode == 0, _describe(probed)
    try:
        report = json.loads(probed.stdout)
    except json.JSONDecodeError as error:
        pytest.fail(f"`reelmark probe --json` did not print JSON ({error})\n{_describe(probed)}")
    assert report.get("video", {}).get("rate") == "25/1", f"unexpected video rate\n{_describe(probed)}"
