"""Round trips: every corpus timeline in, the same timeline out, plus reelmark's markers where media was found.

Two checks per file. Against the adapter itself: the output, with reelmark's markers taken out, equals what the
same adapter writes from the unmodified input (so reelmark adds markers and changes nothing else). Against the
original file: clip names, ranges and the user's markers are the same, wherever the adapter's own write keeps
them. Media the timelines name is not on this machine; tests give it by name through --media-root (symlinks to
generated clips), exactly as a user whose footage moved would.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from conftest import CORPUS
from otio_structure import as_data, clip_view

from reelmark.bridge.markers import reelmark_id
from reelmark.bridge.reading import read_timeline
from reelmark.bridge.roundtrip import CachedAnalyser, roundtrip
from reelmark.bridge.writers import render_timeline
from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.errors import TimelineFormatError
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.results import Analysis
from reelmark.core.tasks import Task

TIMELINES = CORPUS / "timelines"
OUTPUT_FORMAT = {"otio": "otio", "fcp7xml": "fcp7xml", "edl": "edl", "fcpxml": "fcpxml", "aaf": "otio"}
EXTENSION = {"otio": ".otio", "fcp7xml": ".xml", "edl": ".edl", "fcpxml": ".fcpxml"}
REELMARK = Path(sys.executable).with_name("reelmark")


def corpus_timelines() -> list[Path]:
    return sorted(path for path in TIMELINES.glob("*/*") if path.is_file()) if TIMELINES.is_dir() else []


@pytest.fixture(autouse=True)
def _quiet_aaf_adapter() -> None:
    # The AAF reader logs a warning per zero-length Fraction it meets; they say nothing about reelmark.
    logging.getLogger().setLevel(logging.ERROR)


def signals(tasks: tuple[Task, ...] = (Task.SHOTS,)) -> CachedAnalyser:
    engine = get_engine("signals")
    return CachedAnalyser(lambda request: engine.analyze(AnalysisRequest(request.media, tasks, (), request.start, request.end)))


def refuse_analysis(request: AnalysisRequest) -> Analysis:
    raise AssertionError(f"no clip of this timeline should be analysed, got {request.media}")


@pytest.fixture(scope="module")
def media_30fps(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """14 s at 30 fps with cuts at frames 90, 200 and 330: stands in for the corpus timelines' 30 fps media."""
    folder = tmp_path_factory.mktemp("media30")
    return write_clip(folder / "source.mov", ClipSpec(rate=Fraction(30), frame_count=420, width=160, height=88, cuts=(90, 200, 330), gop=15))


def media_root_with(tmp_path: Path, target: Path, *names: str) -> Path:
    root = tmp_path / "footage"
    root.mkdir(exist_ok=True)
    for name in names:
        (root / name).symlink_to(target)
    return root


@pytest.mark.parametrize("source", corpus_timelines(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_corpus_round_trip_changes_nothing_without_media(source: Path, tmp_path: Path) -> None:
    original = read_timeline(source)
    fmt = OUTPUT_FORMAT[original.format]
    output = tmp_path / f"out{EXTENSION[fmt]}"
    report = roundtrip(source, output, refuse_analysis, output_format=None if original.format != "aaf" else "otio")
    assert report.output_format == fmt and output.is_file()
    if original.format != "fcpxml":  # FCPXML is read element by element (bridge.fcpxml_patch), events included
        assert len(report.clips) == sum(len(timeline.find_clips()) for timeline in original.timelines)
    missing = [clip for clip in report.clips if clip.status == "missing media"]
    assert all(clip.detail for clip in missing)
    assert report.count("marked") == 0 and report.count("failed") == 0
    back = read_timeline(output, original.edl_rate)
    if original.format in ("edl", "fcp7xml", "fcpxml"):
        assert output.read_bytes() == source.read_bytes()  # patched, not regenerated: nothing to add, nothing changes
        return
    baseline_file = tmp_path / f"baseline{EXTENSION[fmt]}"
    baseline_file.write_bytes(render_timeline(original.root, fmt, original.edl_rate))
    baseline = read_timeline(baseline_file, original.edl_rate)
    assert as_data(back.root) == as_data(baseline.root)
    if clip_view(baseline.root) == clip_view(original.root):
        assert clip_view(back.root) == clip_view(original.root)


def test_lossless_formats_are_identical_after_a_round_trip(tmp_path: Path) -> None:
    """OTIO JSON loses nothing, so the round trip of every .otio file is the input exactly."""
    sources = sorted((TIMELINES / "otio").glob("*.otio")) if TIMELINES.is_dir() else []
    if not sources:
        pytest.skip(f"the corpus timelines are not at {TIMELINES}")
    for source in sources:
        output = tmp_path / source.name
        roundtrip(source, output, refuse_analysis)
        assert as_data(read_timeline(output).root) == as_data(read_timeline(source).root), source.name


def test_premiere_xml_gets_markers_on_found_clips_and_keeps_everything_else(media_30fps: ClipTruth, tmp_path: Path) -> None:
    source = TIMELINES / "fcp7xml" / "premiere_example.xml"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    names = ("sc01_sh010_anim.mov", "sc01_sh020_anim.mov", "sc01_sh030_anim.mov")
    root = media_root_with(tmp_path, media_30fps.path, *names)
    output = tmp_path / "marked.xml"
    analyser = signals()
    report = roundtrip(source, output, analyser, media_roots=(root,))
    marked = [clip for clip in report.clips if clip.status == "marked"]
    assert {clip.clip for clip in marked} == set(names)
    assert all(clip.added > 0 for clip in marked)
    assert analyser.calls < len(marked), "clips that use the same range of the same file are analysed once"
    assert [clip.status for clip in report.clips if clip.clip == "test_title"] == ["skipped"]
    assert any(clip.status == "missing media" and "sc01_master_layerA_sh030_temp.mov" in clip.detail for clip in report.clips)

    original, back = read_timeline(source), read_timeline(output)
    assert clip_view(back.root) == clip_view(original.root)
    assert as_data(back.root.tracks.markers) == as_data(original.root.tracks.markers)
    cut_frames = {Fraction(frame) for frame in (90, 200, 330)}
    for clip in back.root.find_clips():
        ours = [marker for marker in clip.markers if reelmark_id(marker)]
        if clip.name not in names or not ours:
            continue
        used = clip.source_range
        starts = {Fraction(marker.marked_range.start_time.value) for marker in ours}
        # Shot markers start at the clip's first frame or exactly on a cut inside it (media-relative frames).
        inside = {frame for frame in cut_frames if used.start_time.value < frame < used.end_time_exclusive().value}
        assert inside <= starts
        assert all(marker.metadata["fcp_xml"]["comment"].endswith(f"[reelmark {reelmark_id(marker)}]") for marker in ours)


def test_a_second_round_trip_replaces_reelmark_markers_and_keeps_the_users(media_30fps: ClipTruth, tmp_path: Path) -> None:
    source = tmp_path / "edit.otio"
    timeline = otio.schema.Timeline(name="edit", global_start_time=otio.opentime.RationalTime(0, 30))
    track = otio.schema.Track(name="V1")
    reference = otio.schema.ExternalReference(
        target_url=media_30fps.path.as_uri(),
        available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 30), otio.opentime.RationalTime(420, 30)),
    )
    clip = otio.schema.Clip(name="cam A", media_reference=reference,
                            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(60, 30), otio.opentime.RationalTime(240, 30)))  # fmt: skip
    clip.markers.append(otio.schema.Marker(name="director likes this", marked_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(100, 30), otio.opentime.RationalTime(0, 30)), color="YELLOW", comment="keep"))  # fmt: skip
    track.append(clip)
    track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(30, 30))))
    timeline.tracks.append(track)
    otio.adapters.write_to_file(timeline, str(source))

    first, second = tmp_path / "first.otio", tmp_path / "second.otio"
    roundtrip(source, first, signals())
    report = roundtrip(first, second, signals())
    once, twice = read_timeline(first).root, read_timeline(second).root
    assert report.clips[0].replaced == report.clips[0].added > 0
    assert as_data(once) == as_data(twice)
    marked = twice.find_clips()[0]
    users = [marker for marker in marked.markers if reelmark_id(marker) is None]
    assert [(marker.name, marker.comment, marker.color) for marker in users] == [("director likes this", "keep", "YELLOW")]
    starts = sorted(marker.marked_range.start_time.value for marker in marked.markers if reelmark_id(marker))
    assert starts[0] == 60 and {90, 200} <= set(starts) and max(starts) < 300  # inside the clip, on the cuts
    assert isinstance(twice.tracks[0][1], otio.schema.Gap)


def test_drop_frame_aaf_keeps_exact_frames(tmp_path: Path) -> None:
    """The corpus AAF is 29.97 drop frame; its clip, marked from a 30000/1001 clip, gets markers on exact frames."""
    source = TIMELINES / "aaf" / "2997fps-DFTC.aaf"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    media = write_clip(tmp_path / "df.mov", ClipSpec(rate=Fraction(30000, 1001), frame_count=3000, width=160, height=88,
                                                     cuts=(900, 2100), timecode="00:59:59;28", gop=30))  # fmt: skip
    root = media_root_with(tmp_path, media.path, "58982c7f-78b3-4cf9-8432-729fc4eafd55.mov")
    output = tmp_path / "df.otio"
    report = roundtrip(source, output, signals(), media_roots=(root,))
    assert report.count("marked") == 1
    back = read_timeline(output).root
    original = read_timeline(source).root
    assert back.global_start_time == original.global_start_time  # 05:00:00;00 drop frame, exactly
    assert otio.opentime.to_timecode(back.global_start_time, 30000 / 1001) == "05:00:00;00"
    video = back.tracks[0][0]
    ours = sorted((marker.marked_range.start_time.value, marker.marked_range.duration.value) for marker in video.markers)
    assert ours == [(0, 900), (900, 1200), (2100, 889)]  # the cuts, exact; the last shot ends with the clip
    assert all(Fraction(marker.marked_range.start_time.rate).limit_denominator(1001) == Fraction(30000, 1001)
               for marker in video.markers)  # fmt: skip


def test_aaf_output_is_refused_before_any_work(tmp_path: Path) -> None:
    source = TIMELINES / "aaf" / "one_clip.aaf"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    with pytest.raises(TimelineFormatError, match="drops markers"):
        roundtrip(source, tmp_path / "out.aaf", refuse_analysis)
    assert not list(tmp_path.iterdir())


def test_cli_round_trip_reports_each_clip(media_30fps: ClipTruth, tmp_path: Path) -> None:
    source = TIMELINES / "otio" / "simple_cut.otio"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    root = media_root_with(tmp_path, media_30fps.path, "wind-up.mov")
    output = tmp_path / "marked.otio"
    result = subprocess.run(
        [str(REELMARK), "roundtrip", str(source), "-o", str(output), "--media-root", str(root), "--task", "shots"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "4 clips: 1 marked, 3 missing media" in result.stderr
    assert "/folder/titles.mov does not exist here" in result.stderr
    marked = {clip.name: clip for clip in read_timeline(output).root.find_clips()}
    assert any(reelmark_id(marker) for marker in marked["Clip-002"].markers)
    assert not any(clip.markers for name, clip in marked.items() if name != "Clip-002")
    resolve = tmp_path / "resolve.otio"
    converted = subprocess.run([str(REELMARK), "roundtrip", str(output), "-o", str(resolve), "--format", "resolve-otio"],
                               capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    assert '"DEFAULT_MEDIA"' in resolve.read_text()
    bad = subprocess.run([str(REELMARK), "roundtrip", str(tmp_path / "nope.xml"), "-o", str(tmp_path / "x.xml")],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert bad.returncode == 1 and "no such timeline file" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
