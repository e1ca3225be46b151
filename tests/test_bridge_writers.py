"""Analysis → OTIO → each NLE format, read back through the same adapters an NLE user's tools use."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from conftest import CORPUS_MEDIA

from reelmark.bridge.clock import MediaClock
from reelmark.bridge.colours import COLOURS, KIND_COLOURS, colour_for, colour_from_ppro
from reelmark.bridge.formats import FORMATS
from reelmark.bridge.markers import reelmark_id, remove_reelmark_markers
from reelmark.bridge.reading import read_timeline
from reelmark.bridge.timelines import analysis_timeline
from reelmark.bridge.writers import render, write_analysis, write_fcp7xml
from reelmark.core.errors import InvalidRequestError
from reelmark.core.media.fingerprinting import fingerprint
from reelmark.core.media.probing import probe
from reelmark.core.media.synthetic import ClipTruth
from reelmark.core.results import Analysis, Box, EngineRef, MediaRef, Moment, MomentKind, TimeSpan, TubePoint

REELMARK = Path(sys.executable).with_name("reelmark")


def analysis_of(path: Path, moments: list[Moment]) -> Analysis:
    return Analysis(
        MediaRef(str(path), fingerprint(path), probe(path)),
        EngineRef("signals", "test", {"detect_fps": 1}, None),
        tuple(moments),
        created_at=datetime(2026, 11, 21, tzinfo=timezone.utc),
    )


def at(frame: int, rate: Fraction, start: Fraction = Fraction(0)) -> Fraction:
    return start + Fraction(frame) / rate


@pytest.fixture(scope="module")
def debugger_1h() -> Analysis:
    """frame_debugger_1h.mov (24 fps, tmcd 01:00:00:00) with one moment of every kind at known frames."""
    path = CORPUS_MEDIA / "frame_debugger_1h.mov"
    if not path.is_file():
        pytest.skip(f"corpus media missing: {path}")
    rate = Fraction(24)
    box = Box(0.1, 0.2, 0.4, 0.9)
    moments = [
        Moment(kind, TimeSpan(at(10 * index, rate), at(10 * index + 6, rate)), label=f"{kind.value} {index}",
               score=0.5 + index / 100, text=f"about {kind.value}",
               tube=(TubePoint(at(10 * index, rate), box),) if kind in (MomentKind.PERSON, MomentKind.REFRAME) else ())
        for index, kind in enumerate(MomentKind)
    ]  # fmt: skip
    moments.append(Moment(MomentKind.MATCH, TimeSpan(at(3, rate), at(3, rate)), label="point", query="red car"))
    return analysis_of(path, moments)


def test_colour_table_covers_every_kind_in_every_nle() -> None:
    resolve_colours = {"Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                       "Mint", "Lemon", "Sand", "Cocoa", "Cream"}  # fmt: skip
    assert set(KIND_COLOURS) == set(MomentKind)
    for colour in KIND_COLOURS.values():
        assert colour.resolve in resolve_colours
        assert 0 <= colour.premiere_index <= 7
        assert hasattr(otio.schema.MarkerColor, colour.otio)
        assert colour_from_ppro(colour.ppro_color).premiere_index == colour.premiere_index
    assert colour_for(MomentKind.HIGHLIGHT).otio == "GREEN" and colour_for(MomentKind.HIGHLIGHT).ppro_color is None


def test_analysis_timeline_is_timecode_aware(debugger_1h: Analysis) -> None:
    timeline = analysis_timeline(debugger_1h)
    clip = timeline.tracks[0][0]
    reference = clip.media_reference
    assert isinstance(reference, otio.schema.ExternalReference)
    assert reference.target_url == (CORPUS_MEDIA / "frame_debugger_1h.mov").resolve().as_uri()
    assert reference.available_range == otio.opentime.TimeRange(otio.opentime.RationalTime(86400, 24), otio.opentime.RationalTime(120, 24))
    assert timeline.global_start_time == otio.opentime.RationalTime(86400, 24)
    assert [track.kind for track in timeline.tracks] == ["Video", "Audio"]  # the file has sound
    markers = {marker.name: marker for marker in clip.markers}
    assert "reframe 4" not in markers  # crop paths are clip metadata, not markers
    person = markers["person 7"]
    assert person.marked_range == otio.opentime.TimeRange(otio.opentime.RationalTime(86470, 24), otio.opentime.RationalTime(6, 24))
    assert person.color == "ORANGE" and person.comment.startswith("about person · score 0.57 · [reelmark m-")
    own = person.metadata["reelmark"]
    assert own["kind"] == "person" and own["engine"] == "signals" and own["fingerprint"] == debugger_1h.media.fingerprint
    assert list(own["tube"][0]["box"]) == [0.1, 0.2, 0.4, 0.9]
    point = markers["point"]
    assert point.marked_range.duration.value == 0 and "query: red car" in point.comment
    reframe = clip.metadata["reelmark"]["reframe"]
    assert reframe[0]["start_frame"] == 86400 + 40 and reframe[0]["keyframes"][0]["frame"] == 86440
    assert reframe[0]["keyframes"][0]["centre"] == pytest.approx([0.25, 0.55])


def test_resolve_shape_follows_each_rule(debugger_1h: Analysis, tmp_path: Path) -> None:
    path = write_analysis(debugger_1h, tmp_path / "resolve.otio", "resolve-otio")
    data = json.loads(path.read_text())
    clip = data["tracks"]["children"][0]["children"][0]
    assert clip["OTIO_SCHEMA"] == "Clip.2"  # rule 1: Clip.2 ...
    assert list(clip["media_references"]) == ["DEFAULT_MEDIA"] and clip["active_media_reference_key"] == "DEFAULT_MEDIA"
    reference = clip["media_references"]["DEFAULT_MEDIA"]
    assert reference["target_url"] == str((CORPUS_MEDIA / "frame_debugger_1h.mov").resolve())  # rule 2: bare path
    assert not reference["target_url"].startswith("file:")
    assert reference["available_range"]["start_time"]["value"] == 86400  # rule 3: available range from timecode
    assert clip["source_range"]["start_time"] == {"OTIO_SCHEMA": "RationalTime.1", "rate": 24.0, "value": 86400.0}  # rule 4
    assert all(marker["OTIO_SCHEMA"] == "Marker.2" for marker in clip["markers"])
    assert data["global_start_time"]["value"] == 86400  # rule 5
    assert "file:" in write_analysis(debugger_1h, tmp_path / "plain.otio", "otio").read_text()  # plain OTIO keeps URLs


def test_fcp7_xml_reads_back_with_names_frames_comments_and_colours(debugger_1h: Analysis, tmp_path: Path) -> None:
    path = write_analysis(debugger_1h, tmp_path / "premiere.xml", "fcp7xml")
    text = path.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>')
    back = read_timeline(path).root
    clip = back.tracks[0][0]
    expected = {marker.name: marker for marker in analysis_timeline(debugger_1h).tracks[0][0].markers}
    assert len(clip.markers) == len(expected)
    for marker in clip.markers:
        wanted = expected[marker.name]
        # Read back timecode-absolute, like the clip's range (the file holds frames from the start of the media).
        assert marker.marked_range.start_time.value == wanted.marked_range.start_time.value
        assert marker.color == colour_for(MomentKind(wanted.metadata["reelmark"]["kind"])).otio.replace("PINK", "PURPLE").replace("MAGENTA", "PURPLE").replace("BLACK", "WHITE")
        assert marker.marked_range.duration.value == wanted.marked_range.duration.value
        assert marker.metadata["fcp_xml"]["comment"] == wanted.comment
        kind = MomentKind(wanted.metadata["reelmark"]["kind"])
        assert colour_from_ppro(marker.metadata["fcp_xml"].get("pproColor")).premiere_index == colour_for(kind).premiere_index
        assert reelmark_id(marker) == wanted.metadata["reelmark"]["id"]
    # Premiere counts clip marker frames from the start of the file (timecode 01:00:00:00 is frame 0); a point
    # marker has out -1; the elements come in the order of Premiere's own exports.
    assert re.search(r"<comment>[^<]*</comment>\s*<name>point</name>\s*<in>3</in>\s*<out>-1</out>\s*<pproColor>", text)


def test_fcp7_writer_writes_user_markers_by_the_same_rule() -> None:
    clip = otio.schema.Clip(name="c", source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(50, 25)))
    clip.markers.append(otio.schema.Marker(name="mine", marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(5, 25), otio.opentime.RationalTime(0, 25))))
    track = otio.schema.Track()
    track.append(clip)
    timeline = otio.schema.Timeline(tracks=[track])
    back = otio.adapters.read_from_string(write_fcp7xml(timeline), "fcp_xml")
    marker = back.find_clips()[0].markers[0]
    assert (marker.name, marker.marked_range.start_time.value) == ("mine", 5)
    assert marker.metadata["fcp_xml"]["pproColor"] == str(COLOURS["RED"].ppro_color)  # its colour, as for ours
    assert not clip.markers[0].metadata  # the input timeline is not changed


def test_edl_keeps_loc_markers_with_ids(debugger_1h: Analysis, tmp_path: Path) -> None:
    path = write_analysis(debugger_1h, tmp_path / "cut.edl", "edl")
    lines = [line for line in path.read_text().splitlines() if line.startswith("* LOC:")]
    assert len(lines) == len(analysis_timeline(debugger_1h).tracks[0][0].markers)
    assert any(re.match(r"\* LOC: 01:00:02:22 ORANGE\s+PERSON 7 \[REELMARK M-[0-9A-F]{16}\]$", line) for line in lines)
    back = read_timeline(path).root
    assert all(reelmark_id(marker) for marker in back.find_clips()[0].markers)


def test_fcpxml_keeps_markers_and_their_ids(debugger_1h: Analysis, tmp_path: Path) -> None:
    path = write_analysis(debugger_1h, tmp_path / "fcp.fcpxml", "fcpxml")
    back = read_timeline(path).root
    video = next(track for track in back.tracks if track.kind == "Video")
    markers = video[0].markers
    assert len(markers) == len(analysis_timeline(debugger_1h).tracks[0][0].markers)
    highlight = next(marker for marker in markers if marker.name.startswith("highlight"))
    assert highlight.color == "GREEN" and reelmark_id(highlight)
    assert highlight.marked_range.start_time.to_frames() == 86400 + 20


def test_drop_frame_clip_exact_in_every_format(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    """30000/1001 with drop-frame timecode 00:59:59;28: every marker lands on its exact frame in every format."""
    truth = clips["ntsc_df"]
    rate = Fraction(30000, 1001)
    info = probe(truth.path)
    start = info.video.start
    moments = [Moment(MomentKind.SHOT, TimeSpan(at(frame, rate, start), at(frame + 5, rate, start)), label=f"shot at {frame}")
               for frame in (0, 7, 19)]  # fmt: skip
    analysis = analysis_of(truth.path, moments)
    origin = MediaClock.from_probe(info).timecode_frame
    assert otio.opentime.to_timecode(otio.opentime.RationalTime(origin, 30000 / 1001), 30000 / 1001) == "00:59:59;28"
    expected = {f"shot at {frame}": origin + frame for frame in (0, 7, 19)}
    for fmt in ("otio", "resolve-otio"):
        back = read_timeline(write_analysis(analysis, tmp_path / f"df-{fmt}{FORMATS[fmt].extension}", fmt)).root
        clip = next(track for track in back.tracks if track.kind == "Video")[0]
        found = {marker.name.split(" [")[0]: marker.marked_range.start_time.to_frames() for marker in clip.markers}
        assert found == expected, fmt
    fcp = read_timeline(write_analysis(analysis, tmp_path / "df.xml", "fcp7xml")).root.tracks[0][0]
    assert {marker.name: marker.marked_range.start_time.value for marker in fcp.markers} == expected
    assert {int(value) for value in re.findall(r"<in>(\d+)</in>\s*<out>", (tmp_path / "df.xml").read_text())} >= {
        frame - origin for frame in expected.values()
    }  # in the file: frames from the start of the media, as Premiere counts them
    assert "<ntsc>TRUE</ntsc>" in (tmp_path / "df.xml").read_text()
    fcpxml = write_analysis(analysis, tmp_path / "df.fcpxml", "fcpxml").read_text()
    assert 'frameDuration="1001/30000s"' in fcpxml
    starts = {Fraction(value.removesuffix("s")) for value in re.findall(r'<marker start="([^"]+)"', fcpxml)}
    assert starts == {Fraction(frame) / rate for frame in expected.values()}  # exact seconds of the exact frames
    edl = write_analysis(analysis, tmp_path / "df.edl", "edl").read_text()
    assert "* LOC: 00:59:59;28 BLUE    SHOT AT 0" in edl and "* LOC: 01:00:00;05 BLUE    SHOT AT 7" in edl


def test_failed_render_leaves_no_file(debugger_1h: Analysis, tmp_path: Path) -> None:
    target = tmp_path / "reel.otio"
    target.write_text("the previous good file")
    with pytest.raises(InvalidRequestError, match="no highlight moments"):
        write_analysis(debugger_1h.with_moments(debugger_1h.of_kind("shot")), target, "otio", "highlights")
    assert target.read_text() == "the previous good file"
    assert [path.name for path in tmp_path.iterdir()] == ["reel.otio"]
    with pytest.raises(InvalidRequestError, match="unknown format 'aaf'"):
        render(debugger_1h, "aaf")


def test_cli_analyze_writes_premiere_xml(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    output = tmp_path / "cfr25.xml"
    result = subprocess.run([str(REELMARK), "analyze", str(clips["cfr25"].path), "--task", "shots", "-o", str(output)],
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "as fcp7xml" in result.stderr
    clip = read_timeline(output).root.tracks[0][0]
    starts = sorted(marker.marked_range.start_time.value for marker in clip.markers if marker.name.startswith("shot"))
    assert starts == [0, 30, 60, 85]  # the generated clip's cuts, in frames
    saved = tmp_path / "cfr25.json"
    subprocess.run([str(REELMARK), "analyze", str(clips["cfr25"].path), "--task", "shots", "-o", str(saved)], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    exported = subprocess.run([str(REELMARK), "export", str(saved), "-o", str(tmp_path / "cfr25.edl")],
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "cfr25.edl").read_text().count(" BLUE    SHOT ") == 4


def test_reelmark_markers_are_recognised_wherever_a_format_kept_the_id() -> None:
    moment_id = "m-0123456789abcdef"
    carriers = [
        otio.schema.Marker(metadata={"reelmark": {"id": moment_id}}),
        otio.schema.Marker(comment=f"loud · [reelmark {moment_id}]"),
        otio.schema.Marker(name=f"SHOT 1 [REELMARK {moment_id.upper()}]"),
        otio.schema.Marker(metadata={"fcp_xml": {"comment": f"x [reelmark {moment_id}]"}}),
        otio.schema.Marker(metadata={"Resolve_OTIO": {"Note": "x", "customData": f"reelmark:{moment_id}"}}),
    ]
    assert [reelmark_id(marker) for marker in carriers] == [moment_id] * len(carriers)
    users = [
        otio.schema.Marker(name="reelmark idea", comment="talk about [reelmark] later"),
        otio.schema.Marker(metadata={"notes": ["see reelmark:m-123"]}),
    ]
    assert [reelmark_id(marker) for marker in users] == [None, None]
    clip = otio.schema.Clip(markers=[users[0], carriers[1], users[1], carriers[2]])
    assert remove_reelmark_markers(clip) == 2
    assert [marker.name for marker in clip.markers] == ["reelmark idea", ""]
