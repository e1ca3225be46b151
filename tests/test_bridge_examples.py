"""The example scripts for OTIO users run as documented and do what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import opentimelineio as otio

from reelmark.bridge.markers import reelmark_id
from reelmark.core.media.synthetic import ClipTruth

EXAMPLES = Path(__file__).resolve().parent.parent / "bridge" / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=180,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_mark_timeline_clips(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    truth = clips["cfr25"]
    reference = otio.schema.ExternalReference(target_url=truth.path.name)  # relative to the timeline, no range
    clip = otio.schema.Clip(name="cfr25", media_reference=reference, source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(20, 25), otio.opentime.RationalTime(60, 25)))  # fmt: skip
    missing = otio.schema.Clip(name="elsewhere", media_reference=otio.schema.ExternalReference(target_url="file:///gone.mov"),
                               source_range=clip.source_range)  # fmt: skip
    timeline = otio.schema.Timeline(tracks=[otio.schema.Track(children=[clip, missing])])
    source = truth.path.parent / "edit.otio"
    otio.adapters.write_to_file(timeline, str(source))
    first, second = tmp_path / "first.otio", tmp_path / "second.otio"
    output = run_example("mark_timeline_clips.py", str(source), str(first))
    assert "elsewhere: /gone.mov does not exist here" in output and "(0 old ones replaced)" in output
    again = run_example("mark_timeline_clips.py", str(first), str(second), "--media-root", str(truth.path.parent))
    marked = otio.adapters.read_from_file(str(second)).find_clips()[0]
    starts = sorted(marker.marked_range.start_time.value for marker in marked.markers if marker.name.startswith("shot"))
    # The clip's first frame, the generated cuts inside 20–80, then the black that the fade-out (frames 65–80)
    # reaches before the range ends: a shot of its own, as the fade that ends a programme is.
    assert starts[:3] == [20, 30, 60] and len(starts) == 4 and 65 < starts[3] < 80
    assert f"({len(marked.markers)} old ones replaced)" in again


def test_selects_from_query(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    truth = clips["cfr25"]
    output = tmp_path / "selects.otio"
    printed = run_example("selects_from_query.py", "silence", str(output), str(truth.path), "--pad", "0.2")
    assert "1 answers to 'silence'" in printed
    selects = otio.adapters.read_from_file(str(output))
    chosen = selects.find_clips()
    assert [clip.name for clip in chosen] == ["cfr25 · silence 1"]
    # The clip is silent for its first second; the select pads that by 0.2 s, but not before the file's start.
    assert chosen[0].source_range == otio.opentime.TimeRange(otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(30, 25))
    assert any(reelmark_id(marker) for marker in chosen[0].markers)
