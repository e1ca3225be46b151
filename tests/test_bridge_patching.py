"""Round trips that patch the original document: EDL and FCP7 XML change only in reelmark's own markers.

Also: EDL locators in record time (a clip whose source and record timecodes differ), drop-frame EDLs re-read
with their rate, frame-rate conforming, file modes, and a run that goes on past a clip that fails.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from conftest import CORPUS, CORPUS_MEDIA
from test_bridge_roundtrip import media_30fps, media_root_with, refuse_analysis, signals

from reelmark.bridge.edl import events_of
from reelmark.bridge.markers import reelmark_id
from reelmark.bridge.rates import conform_rate
from reelmark.bridge.reading import read_timeline
from reelmark.bridge.roundtrip import roundtrip
from reelmark.bridge.writers import render
from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.engines.signals.audio_features import _window_means
from reelmark.core.errors import ReelmarkError
from reelmark.core.files import write_atomically
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.results import Analysis
from reelmark.core.tasks import Task
from reelmark.core.times import timecode_to_frames

__all__ = ["media_30fps"]  # a fixture, imported for pytest

REELMARK = Path(sys.executable).with_name("reelmark")
_REELMARK_LOC = re.compile(rb"^\* LOC: .*\[REELMARK M-[0-9A-F]{16}\]\r?\n", re.MULTILINE)
_REELMARK_MARKER = re.compile(rb"^[ \t]*<marker>(?:(?!</marker>).)*\[reelmark m-[0-9a-f]{16}\](?:(?!</marker>).)*</marker>\r?\n",
                              re.MULTILINE | re.DOTALL)  # fmt: skip


@pytest.fixture(scope="module")
def media_24fps_1h(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """12 s at 24 fps, source timecode 01:00:00:00, cuts at frames 60, 150 and 200."""
    folder = tmp_path_factory.mktemp("media24")
    spec = ClipSpec(rate=Fraction(24), frame_count=288, width=160, height=88, cuts=(60, 150, 200), gop=12, timecode="01:00:00:00")
    return write_clip(folder / "cam.mov", spec)


# Source and record timecodes differ; an AA/V event, FROM FILE and FCM lines, blank lines and a user's
# locator, all of which the adapter's writer would drop or change.
EDL = """TITLE:   patch test
FCM: NON-DROP FRAME

001  CAM      AA/V  C        01:00:02:00 01:00:06:00 10:00:00:00 10:00:04:00
* FROM CLIP NAME:  cam.mov
* FROM FILE: /elsewhere/cam.mov
* LOC: 10:00:01:00 YELLOW  DIRECTOR NOTE

002  CAM      V     C        01:00:07:00 01:00:09:00 10:00:04:00 10:00:06:00
* FROM CLIP NAME:  cam.mov
"""


def test_edl_round_trip_patches_loc_lines_in_record_time(media_24fps_1h: ClipTruth, tmp_path: Path) -> None:
    source = tmp_path / "cut.edl"
    source.write_text(EDL)
    root = media_root_with(tmp_path, media_24fps_1h.path, "cam.mov")
    output = tmp_path / "marked.edl"
    report = roundtrip(source, output, signals(), media_roots=(root,))
    assert report.count("marked") == 2, report.summary()
    data = output.read_bytes()
    assert _REELMARK_LOC.sub(b"", data) == source.read_bytes()  # byte for byte, but for reelmark's LOC lines
    lines = data.decode().splitlines()
    events = events_of(lines, Fraction(24))
    ours = 0
    for event in events:
        for line in lines[event.line : event.end]:
            if line.startswith("* LOC:") and "[REELMARK" in line:
                frame = timecode_to_frames(line.split()[2], 24)
                assert event.record_in <= frame < event.record_out, line  # record time, inside its event
                ours += 1
    assert ours >= 3  # both clips' first frames, and the cut at frame 60 (01:00:02:12) inside the first
    assert "* LOC: 10:00:00:12 BLUE" in data.decode()  # source 01:00:02:12 is record 10:00:00:12
    back = read_timeline(output)
    first = back.root.find_clips()[0]
    user = [marker for marker in first.markers if reelmark_id(marker) is None]
    assert [(marker.name, marker.marked_range.start_time.value) for marker in user] == [("DIRECTOR NOTE", 86400 + 48 + 24)]
    again = tmp_path / "again.edl"
    roundtrip(output, again, signals(), media_roots=(root,))
    assert again.read_bytes() == data  # a second run replaces reelmark's lines with the same ones


def test_analysis_edl_starts_at_the_source_timecode(tmp_path: Path) -> None:
    media = CORPUS_MEDIA / "frame_debugger_1h.mov"
    if not media.is_file():
        pytest.skip(f"corpus media missing: {media}")
    analysis = get_engine("signals").analyze(AnalysisRequest(media, (Task.SHOTS, Task.HIGHLIGHTS)))
    edl = render(analysis, "edl", "analysis").decode()
    assert re.search(r"^001 .* 01:00:00:00 01:00:05:00 01:00:00:00 01:00:05:00$", edl, re.MULTILINE), edl
    assert "FCM: NON-DROP FRAME" in edl
    xml = render(analysis, "fcp7xml", "analysis").decode()
    assert "<string>01:00:00:00</string>" in xml  # the EDL's record start and the XML's sequence start agree


def test_drop_frame_edl_reads_back_with_its_rate(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    truth = clips["ntsc_df"]
    analysis = get_engine("signals").analyze(AnalysisRequest(truth.path, (Task.SHOTS,)))
    path = tmp_path / "df.edl"
    path.write_bytes(render(analysis, "edl"))
    text = path.read_text()
    assert "FCM: DROP FRAME" in text and "00:59:59;28" in text
    back = read_timeline(path)  # no rate given: FCM and ';' say 30000/1001
    assert back.edl_rate == Fraction(30000, 1001)
    marker = next(marker for marker in back.root.find_clips()[0].markers if reelmark_id(marker))
    assert marker.marked_range.start_time.to_timecode(30000 / 1001, True) == "00:59:59;28"


def test_fcp7_round_trip_patches_only_reelmark_markers(media_30fps: ClipTruth, tmp_path: Path) -> None:
    source = CORPUS / "timelines" / "fcp7xml" / "premiere_example.xml"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    root = media_root_with(tmp_path, media_30fps.path, "sc01_sh010_anim.mov", "sc01_sh020_anim.mov", "sc01_sh030_anim.mov")
    output = tmp_path / "marked.xml"
    report = roundtrip(source, output, signals(), media_roots=(root,))
    assert report.count("marked") >= 3 and not report.notes, report.summary()
    data = output.read_bytes()
    assert len(_REELMARK_MARKER.findall(data)) == sum(clip.added for clip in report.clips)
    assert _REELMARK_MARKER.sub(b"", data) == source.read_bytes()  # byte for byte, but for reelmark's markers
    assert re.search(rb"<marker>\s*<comment>[^<]*\[reelmark m-[0-9a-f]{16}\]</comment>\s*<name>[^<]*</name>\s*<in>\d+</in>\s*<out>", data)
    again = tmp_path / "again.xml"
    roundtrip(output, again, signals(), media_roots=(root,))
    assert again.read_bytes() == data


def test_aaf_to_fcp7_puts_user_markers_in_media_frames(tmp_path: Path) -> None:
    """AAF clip markers are timecode-absolute; FCP7 counts from the media's start: one rule for every marker."""
    source = CORPUS / "timelines" / "aaf" / "multiple_markers.aaf"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    output = tmp_path / "out.xml"
    roundtrip(source, output, refuse_analysis)
    text = output.read_text()
    magenta = re.search(r"<name>MAGENTA: V4[^<]*</name>\s*<in>(-?\d+)</in>\s*<out>\d+</out>\s*<pproColor>(\d+)</pproColor>", text)
    assert magenta and magenta.group(1) == "0"  # timecode 01:00:00:00 of a file starting there is its frame 0
    assert magenta.group(2) == "4289825711"  # its colour (Premiere's purple stands in for magenta)


@pytest.mark.parametrize(
    ("rate", "fmt", "written"),
    [
        (Fraction(25, 2), "edl", Fraction(25)), (Fraction(10), "fcp7xml", Fraction(30)), (Fraction(15), "edl", Fraction(30)),
        (Fraction(179, 6), "edl", Fraction(30)), (Fraction(179, 6), "fcpxml", Fraction(30)),
        (Fraction(15000, 1001), "fcp7xml", Fraction(30000, 1001)), (Fraction(16), "fcpxml", Fraction(24)),
        (Fraction(48), "edl", Fraction(48)), (Fraction(50), "fcpxml", Fraction(50)),
        (Fraction(60000, 1001), "fcpxml", Fraction(60000, 1001)), (Fraction(120), "edl", Fraction(60)),
        (Fraction(100), "fcp7xml", Fraction(50)), (Fraction(120000, 1001), "edl", Fraction(60000, 1001)),
    ],
)  # fmt: skip
def test_each_format_writes_a_rate_it_holds(rate: Fraction, fmt: str, written: Fraction) -> None:
    assert conform_rate(rate, fmt) == written


def test_files_honour_the_umask_and_keep_a_replaced_files_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        new = write_atomically(tmp_path / "new.xml", "a")
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
        new.chmod(0o604)
        write_atomically(new, "b")
        assert stat.S_IMODE(new.stat().st_mode) == 0o604 and new.read_text() == "b"
    finally:
        os.umask(old)


def test_audio_features_of_less_than_one_hop() -> None:
    assert _window_means(np.zeros(0), 40, 480).shape == (0,)


def _timeline_with_a_short_clip_and_a_missing_file(media: Path, path: Path) -> None:
    track = otio.schema.Track(name="V1")
    for name, url, start, frames in (("short", media.as_uri(), 30, 2), ("gone", "file:///nowhere/gone.mov", 0, 30),
                                      ("long", media.as_uri(), 60, 150)):  # fmt: skip
        track.append(otio.schema.Clip(
            name=name, media_reference=otio.schema.ExternalReference(target_url=url),
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(start, 30), otio.opentime.RationalTime(frames, 30)),
        ))  # fmt: skip
    otio.adapters.write_to_file(otio.schema.Timeline(name="t", tracks=[track]), str(path))


def test_a_failing_clip_is_reported_and_the_rest_marked(media_30fps: ClipTruth, tmp_path: Path) -> None:
    source = tmp_path / "edit.otio"
    _timeline_with_a_short_clip_and_a_missing_file(media_30fps.path, source)
    engine = get_engine("signals")

    def flaky(request: AnalysisRequest) -> Analysis:
        if request.start and request.start * 30 == 30:
            raise RuntimeError("engine bug")
        return engine.analyze(AnalysisRequest(request.media, (Task.SHOTS,), (), request.start, request.end))

    output = tmp_path / "out.otio"
    report = roundtrip(source, output, flaky)
    assert [(clip.clip, clip.status) for clip in report.clips] == [("short", "failed"), ("gone", "missing media"), ("long", "marked")]
    assert "RuntimeError: engine bug" in report.clips[0].detail and output.is_file()


def test_cli_round_trip_of_a_two_frame_clip_and_an_unwritable_folder(media_30fps: ClipTruth, tmp_path: Path) -> None:
    source = tmp_path / "edit.otio"
    _timeline_with_a_short_clip_and_a_missing_file(media_30fps.path, source)
    output = tmp_path / "out.otio"
    result = subprocess.run([str(REELMARK), "roundtrip", str(source), "-o", str(output), "--task", "shots", "--task", "highlights"],
                            capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert re.search(r"^marked\s+\d+\s+short", result.stderr, re.MULTILINE), result.stderr  # 2 frames: marked, no crash
    assert re.search(r"^missing media\s+-\s+gone", result.stderr, re.MULTILINE)
    assert sum(1 for clip in read_timeline(output).root.find_clips() if any(reelmark_id(m) for m in clip.markers)) == 2
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root writes anywhere on disk; /proc takes no new files from anyone
    target = Path("/proc/reelmark-out.otio") if os.geteuid() == 0 else locked / "out.otio"
    try:
        result = subprocess.run([str(REELMARK), "roundtrip", str(source), "-o", str(target)],
                                capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    finally:
        locked.chmod(0o700)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot write" in result.stderr


def test_unwritable_output_fails_before_any_analysis(media_30fps: ClipTruth, tmp_path: Path) -> None:
    source = tmp_path / "edit.otio"
    _timeline_with_a_short_clip_and_a_missing_file(media_30fps.path, source)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ReelmarkError, match="cannot write"):
        roundtrip(source, blocker / "out.otio", refuse_analysis)  # refuse_analysis would fail the test if called


_FCPXML_OURS = re.compile(rb"^[ \t]*<marker [^>]*\[reelmark m-[0-9a-f]{16}\]\"/>\r?\n", re.MULTILINE)
_FCPXML_OPENED = re.compile(rb"(<(asset-clip|clip) [^<>]*)>\r?\n[ \t]*</\2>")


def test_fcpxml_round_trip_marks_every_clip_in_the_document(media_30fps: ClipTruth, tmp_path: Path) -> None:
    """Projects, compound clips and event clips outside any project; everything else byte for byte."""
    source = CORPUS / "timelines" / "fcpxml" / "fcpx_example.fcpxml"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    names = [f"IMG_{number}.MOV" for number in ("0233", "0268", "0513", "0687", "0715", "0740", "0857", "0858")]
    root = media_root_with(tmp_path, media_30fps.path, *names)
    output = tmp_path / "marked.fcpxml"
    report = roundtrip(source, output, signals(), media_roots=(root,))
    assert report.count("failed") == 0 and report.count("missing media") == 0, report.summary()
    assert {clip.timeline for clip in report.clips if clip.status == "marked"} >= {
        "event OpenTimeline_Event", "project OpenTimeline_Project", "compound clip compound_clip_1"
    }
    assert all(clip.detail for clip in report.clips if clip.status == "skipped")
    data = output.read_bytes()
    assert len(_FCPXML_OURS.findall(data)) == sum(clip.added for clip in report.clips)
    # Outside reelmark's markers, the only change is an empty element opened to hold them.
    restored = _FCPXML_OPENED.sub(rb"\1/>", _FCPXML_OURS.sub(b"", data))
    assert restored == source.read_bytes()
    back = read_timeline(output)  # the adapter still reads it, with our markers on its clips
    assert any(reelmark_id(marker) for clip in back.root.find_clips() for marker in clip.markers)
    again = tmp_path / "again.fcpxml"
    roundtrip(output, again, signals(), media_roots=(root,))
    assert again.read_bytes() == data


def test_fcpxml_event_clips_are_reported_when_the_output_cannot_hold_them(tmp_path: Path) -> None:
    source = CORPUS / "timelines" / "fcpxml" / "fcpx_example.fcpxml"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    report = roundtrip(source, tmp_path / "out.otio", refuse_analysis)
    outside = [clip for clip in report.clips if clip.timeline.startswith("event")]
    assert outside and all(clip.status == "skipped" and "outside any project" in clip.detail for clip in outside)


@pytest.mark.parametrize("fmt", ["otio", "fcp7xml"])
def test_audio_only_timeline_gets_audio_moments(clips: dict[str, ClipTruth], fmt: str, tmp_path: Path) -> None:
    """A clip of sound alone (no picture on a video track) is analysed for speech, silence and loudness."""
    truth = clips["audio_only"]
    track = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    track.append(otio.schema.Clip(
        name="voice", media_reference=otio.schema.ExternalReference(target_url=truth.path.as_uri()),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(100, 25)),
    ))  # fmt: skip
    source = tmp_path / "sound.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(name="sound", tracks=[track]), str(source))
    output = tmp_path / f"out{'.otio' if fmt == 'otio' else '.xml'}"
    report = roundtrip(source, output, get_engine("signals").analyze)
    assert [clip.status for clip in report.clips] == ["marked"], report.summary()
    markers = [marker for marker in read_timeline(output).root.find_clips()[0].markers if reelmark_id(marker)]
    assert len(markers) == report.clips[0].added > 0
    silence = [marker for marker in markers if "silence" in marker.name.lower()]
    assert silence and silence[0].marked_range.start_time.value == 0  # the generated clip is silent for its first second


def _media_names(source: Path) -> set[str]:
    """Every file name the timeline uses for its media (URL basenames, or clip names that look like files)."""
    names = set()
    for clip in read_timeline(source).root.find_clips():
        reference = clip.media_reference
        url = getattr(reference, "target_url", "") or ""
        for candidate in (url.replace("\\", "/").rsplit("/", 1)[-1], clip.name):
            if Path(candidate).suffix and "/" not in candidate:
                names.add(candidate)
    return names


PATCHED_TIMELINES = sorted((CORPUS / "timelines" / "edl").glob("*.edl")) + sorted((CORPUS / "timelines" / "fcp7xml").glob("*.xml"))


@pytest.mark.parametrize("source", PATCHED_TIMELINES or [Path("no corpus")], ids=lambda path: path.name)
def test_corpus_edl_and_xml_round_trips_change_only_reelmark_markers(source: Path, media_24fps_1h: ClipTruth,
                                                                      tmp_path: Path) -> None:  # fmt: skip
    """Every clip's media found (one generated clip stands in for all); byte for byte but for reelmark's markers."""
    if not source.is_file():
        pytest.skip(f"corpus timelines missing: {source}")
    root = media_root_with(tmp_path, media_24fps_1h.path, *_media_names(source))
    output = tmp_path / f"marked{source.suffix}"
    report = roundtrip(source, output, signals(), media_roots=(root,))
    assert not report.notes, report.notes
    data = output.read_bytes()
    ours = _REELMARK_LOC if source.suffix == ".edl" else _REELMARK_MARKER
    assert len(ours.findall(data)) == sum(clip.added for clip in report.clips)
    assert ours.sub(b"", data) == source.read_bytes()
    again = tmp_path / f"again{source.suffix}"
    roundtrip(output, again, signals(), media_roots=(root,))
    assert again.read_bytes() == data


def test_cli_offers_the_timecode_mismatch_opt_in(tmp_path: Path) -> None:
    source = CORPUS / "timelines" / "edl" / "25fps.edl"
    if not source.is_file():
        pytest.skip(f"corpus timeline missing: {source}")
    command = [str(REELMARK), "roundtrip", str(source), "--edl-rate", "30", "-o", str(tmp_path / "out.otio")]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 1 and "--ignore-timecode-mismatch" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    accepted = subprocess.run([*command, "--ignore-timecode-mismatch"], capture_output=True, text=True, timeout=120, check=False)
    assert accepted.returncode == 0, accepted.stderr
    assert (tmp_path / "out.otio").is_file()


FCPXML_110 = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>

<fcpxml version="1.10">
    <resources>
        <format id="r1" name="FFVideoFormat30p" frameDuration="1/30s" width="160" height="88"/>
        <asset id="r2" name="source" uid="S1" start="0s" duration="14s" hasVideo="1" format="r1">
            <media-rep kind="original-media" sig="S1" src="Media/source.mov"/>
        </asset>
    </resources>
    <library>
        <event name="Day 1">
            <project name="Cut">
                <sequence format="r1" duration="9s" tcStart="0s" tcFormat="NDF">
                    <spine>
                        <asset-clip ref="r2" offset="0s" name="opening" start="2s" duration="5s" tcFormat="NDF"/>
                        <asset-clip ref="r2" offset="5s" name="ending" start="10s" duration="4s" tcFormat="NDF"/>
                    </spine>
                </sequence>
            </project>
        </event>
    </library>
</fcpxml>
"""
"""What Final Cut Pro exports as FCPXML 1.10 (Apple's "FCPXML Reference", DTD 1.10): each asset names its file in a
`media-rep` child, not a `src` attribute; here relative to the document, inside its bundle."""


def _fcpxml_bundle(folder: Path, media: Path) -> Path:
    """A `.fcpxmld` bundle (Apple's "FCPXML Bundle Reference"): Info.fcpxml at its root, the media beside it."""
    bundle = folder / "Cut.fcpxmld"
    (bundle / "Media").mkdir(parents=True)
    (bundle / "Media" / "source.mov").symlink_to(media)
    (bundle / "Info.fcpxml").write_text(FCPXML_110)
    return bundle


def test_an_fcpxml_bundle_with_media_reps_is_read_marked_and_written_back(media_30fps: ClipTruth, tmp_path: Path) -> None:
    """Final Cut Pro's current export: a bundle folder, assets whose file is in `media-rep`. The FCPX adapter read
    every such clip as missing media (it reads `src` only), and a bundle was refused as not a file. Now it is read
    with its files, marked into another format and into a bundle again, and a second run replaces our markers."""
    bundle = _fcpxml_bundle(tmp_path, media_30fps.path)
    loaded = read_timeline(bundle)
    assert [clip.media_reference.target_url for clip in loaded.root.find_clips()] == ["Media/source.mov"] * 2
    report = roundtrip(bundle, tmp_path / "cut.otio", signals())
    assert [clip.status for clip in report.clips] == ["marked", "marked"], report.summary()
    marked = tmp_path / "marked.fcpxmld"
    report = roundtrip(bundle, marked, signals())
    assert report.count("marked") == 2, report.summary()
    data = (marked / "Info.fcpxml").read_bytes()
    assert len(_FCPXML_OURS.findall(data)) == sum(clip.added for clip in report.clips) > 0
    assert _FCPXML_OPENED.sub(rb"\1/>", _FCPXML_OURS.sub(b"", data)) == FCPXML_110.encode()
    # Again, into the bundle it wrote (a folder now): our markers are replaced, not doubled. The written bundle
    # holds no media, so the media root says where it is.
    cli = subprocess.run(
        [str(REELMARK), "roundtrip", str(marked), "-o", str(marked), "--task", "shots", "--media-root", str(bundle / "Media")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "2 marked" in cli.stdout + cli.stderr
    assert (marked / "Info.fcpxml").read_bytes() == data
