"""The acceptance matrix: every corpus media file × every output format × every timeline kind.

Each cell is written and read back through the format's adapter (reelmark's reader), and every reelmark marker
must come back on its frame: exactly where the format holds the media's rate, within half a frame of the rate the
format was given where it does not (`reelmark.bridge.rates`). A cell the format cannot hold must fail with a
`ReelmarkError` (one line at the CLI, INVALID_ARGUMENT or FAILED_PRECONDITION from the daemon), never anything
else. Each file is analysed once (shots, highlights, split: the signals engine's cheap tasks) for the module.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from conftest import CORPUS_MEDIA
from test_daemon_support import start_daemon

from reelmark.bridge.clock import MediaClock
from reelmark.bridge.formats import FORMATS, TIMELINE_KINDS, timeline_formats
from reelmark.bridge.markers import reelmark_id
from reelmark.bridge.rates import FORMAT_RATES, conform_rate
from reelmark.bridge.reading import read_timeline
from reelmark.bridge.roundtrip import roundtrip
from reelmark.bridge.timelines import TIMELINES
from reelmark.bridge.writers import render
from reelmark.core.client import DaemonClient
from reelmark.core.daemon.errors import StatusError
from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.errors import ReelmarkError
from reelmark.core.results import Analysis
from reelmark.core.tasks import Task
from reelmark.core.times import from_rational_time

__all__ = ["start_daemon"]  # a fixture, imported for pytest

REELMARK = Path(sys.executable).with_name("reelmark")
TASKS = (Task.SHOTS, Task.HIGHLIGHTS, Task.SPLIT)
MEDIA = sorted(CORPUS_MEDIA.glob("*")) if CORPUS_MEDIA.is_dir() else []


@pytest.fixture(scope="module")
def analyses() -> dict[str, Analysis]:
    if not MEDIA:
        pytest.skip(f"corpus media missing: {CORPUS_MEDIA}")
    engine = get_engine("signals")
    return {path.name: engine.analyze(AnalysisRequest(path, TASKS)) for path in MEDIA}


def expected_markers(timeline: otio.schema.Timeline) -> dict[tuple[int, str], Fraction]:
    """(clip index on the video track, moment id) → marker start in seconds, as the analysis placed it."""
    video = next(track for track in timeline.tracks if track.kind == otio.schema.TrackKind.Video)
    return {
        (index, reelmark_id(marker)): from_rational_time(marker.marked_range.start_time)
        for index, clip in enumerate(video.find_clips(shallow_search=True))
        for marker in clip.markers
    }


def written_rate(analysis: Analysis, fmt: str) -> Fraction:
    rate = MediaClock.from_probe(analysis.media.probe).rate
    return conform_rate(rate, fmt) if fmt in FORMAT_RATES else rate


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("kind", TIMELINE_KINDS)
@pytest.mark.parametrize("media", [path.name for path in MEDIA] or ["no corpus"])
def test_every_file_in_every_format_and_timeline(analyses: dict[str, Analysis], media: str, fmt: str, kind: str,
                                                  tmp_path: Path) -> None:  # fmt: skip
    analysis = analyses[media]
    try:
        built = TIMELINES[kind](analysis)
    except ReelmarkError as error:  # no highlight or segment moments: one clear line that says what to run
        assert "\n" not in str(error) and "--task" in str(error)
        if fmt != "json":
            with pytest.raises(ReelmarkError):
                render(analysis, fmt, kind)
        return
    data = render(analysis, fmt, kind)
    path = tmp_path / f"cell{FORMATS[fmt].extension}"
    path.write_bytes(data)
    if fmt == "json":
        assert Analysis.from_json(data.decode("utf-8")) == analysis
        return
    rate = written_rate(analysis, fmt)
    back = read_timeline(path, rate if fmt == "edl" else None)
    assert len(back.timelines) == 1
    found = expected_markers(back.timelines[0])
    wanted = expected_markers(built)
    assert set(found) == set(wanted), f"{media} {fmt} {kind}: markers lost or added"
    tolerance = Fraction(1, 2) / rate
    off = {key: float(found[key] - wanted[key]) for key in wanted if abs(found[key] - wanted[key]) > tolerance}
    assert not off, f"{media} {fmt} {kind}: markers off their frames by (s) {off}"
    if fmt == "edl" and rate in (Fraction(30000, 1001), Fraction(60000, 1001)):
        assert read_timeline(path).edl_rate == rate  # drop-frame says its rate: FCM and ';' (EDLs state no other)


@pytest.mark.parametrize("fmt", ["fcp7xml", "edl", "fcpxml"])
def test_cli_exports_a_non_smpte_rate(analyses: dict[str, Analysis], fmt: str, tmp_path: Path) -> None:
    """car-detection.mp4 is 12.5 fps: it once ended in a 60-line traceback for every NLE format."""
    source = tmp_path / "car.json"
    source.write_text(analyses["car-detection.mp4"].to_json())
    output = tmp_path / f"car{FORMATS[fmt].extension}"
    result = subprocess.run([str(REELMARK), "export", str(source), "-o", str(output)], capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and output.stat().st_size > 0


def test_cli_refusal_is_one_line(analyses: dict[str, Analysis], tmp_path: Path) -> None:
    without = next((name for name, analysis in analyses.items() if not analysis.of_kind("highlight")), None)
    if without is None:
        pytest.skip("every corpus file got highlights; no cell to refuse")
    source = tmp_path / "a.json"
    source.write_text(analyses[without].to_json())
    result = subprocess.run([str(REELMARK), "export", str(source), "--timeline", "highlights", "-o", str(tmp_path / "r.edl")],
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("reelmark: error:") and "--task highlights" in result.stderr


def test_daemon_export_answers_format_limits_without_internal(start_daemon, tmp_path: Path) -> None:
    media = CORPUS_MEDIA / "car-detection.mp4"
    if not media.is_file():
        pytest.skip(f"corpus media missing: {media}")
    daemon = start_daemon()
    with DaemonClient(daemon.address) as client:
        job = client.start(AnalysisRequest(media, (Task.SHOTS,)))
        analysis_id = list(client.watch(job.id))[-1].job.analysis_id
        for fmt in FORMATS:
            exported = client.export(analysis_id, fmt)
            assert exported.content, fmt
        with pytest.raises(StatusError) as refused:
            client.export(analysis_id, "edl", timeline="highlights")
        assert refused.value.status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION")


TIMELINE_FILES = sorted(path for path in (CORPUS_MEDIA.parent / "timelines").glob("*/*") if path.is_file())


@pytest.mark.parametrize("fmt", timeline_formats())
@pytest.mark.parametrize("source", TIMELINE_FILES or [Path("no corpus")], ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_corpus_timeline_in_every_format(source: Path, fmt: str, tmp_path: Path) -> None:
    """A round trip to any format writes the file, saying what it lost, or refuses in one line before analysing."""
    if not source.is_file():
        pytest.skip(f"corpus timelines missing: {source}")
    output = tmp_path / f"out{FORMATS[fmt].extension}"

    def refuse(request: AnalysisRequest) -> Analysis:
        raise AssertionError(f"the corpus media is not here; nothing should be analysed ({request.media})")

    try:
        report = roundtrip(source, output, refuse, output_format=fmt)
    except ReelmarkError as error:
        assert "\n" not in str(error) and not output.exists()
        return
    assert output.is_file() and report.count("marked") == 0
    assert all("\n" not in note for note in report.notes)
