"""probe(): exact rates, CFR/VFR, frame counts, start offsets, timecode, rotation, streams, sidecars."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelmark.core.media import MediaInfo, probe
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.report import format_probe
from reelmark.core.times import exact_rate


def test_frame_debugger_matches_its_labels(corpus: Path, corpus_labels: dict) -> None:
    """Acceptance: 24/1 fps, 120 frames, start timecode 01:00:00:00 (Resolve frame 86400) and audio."""
    label = corpus_labels["files"]["media/frame_debugger_1h.mov"]
    info = probe(corpus / "frame_debugger_1h.mov")
    assert info.video is not None
    assert info.video.rate == Fraction(label["rate"])
    assert info.video.rate_mode == "cfr"
    assert (info.video.frame_count, info.video.frame_count_exact) == (label["frames"], True)
    assert info.video.timecode == label["start_timecode"]
    assert info.video.timecode_source == "tmcd track"
    assert info.video.timecode_frame == label["resolve_source_start_frame"]
    assert bool(info.audio) is label["audio"]
    assert info.duration == Fraction(label["frames"]) / Fraction(label["rate"])


def test_odd_rate_stays_exact(corpus: Path) -> None:
    """Acceptance: bottle-detection.mp4 is 179/6 fps, not a rounded float, in the object and in JSON."""
    info = probe(corpus / "bottle-detection.mp4")
    assert info.video is not None
    assert info.video.rate == Fraction(179, 6)
    assert info.to_dict()["video"]["rate"] == "179/6"


def test_matroska_probes_with_its_start_offset(corpus: Path) -> None:
    """Acceptance: again.mkv (Matroska) probes; its video starts at 33 ms and holds no frame count header."""
    info = probe(corpus / "again.mkv")
    assert info.container.startswith("matroska")
    assert info.video is not None
    assert info.video.start == Fraction(33, 1000)
    assert info.video.frame_count == 77 and info.video.frame_count_exact
    assert info.video.duration == Fraction(77, 30) or abs(info.video.duration - Fraction(77, 30)) < Fraction(1, 100)


@pytest.mark.parametrize("name", ["bigbuckbunny.mp4", "car-detection.mp4", "one-by-one-person-detection.mp4"])
def test_corpus_rates_are_exact_and_json_round_trips(corpus: Path, name: str) -> None:
    info = probe(corpus / name)
    assert info.video is not None
    assert info.video.rate == exact_rate(info.video.rate)
    assert MediaInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info


def test_generated_cfr_clip(clips: dict[str, ClipTruth]) -> None:
    truth = clips["cfr25"]
    info = probe(truth.path)
    assert info.video is not None
    assert (info.video.rate, info.video.rate_mode) == (Fraction(25), "cfr")
    assert (info.video.frame_count, info.video.frame_count_exact) == (truth.spec.frame_count, True)
    assert info.video.keyframe_interval == Fraction(truth.spec.gop or 0, 25)
    assert info.video.duration == truth.duration
    assert [stream.codec for stream in info.subtitles] == ["mov_text"]
    assert info.subtitles[0].is_text
    assert info.primary_audio is not None and info.primary_audio.sample_rate == truth.spec.audio_rate
    assert info.primary_audio.channels == 1


def test_ntsc_rate_and_tmcd_timecode(clips: dict[str, ClipTruth]) -> None:
    info = probe(clips["ntsc"].path)
    assert info.video is not None
    assert info.video.rate == Fraction(30000, 1001)
    assert info.video.timecode == "01:00:00:00"
    assert info.video.timecode_source == "tmcd track"
    assert info.video.timecode_frame == 108000  # non-drop counts 30 labels a second


def test_drop_frame_timecode(clips: dict[str, ClipTruth]) -> None:
    info = probe(clips["ntsc_df"].path)
    assert info.video is not None
    assert info.video.timecode == "00:59:59;28"
    assert info.video.timecode_frame == 107890  # two frames before 01:00:00;00 = 107892


def test_matroska_timecode_tag(clips: dict[str, ClipTruth]) -> None:
    info = probe(clips["mkv"].path)
    assert info.video is not None
    assert (info.video.timecode, info.video.timecode_source) == ("10:00:00:00", "stream tag")
    assert [stream.codec for stream in info.subtitles] == ["srt"]


def test_variable_frame_rate_is_detected(clips: dict[str, ClipTruth]) -> None:
    truth = clips["vfr"]
    info = probe(truth.path)
    assert info.video is not None
    assert info.video.rate_mode == "vfr"
    assert info.video.frame_count == truth.spec.frame_count
    assert info.video.duration == truth.duration
    for name in ("cfr25", "ntsc", "longgop"):
        other = probe(clips[name].path).video
        assert other is not None and other.rate_mode == "cfr"


def test_rotation_from_the_display_matrix(clips: dict[str, ClipTruth]) -> None:
    info = probe(clips["rotated"].path)
    assert info.video is not None
    assert info.video.rotation == 90
    assert info.video.display_size == (180, 320)


def test_pixel_aspect_from_the_sample_aspect_ratio(clips: dict[str, ClipTruth]) -> None:
    """Narrow stored pixels shown wide: the pixel aspect is the sample aspect ratio, turned with the picture, and 1
    where the stream gives none (FFmpeg's 0:1); `reelmark probe` says how the picture is shown."""
    info = probe(clips["anamorphic"].path)
    assert info.video is not None
    assert (info.video.display_size, info.video.sample_aspect_ratio) == ((240, 180), Fraction(4, 3))
    assert info.video.pixel_aspect == Fraction(4, 3)
    assert "pixel aspect 4:3 (shown 320x180)" in format_probe(info)
    assert replace(info.video, rotation=90).pixel_aspect == Fraction(3, 4)
    assert replace(info.video, sample_aspect_ratio=Fraction(0)).pixel_aspect == 1
    square = probe(clips["rotated"].path)
    assert square.video is not None and square.video.pixel_aspect == 1
    assert "pixel aspect" not in format_probe(square)


def test_raw_dv_gets_its_frame_rate_not_its_clock(tmp_path: Path) -> None:
    """A raw PAL DV file (a tape capture's `.dv`): FFmpeg's demuxer gives its 1/60000 time base as the average
    rate; the rate is the packets' 25 fps, and the frame count and timecode follow from it."""
    path = tmp_path / "capture.dv"
    with av.open(str(path), "w", format="dv") as container:
        stream = container.add_stream("dvvideo", rate=25)
        stream.width, stream.height, stream.pix_fmt = 720, 576, "yuv420p"
        for index in range(10):
            picture = np.full((576, 720, 3), 20 * index, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    info = probe(path)
    assert info.video is not None
    assert info.video.time_base == Fraction(1, 60000)
    assert (info.video.rate, info.video.rate_mode, info.video.frame_count) == (25, "cfr", 10)
    assert info.duration == Fraction(10, 25)
    assert info.video.pixel_aspect == Fraction(16, 15)  # PAL DV's 4:3 picture in 720×576
    assert info.video.timecode_frame == 0


@pytest.mark.parametrize(("rate", "frame"), [(120, 432000), (15, 54000)])
def test_timecode_at_a_rate_otio_has_no_timecode_for(tmp_path: Path, rate: int, frame: int) -> None:
    """A 120 fps slow-motion or 15 fps clip with a timecode tag: counted in whole frames a second (OTIO's
    from_timecode refuses these rates, and probing such a clip used to end in a traceback)."""
    truth = write_clip(tmp_path / f"tc{rate}.mov", ClipSpec(rate=Fraction(rate), frame_count=10, timecode="01:00:00:00"))
    info = probe(truth.path)
    assert info.video is not None
    assert info.video.timecode in ("01:00:00:00", "01:00:00:000")  # FFmpeg writes three frame digits above 99 fps
    assert info.video.timecode_frame == frame


def test_audio_only_file_probes_without_video(clips: dict[str, ClipTruth]) -> None:
    truth = clips["audio_only"]
    info = probe(truth.path)
    assert info.video is None
    assert len(info.audio) == 1
    assert info.duration is not None and abs(info.duration - truth.duration) < Fraction(1, 10)


def test_count_frames_reads_every_packet(corpus: Path) -> None:
    info = probe(corpus / "one-by-one-person-detection.mp4", count_frames=True)
    assert info.video is not None
    assert (info.video.frame_count, info.video.frame_count_exact) == (1394, True)


def test_sidecar_subtitles_are_listed(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    media = tmp_path / "interview.mp4"
    shutil.copy(clips["longgop"].path, media)
    for name in ("interview.srt", "interview.en.vtt", "interview.final.cut.srt", "other.srt"):
        (tmp_path / name).write_text("")
    found = [Path(path).name for path in probe(media).sidecar_subtitles]
    assert found == ["interview.en.vtt", "interview.srt"]
