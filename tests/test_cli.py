"""The `reelmark` command line: probe output, analyze's contract until engines land, help, demo, start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from reelmark.core import __version__
from reelmark.core.cli import cli
from reelmark.core.media.synthetic import ClipTruth

REELMARK = Path(sys.executable).with_name("reelmark")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REELMARK), *args], capture_output=True, text=True, timeout=120, check=False)


def test_probe_report_shows_exact_rate_and_timecode(corpus: Path) -> None:
    result = run("probe", str(corpus / "frame_debugger_1h.mov"))
    assert result.returncode == 0, result.stderr
    assert "24/1 fps CFR, 120 frames (exact)" in result.stdout
    assert "01:00:00:00 (tmcd track) = frame 86400" in result.stdout
    assert "audio #1" in result.stdout


def test_probe_json_is_the_media_model(corpus: Path) -> None:
    result = run("probe", str(corpus / "bottle-detection.mp4"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["video"]["rate"] == "179/6"
    assert Fraction(data["duration"]["value"], data["duration"]["rate"]) == Fraction(456576, 11456)


def test_probe_does_not_load_torch_or_transformers(clips: dict[str, ClipTruth]) -> None:
    """Heavy imports are lazy: `reelmark probe` must not pay for torch or transformers."""
    script = (
        "import sys\nfrom reelmark.core.cli import main\n"
        f"sys.argv = ['reelmark', 'probe', {str(clips['longgop'].path)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.strip().splitlines()[-1] == "False False", result.stderr


def test_vlm_without_a_usable_model_fails_in_one_line(clips: dict[str, ClipTruth]) -> None:
    """No GPU here: the vlm engine says how to fix it; with a GPU, the missing model folder is named."""
    vlm = run("analyze", str(clips["cfr25"].path), "--engine", "vlm", "--model", "/models/none")
    assert vlm.returncode == 1 and len(vlm.stderr.strip().splitlines()) == 1
    assert "--param device=cpu" in vlm.stderr or "/models/none" in vlm.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "ground"], "--task ground needs at least one --query"),
        (["--engine", "vlm"], "--engine vlm needs --model"),
        (["--start", "soon"], "is not a time"),
        (["--task", "juggle"], "Invalid value for '--task'"),
        (["--format", "avi"], "Invalid value for '--format'"),
    ],
)
def test_analyze_usage_errors_exit_2(clips: dict[str, ClipTruth], args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(clips["cfr25"].path), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_analyze_checks_the_range_against_the_media(clips: dict[str, ClipTruth]) -> None:
    result = run("analyze", str(clips["cfr25"].path), "--start", "00:01:00")
    assert result.returncode == 1
    assert "past the end" in result.stderr


@pytest.mark.parametrize("command", [[], ["probe"], ["analyze"], ["demo"]])
def test_help_is_complete(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output
    if command == ["analyze"]:
        for option in ("--engine", "--task", "--query", "--start", "--end", "--model", "--output", "--format"):
            assert option in result.output
        for task in ("shots", "highlights", "split", "reframe", "ground", "track", "describe"):
            assert task in result.output


BROKEN_PROBE = """
import sys
import reelmark.core.media.probing
from reelmark.core.cli import main

def broken(*args, **kwargs):
    raise RuntimeError("the decoder\\nfell over")  # a message of two lines

reelmark.core.media.probing.probe = broken
sys.argv = ["reelmark", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_an_unforeseen_error_is_one_line_and_verbose_shows_where(clips: dict[str, ClipTruth], verbose: bool) -> None:
    """An error no code path names (here probing raises a plain RuntimeError with a two-line message, in a real
    `reelmark` process) is still one line that says what to do, not a traceback; with -v the traceback is logged
    for the report."""
    flags = ["-v"] if verbose else []
    result = subprocess.run(
        [sys.executable, "-c", BROKEN_PROBE, *flags, "probe", str(clips["cfr25"].path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "reelmark: error: unexpected RuntimeError: the decoder fell over. This is a bug in reelmark;" in result.stderr
    if verbose:
        assert "the traceback above says where it happened" in result.stderr
        traceback = result.stderr[result.stderr.index("Traceback") :]
        assert "in broken" in traceback and "RuntimeError: the decoder\nfell over" in traceback
    else:
        assert len(result.stderr.strip().splitlines()) == 1
        assert "run the same command with -v" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_demo_writes_and_probes_a_clip(tmp_path: Path) -> None:
    result = run("demo", "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "reelmark-demo.mp4").is_file()
    assert "25/1 fps CFR, 300 frames (exact)" in result.stdout
    assert "01:00:00:00 (tmcd track) = frame 90000" in result.stdout
    assert "mov_text" in result.stdout
    for name in ("reelmark-demo.json", "reelmark-demo-resolve.otio", "reelmark-demo.xml"):
        assert f"wrote {tmp_path / name}" in result.stdout and (tmp_path / name).stat().st_size > 0
    assert "<!DOCTYPE xmeml>" in (tmp_path / "reelmark-demo.xml").read_text()
