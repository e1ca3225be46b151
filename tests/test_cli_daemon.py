"""The CLI through a daemon: `analyze --daemon`, `roundtrip --daemon`, `jobs`, against a real daemon on loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import opentimelineio as otio
import pytest

from reelmark.bridge.markers import reelmark_id
from reelmark.core.client import DaemonProcess, start_daemon_subprocess
from reelmark.core.media.synthetic import ClipTruth
from reelmark.core.results import Analysis

REELMARK = Path(sys.executable).with_name("reelmark")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    with start_daemon_subprocess(tmp_path_factory.mktemp("cli-store") / "store.sqlite3", log=subprocess.DEVNULL) as running:
        yield running


def reelmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REELMARK), *args], capture_output=True, text=True, timeout=180, check=False)


def test_analyze_through_the_daemon_matches_in_process(clips: dict[str, ClipTruth], daemon: DaemonProcess, tmp_path: Path) -> None:
    media = str(clips["cfr25"].path)
    local = reelmark("analyze", media, "--task", "shots", "-o", str(tmp_path / "local.json"))
    remote = reelmark("analyze", media, "--task", "shots", "--daemon", daemon.address, "-o", str(tmp_path / "remote.json"))
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr
    ours = Analysis.from_json((tmp_path / "local.json").read_text())
    theirs = Analysis.from_json((tmp_path / "remote.json").read_text())
    assert [moment.to_dict() for moment in theirs.moments] == [moment.to_dict() for moment in ours.moments]
    jobs = reelmark("jobs", "--daemon", daemon.address)
    assert jobs.returncode == 0 and "succeeded" in jobs.stdout and "cfr25.mp4" in jobs.stdout
    missing = reelmark("analyze", str(tmp_path / "nope.mp4"), "--daemon", daemon.address)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_roundtrip_through_the_daemon(clips: dict[str, ClipTruth], daemon: DaemonProcess, tmp_path: Path) -> None:
    truth = clips["cfr25"]
    reference = otio.schema.ExternalReference(target_url=truth.path.as_uri())
    clip = otio.schema.Clip(name="cfr25", media_reference=reference, source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(100, 25)))  # fmt: skip
    source = tmp_path / "edit.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[otio.schema.Track(children=[clip])]), str(source))
    result = reelmark("roundtrip", str(source), "-o", str(tmp_path / "marked.otio"), "--task", "shots", "--daemon", daemon.address)
    assert result.returncode == 0, result.stderr
    marked = otio.adapters.read_from_file(str(tmp_path / "marked.otio")).find_clips()[0]
    assert sorted(m.marked_range.start_time.value for m in marked.markers if reelmark_id(m) and m.name.startswith("shot")) == [0, 30, 60, 85]
