"""Subtitles out (`reelmark.bridge.subtitles`): one test per line rule, and the files parse with `srt` and `webvtt-py`.

Words are built directly (word times as a transcriber gives them); the rules are checked on seeded random speech
with random shot cuts, and on the hand-made cases each rule is about.
"""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import pairwise

import pytest
import srt
import webvtt

from reelmark.bridge.subtitles import (
    CUT_SNAP_S,
    MAX_CUE_S,
    MAX_LINE_CHARS,
    MAX_LINES,
    MIN_CUE_S,
    SubtitleCue,
    build_cues,
    layout_lines,
    write_srt,
    write_vtt,
)
from reelmark.core.results import Word as W

TEXT = (
    "So welcome back to the show. Today we talk about the new workflow for customer records, which changed "
    "quite a lot in the last release. Right. The key point is that every record now keeps its full history, "
    "and nobody has to export spreadsheets any more. Does that sound good? Yes. Let us look at an example from "
    "a small team that moved over last month and never looked back, honestly."
).split()
RATES = (Fraction(25), Fraction(30000, 1001))


def speech(seed: int, words: list[str] = TEXT) -> list[W]:
    """Words 0.12–0.6 s long, 0–0.15 s apart, 0.2–1.2 s pauses after a sentence end."""
    rng = random.Random(seed)
    time, out = Fraction(rng.randint(0, 30), 10), []
    for text in words:
        length = Fraction(rng.randint(12, 60), 100)
        out.append(W(time, time + length, text))
        time += length + Fraction(rng.randint(0, 15), 100)
        if text.endswith((".", "?")):
            time += Fraction(rng.randint(20, 120), 100)
    return out


def random_cuts(seed: int, end: Fraction) -> list[Fraction]:
    rng = random.Random(seed + 1000)
    return sorted(Fraction(rng.randint(0, int(end * 100)), 100) for _ in range(int(end) // 3))


CASES = [(seed, rate) for seed in range(12) for rate in RATES]


def cues_for(seed: int, rate: Fraction) -> tuple[list[W], list[Fraction], list[SubtitleCue]]:
    words = speech(seed)
    cuts = random_cuts(seed, words[-1].end)
    return words, cuts, build_cues(words, cuts, rate)


@pytest.mark.parametrize(("seed", "rate"), CASES)
def test_at_most_42_characters_a_line_and_two_lines(seed: int, rate: Fraction) -> None:
    _, _, cues = cues_for(seed, rate)
    assert cues
    for cue in cues:
        assert 1 <= len(cue.lines) <= MAX_LINES
        assert all(len(line) <= MAX_LINE_CHARS for line in cue.lines), cue.lines


@pytest.mark.parametrize(("seed", "rate"), CASES)
def test_every_cue_lasts_one_to_seven_seconds(seed: int, rate: Fraction) -> None:
    _, _, cues = cues_for(seed, rate)
    for cue in cues:
        assert MIN_CUE_S <= cue.end - cue.start <= MAX_CUE_S, (float(cue.start), float(cue.end), cue.lines)


@pytest.mark.parametrize(("seed", "rate"), CASES)
def test_no_cue_across_a_cut_within_half_a_second_of_its_ends(seed: int, rate: Fraction) -> None:
    _, cuts, cues = cues_for(seed, rate)
    for cue in cues:
        for cut in cuts:
            if cue.start < cut < cue.end:
                assert cut - cue.start >= CUT_SNAP_S and cue.end - cut >= CUT_SNAP_S, (float(cut), float(cue.start), float(cue.end))


@pytest.mark.parametrize(("seed", "rate"), CASES)
def test_cues_are_at_least_two_frames_apart(seed: int, rate: Fraction) -> None:
    _, _, cues = cues_for(seed, rate)
    for earlier, later in pairwise(cues):
        assert later.start - earlier.end >= 2 / rate


@pytest.mark.parametrize(("seed", "rate"), CASES)
def test_every_word_is_shown_once_in_order_while_it_is_said_or_near(seed: int, rate: Fraction) -> None:
    """Nothing is lost or repeated; each cue is on screen when (most of) its first word is said."""
    words, _, cues = cues_for(seed, rate)
    assert " ".join(" ".join(cue.lines) for cue in cues).split() == [word.text for word in words]
    position = 0
    for cue in cues:
        first = words[position]
        assert abs(cue.start - first.start) <= CUT_SNAP_S + MIN_CUE_S
        position += sum(len(line.split()) for line in cue.lines)


def test_a_sentence_end_and_a_long_pause_start_new_cues() -> None:
    def word(start: str, end: str, text: str) -> W:
        return W(Fraction(start), Fraction(end), text)

    words = [word("0", "0.7", "Hello"), word("0.8", "1.6", "there."), word("1.7", "2.2", "Next"),
             word("2.3", "3.4", "words"), word("4.2", "4.6", "later")]  # fmt: skip
    assert [cue.lines for cue in build_cues(words)] == [("Hello there.",), ("Next words",), ("later",)]


def test_a_short_sentence_joins_the_next_instead_of_flashing_alone() -> None:
    words = [W(Fraction(0), Fraction(3, 10), "Right."), W(Fraction(2, 5), Fraction(1), "The"), W(Fraction(11, 10), Fraction(2), "point")]
    assert [cue.lines for cue in build_cues(words)] == [("Right. The point",)]


def test_a_cut_near_a_cue_end_holds_the_cue_to_the_cut() -> None:
    words = [W(Fraction(i, 2), Fraction(i, 2) + Fraction(2, 5), f"w{i}") for i in range(6)]  # 0 … 2.9 s
    cues = build_cues(words, cuts=[Fraction(31, 10)])  # 0.2 s after the last word
    assert cues[-1].end == Fraction(31, 10)


def test_a_cut_inside_near_the_end_ends_the_cue_on_it() -> None:
    words = [W(Fraction(i, 2), Fraction(i, 2) + Fraction(2, 5), f"w{i}") for i in range(6)]
    cut = Fraction(27, 10)  # inside the last word's span, 0.2 s before the speech ends
    cues = build_cues(words, cuts=[cut])
    assert all(not (cue.start < cut < cue.end) for cue in cues)


def test_two_lines_break_where_the_longer_line_is_shortest() -> None:
    lines = layout_lines("the quick brown fox jumps over the lazy dog and keeps on running".split())
    assert lines == ("the quick brown fox jumps over", "the lazy dog and keeps on running")
    assert layout_lines(["x" * 30] * 3) is None


@pytest.mark.parametrize("seed", range(4))
def test_srt_output_parses_with_the_srt_reader(seed: int) -> None:
    _, _, cues = cues_for(seed, Fraction(25))
    parsed = list(srt.parse(write_srt(cues)))
    assert [item.content.split("\n") for item in parsed] == [list(cue.lines) for cue in cues]
    for item, cue in zip(parsed, cues, strict=True):
        assert abs(Fraction(item.start.total_seconds()).limit_denominator(1000) - cue.start) <= Fraction(1, 1000)
        assert abs(Fraction(item.end.total_seconds()).limit_denominator(1000) - cue.end) <= Fraction(1, 1000)


@pytest.mark.parametrize("seed", range(4))
def test_vtt_output_parses_with_webvtt_py(seed: int) -> None:
    _, _, cues = cues_for(seed, Fraction(25))
    parsed = webvtt.from_string(write_vtt(cues))
    assert [caption.lines for caption in parsed] == [list(cue.lines) for cue in cues]
    for caption, cue in zip(parsed, cues, strict=True):
        assert abs(Fraction(caption.start_in_seconds) + Fraction(int(caption.start[-3:]), 1000) - cue.start) <= Fraction(1, 1000)


@pytest.fixture()
def spoken_analysis(tmp_path):
    from datetime import datetime, timezone

    from reelmark.core.media import fingerprint, probe
    from reelmark.core.media.synthetic import ClipSpec, write_clip
    from reelmark.core.results import Analysis, EngineRef, MediaRef, Moment, MomentKind, TimeSpan

    clip = write_clip(tmp_path / "talk.mov", ClipSpec(frame_count=150, timecode="01:00:00:00"))
    words = speech(3, TEXT[:18])
    moments = [Moment(MomentKind.SPEECH, TimeSpan(words[0].start, words[-1].end), text=" ".join(w.text for w in words), words=tuple(words))]
    return Analysis(MediaRef(str(clip.path), fingerprint(clip.path), probe(clip.path)), EngineRef("signals", "0.1.0"),
                    tuple(moments), datetime(2026, 12, 5, tzinfo=timezone.utc))  # fmt: skip


def test_export_writes_srt_and_vtt_through_the_format_table(spoken_analysis, tmp_path) -> None:
    from reelmark.bridge.writers import render
    from reelmark.core.errors import InvalidRequestError

    parsed = list(srt.parse(render(spoken_analysis, "srt").decode("utf-8")))
    captions = webvtt.from_string(render(spoken_analysis, "vtt").decode("utf-8"))
    assert parsed and len(parsed) == len(captions)
    assert " ".join(item.content.replace("\n", " ") for item in parsed) == spoken_analysis.moments[0].text
    with pytest.raises(InvalidRequestError, match="--timeline analysis"):
        render(spoken_analysis, "srt", "highlights")
    with pytest.raises(InvalidRequestError, match="--task transcribe"):
        render(spoken_analysis.with_moments([]), "vtt")


def test_fcpxml_carries_the_same_cues_as_captions_and_still_reads_back(spoken_analysis, tmp_path) -> None:
    import xml.etree.ElementTree as ElementTree

    from reelmark.bridge.reading import read_timeline
    from reelmark.bridge.writers import render

    text = render(spoken_analysis, "fcpxml").decode("utf-8")
    cues = list(srt.parse(render(spoken_analysis, "srt").decode("utf-8")))
    tree = ElementTree.fromstring(text)
    [clip] = [child for child in tree.iter("spine")][0]
    captions = clip.findall("caption")
    assert len(captions) == len(cues)
    origin = Fraction(clip.get("start").rstrip("s"))
    for caption, cue in zip(captions, cues, strict=True):
        offset = Fraction(caption.get("offset").rstrip("s")) - origin
        assert (offset * 25).denominator == 1, "on the 25 fps frame grid"
        assert abs(offset - Fraction(cue.start.total_seconds()).limit_denominator(1000)) <= Fraction(1, 50)
        assert caption.get("lane") == "1" and caption.get("role") == "SRT?captionFormat=SRT.en"
        assert caption.find("text/text-style").text == cue.content
    children = [child.tag for child in clip]
    assert children.index("caption") < children.index("marker"), "anchored items before markers (the DTD's order)"
    path = tmp_path / "talk.fcpxml"
    path.write_text(text, encoding="utf-8")
    assert len(read_timeline(path).timelines) == 1


def test_the_cli_refuses_subtitles_it_cannot_write_before_analysing(tmp_path) -> None:
    """No transcribe task (or another timeline): one line, exit 1, no file, and no analysis run first."""
    import subprocess
    import sys
    from pathlib import Path

    reelmark = Path(sys.executable).with_name("reelmark")
    missing = tmp_path / "never-analysed.mp4"  # does not exist: a run that analysed first would say so instead
    for extra in ([], ["--task", "transcribe", "--timeline", "highlights"]):
        result = subprocess.run([str(reelmark), "analyze", str(missing), "--task", "shots", *extra, "-o", str(tmp_path / "x.srt")],
                                capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert ("--task transcribe" if not extra else "--timeline analysis") in result.stderr
        assert not (tmp_path / "x.srt").exists()
