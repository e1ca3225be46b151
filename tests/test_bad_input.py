"""Bad input gets a typed error with a clear message from every entry point: never a hang, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from reelmark.core.errors import (
    EmptyMediaError,
    MediaNotFoundError,
    NoVideoStreamError,
    NotAMediaFileError,
    ReelmarkError,
    UnreadableMediaError,
)
from reelmark.core.media import fingerprint, probe, read_audio, read_subtitles, sample_frames
from reelmark.core.media.synthetic import ClipTruth

REELMARK = Path(sys.executable).with_name("reelmark")


@pytest.fixture()
def bad_files(clips: dict[str, ClipTruth], tmp_path: Path) -> dict[str, tuple[Path, type[ReelmarkError], str]]:
    """Each bad input, the error it must raise, and words its message must contain."""
    truncated = tmp_path / "truncated.mp4"
    data = clips["cfr25"].path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # index (moov) at the end: gone
    text = tmp_path / "notes.mp4"
    text.write_text("These are my edit notes, not a video.\n" * 20)
    empty = tmp_path / "empty.mov"
    empty.touch()
    garbage = tmp_path / "garbage.mkv"  # a zip archive renamed: fixed bytes (random ones can hold valid MP3 frames)
    with zipfile.ZipFile(garbage, "w", zipfile.ZIP_DEFLATED) as archive:
        for take in range(20):
            archive.writestr(f"take_{take}.txt", f"scene {take} notes " * 400)
    folder = tmp_path / "footage"
    folder.mkdir()
    timeline = tmp_path / "cut.edl"
    timeline.write_text("TITLE: cut\nFCM: NON-DROP FRAME\n\n001  A001  V  C  01:00:00:00 01:00:02:00 00:00:00:00 00:00:02:00\n")
    bundle = tmp_path / "Cut.fcpxmld"  # Final Cut Pro's timeline bundle: a folder
    bundle.mkdir()
    return {
        "missing": (tmp_path / "nowhere.mp4", MediaNotFoundError, "no such file"),
        "directory": (folder, NotAMediaFileError, "is a directory"),
        "truncated": (truncated, UnreadableMediaError, "FFmpeg cannot read"),
        "text": (text, UnreadableMediaError, "FFmpeg cannot read"),
        "empty": (empty, EmptyMediaError, "empty (0 bytes)"),
        "garbage": (garbage, UnreadableMediaError, "FFmpeg cannot read"),
        "timeline": (timeline, UnreadableMediaError, "is a timeline, not media; to analyse the clips it uses, run `reelmark roundtrip"),
        "bundle": (bundle, NotAMediaFileError, "is a timeline, not media"),
    }


ENTRY_POINTS: dict[str, Callable[[Path], object]] = {
    "probe": probe,
    "sample_frames": lambda path: list(sample_frames(path, fps=1)),
    "read_audio": lambda path: list(read_audio(path)),
    "read_subtitles": read_subtitles,
    "fingerprint": fingerprint,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", ["missing", "directory", "truncated", "text", "empty", "garbage", "timeline", "bundle"])
def test_every_entry_point_raises_typed_errors(bad_files: dict, case: str, entry: str) -> None:
    path, error_type, words = bad_files[case]
    if entry == "fingerprint" and error_type is UnreadableMediaError:
        pytest.skip("fingerprint hashes bytes and never decodes, so a corrupt file has a fingerprint")
    with pytest.raises(error_type, match=re.escape(words)) as raised:
        ENTRY_POINTS[entry](path)
    assert str(path.name) in str(raised.value)


def test_the_timeline_hint_knows_every_timeline_the_round_trip_reads() -> None:
    """The media layer cannot ask the bridge which files are timelines (it sits below it), so it keeps its own list;
    this keeps the two the same."""
    from reelmark.bridge.formats import FCPXML_BUNDLE
    from reelmark.bridge.reading import READABLE
    from reelmark.core.media.container import TIMELINE_SUFFIXES

    assert set(TIMELINE_SUFFIXES) == {*READABLE, FCPXML_BUNDLE}


@pytest.mark.timeout(20)
def test_a_named_pipe_does_not_hang(tmp_path: Path) -> None:
    """FFmpeg would block forever opening a FIFO with no writer; reelmark refuses it up front."""
    pipe = tmp_path / "stream.mp4"
    os.mkfifo(pipe)
    with pytest.raises(NotAMediaFileError, match="not a regular file"):
        probe(pipe)


def test_audio_only_file_is_fine_to_probe_but_has_no_frames(clips: dict[str, ClipTruth]) -> None:
    path = clips["audio_only"].path
    assert probe(path).video is None
    with pytest.raises(NoVideoStreamError):
        sample_frames(path, fps=1)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", ["missing", "directory", "truncated", "text", "empty", "garbage", "timeline", "bundle"])
def test_cli_says_one_line_and_exits_non_zero(bad_files: dict, case: str) -> None:
    """Acceptance: the CLI exits non-zero with one line on stderr, no traceback, for each bad input."""
    path, _, words = bad_files[case]
    for command in (["probe", str(path)], ["analyze", str(path)]):
        result = subprocess.run([str(REELMARK), *command], capture_output=True, text=True, timeout=60, check=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1, result.stderr
        assert len(lines) == 1 and lines[0].startswith("reelmark: error: "), result.stderr
        assert words in lines[0] and "Traceback" not in result.stderr
        assert result.stdout == ""
