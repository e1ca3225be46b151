"""Subtitle cues: embedded mov_text and subrip streams, sidecar SRT and WebVTT, all with exact times."""

from __future__ import annotations

import codecs
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core.errors import SubtitleFormatError
from reelmark.core.media import read_subtitles
from reelmark.core.media.subtitles import clean_cue_text, read_sidecar
from reelmark.core.media.synthetic import ClipTruth


@pytest.mark.parametrize("name", ["cfr25", "mkv"])
def test_embedded_cues_have_exact_times_and_text(clips: dict[str, ClipTruth], name: str) -> None:
    truth = clips[name]
    cues = read_subtitles(truth.path)
    assert [(cue.start, cue.end, cue.text) for cue in cues] == [(cue.start, cue.end, cue.text) for cue in truth.subtitles]
    assert all(cue.source.startswith("stream:") for cue in cues)


def test_sidecars_are_read_beside_embedded_cues(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    media = tmp_path / "talk.mp4"
    shutil.copy(clips["longgop"].path, media)
    (tmp_path / "talk.srt").write_text(
        "1\n00:00:01,250 --> 00:00:02,000\n<i>Hello</i> there\n\n2\n00:00:03,000 --> 00:00:03,500\nBye\n",
        encoding="utf-8",
    )
    (tmp_path / "talk.de.vtt").write_text(
        "WEBVTT\n\n00:00.500 --> 00:01.125\n<v Anna>Guten Tag\n", encoding="utf-8"
    )
    cues = read_subtitles(media)
    assert [(cue.start, cue.end, cue.text, cue.language) for cue in cues] == [
        (Fraction(1, 2), Fraction(9, 8), "Guten Tag", "de"),
        (Fraction(5, 4), Fraction(2), "Hello there", None),
        (Fraction(3), Fraction(7, 2), "Bye", None),
    ]


def test_malformed_sidecar_gets_a_typed_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.srt"
    broken.write_text("1\n00:00:01,000 --> nonsense\nHello\n", encoding="utf-8")
    with pytest.raises(SubtitleFormatError, match="not valid SRT"):
        read_sidecar(broken)
    broken_vtt = tmp_path / "broken.vtt"
    broken_vtt.write_text("no header here\n", encoding="utf-8")
    with pytest.raises(SubtitleFormatError, match="not valid WebVTT"):
        read_sidecar(broken_vtt)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_sidecars_in_each_encoding_windows_tools_save_are_decoded(tmp_path: Path, encoding: str) -> None:
    """Windows-1252 (older Western files) and, with their byte-order mark, UTF-16 and UTF-32 ("Unicode" in
    Windows tools); UTF-16 was read as Windows-1252 and refused as invalid SRT."""
    sidecar = tmp_path / "old.srt"
    text = "1\r\n00:00:00,000 --> 00:00:01,000\r\nCaf\u00e9 cr\u00e8me\r\n"
    sidecar.write_bytes(codecs.BOM_UTF16_BE + text.encode(encoding) if encoding == "utf-16-be" else text.encode(encoding))
    assert read_sidecar(sidecar)[0].text == "Caf\u00e9 cr\u00e8me"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("{\\i1}word{\\i0}", "word"), ("one\\Ntwo", "one\ntwo"), ("<b>bold</b> and <font color='red'>red</font>", "bold and red"), ("  ", "")],
)
def test_markup_is_stripped(raw: str, clean: str) -> None:
    assert clean_cue_text(raw) == clean


def test_webvtt_inline_timestamps_become_word_times(tmp_path: Path) -> None:
    sidecar = tmp_path / "karaoke.vtt"
    sidecar.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Anna>The <00:00:01.500><c>guest</c> <00:00:02.000>explains "
        "<00:00:03.250>pricing\n\n00:00:05.000 --> 00:00:06.000\nno word timing here\n",
        encoding="utf-8",
    )
    timed, plain = read_sidecar(sidecar)
    assert timed.text == "The guest explains pricing"
    assert timed.words == (
        (Fraction(1), "The"), (Fraction(3, 2), "guest"), (Fraction(2), "explains"), (Fraction(13, 4), "pricing"),
    )  # fmt: skip
    assert plain.words == ()


def test_sidecars_that_lead_outside_the_media_folder_are_skipped(clips: dict[str, ClipTruth], tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    folder, outside = tmp_path / "media", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    media = folder / "talk.mp4"
    shutil.copy(clips["longgop"].path, media)
    secret = outside / "secret.srt"
    secret.write_text("1\n00:00:01,000 --> 00:00:02,000\nSECRET LINE\n", encoding="utf-8")
    (folder / "talk.srt").symlink_to(secret)
    (folder / "talk.en.srt").symlink_to(outside, target_is_directory=True)
    (folder / "talk.de.srt").symlink_to(tmp_path / "dangling.srt")
    inside = folder / "real.srt"
    inside.write_text("1\n00:00:03,000 --> 00:00:04,000\nInside\n", encoding="utf-8")
    (folder / "talk.fr.srt").symlink_to(inside)
    with caplog.at_level("WARNING", logger="reelmark.media.subtitles"):
        cues = read_subtitles(media)
    assert [(cue.text, cue.language) for cue in cues] == [("Inside", "fr")], "a link inside the folder is fine"
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == ["skipped a sidecar subtitle file: it links outside the media file's folder"] * 2
    assert not any(str(secret) in message for message in warnings)


def test_a_sidecar_that_is_not_a_regular_file_or_too_large_is_skipped(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    import os

    from reelmark.core.media.subtitles import MAX_SIDECAR_BYTES, sidecar_problem

    media = tmp_path / "talk.mp4"
    shutil.copy(clips["longgop"].path, media)
    os.mkfifo(tmp_path / "talk.srt")  # reading a FIFO would block the engine forever
    big = tmp_path / "talk.en.srt"
    with big.open("wb") as handle:
        handle.truncate(MAX_SIDECAR_BYTES + 1)
    assert sidecar_problem(media, tmp_path / "talk.srt") == "it is not a regular file"
    assert "larger than" in sidecar_problem(media, big)
    assert read_subtitles(media, include_sidecars=True) == [cue for cue in read_subtitles(media, include_sidecars=False)]


def test_parse_errors_say_where_not_what(tmp_path: Path) -> None:
    secret = "AWS_SECRET_ACCESS_KEY=abc123"
    broken = tmp_path / "broken.srt"
    broken.write_text(f"{secret}\n1\n00:00:01,000 --> 00:00:02,000\nfine\n", encoding="utf-8")
    headless = tmp_path / "headless.vtt"
    headless.write_text(f"{secret}\n\n00:00.500 --> 00:01.000\nHello\n", encoding="utf-8")
    for path, where in ((broken, "line 1"), (headless, "no WEBVTT header")):
        with pytest.raises(SubtitleFormatError) as refused:
            read_sidecar(path)
        assert where in str(refused.value) and "abc123" not in str(refused.value), str(refused.value)
