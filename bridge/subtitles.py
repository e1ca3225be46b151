"""Subtitles from transcribed words: cues laid out by broadcasters' rules, written as SRT or WebVTT.

Cues are built from word times (`speech` moments' words), never from whole moments, so every cue starts with its
first word and ends with its last. The rules, in the order they are applied:

- Grouping. A cue takes words in order and closes before a word when the text would no longer fit
  `MAX_LINES` lines of `MAX_LINE_CHARS` characters, when the cue would last more than `MAX_CUE_S`, after a
  sentence end (`.`, `?`, `!`, `…`), at a pause of at least `LONG_PAUSE_S` between words (`core.utterances`), and where a shot cut
  lies between two words' middles (a new picture, a new cue); these last three only once the cue has run
  `MIN_CUE_S` + `CUT_SNAP_S`, so a short sentence ("Right.") joins the next rather than flashing alone, with
  room left to move its ends onto a cut. The 42 characters and 2
  lines are the BBC's and Netflix's (their subtitle guidelines: 37–42 characters a line, two lines at most).
- Timing. A cue runs from its first word's start to its last word's end, then:
  - cuts: a cue that would cross a cut lying within `CUT_SNAP_S` of its start or its end is moved onto the cut
    (starts at it, or ends at it); a cue ending less than `CUT_SNAP_S` before a cut is held to the cut, one
    starting less than `CUT_SNAP_S` after a cut starts at it (the BBC's and Netflix's shot-change rule: the
    reader's eye resets at a cut, and a subtitle flicking on or off just beside one is seen as a flash);
  - gap: consecutive cues are at least `MIN_GAP_FRAMES` frames apart (2 frames of the media's rate, 25 fps
    when it has no video: Netflix's Timed Text Style Guide asks for a 2-frame minimum gap, so that two cues read
    as two events rather than one text changing under the reader's eye);
  - length: every cue lasts `MIN_CUE_S` to `MAX_CUE_S`.
  Where the words' own timing breaks a rule, the cue takes the valid timing nearest to it (`_nearest_valid`).
- Lines. Text breaks into at most two lines at the space that makes the longer line shortest.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

from reelmark.core.errors import InvalidRequestError
from reelmark.core.results import Analysis, MomentKind, Word
from reelmark.core.times import format_clock_time
from reelmark.core.utterances import LONG_PAUSE_S, ends_sentence

if TYPE_CHECKING:
    from reelmark.bridge.formats import Format

MAX_LINE_CHARS = 42
MAX_LINES = 2
MIN_CUE_S = Fraction(1)
MAX_CUE_S = Fraction(7)
CUT_SNAP_S = Fraction(1, 2)
MIN_GAP_FRAMES = 2
FALLBACK_RATE = Fraction(25)
"""Frames per second for the gap when the media has no video (the EBU's 25 fps)."""


@dataclass(frozen=True)
class SubtitleCue:
    start: Fraction
    end: Fraction
    lines: tuple[str, ...]


def layout_lines(words: Sequence[str]) -> tuple[str, ...] | None:
    """The words on one line, or on two broken where the longer line is shortest; None when they do not fit."""
    text = " ".join(words)
    if len(text) <= MAX_LINE_CHARS:
        return (text,)
    best: tuple[str, str] | None = None
    for split in range(1, len(words)):
        top, bottom = " ".join(words[:split]), " ".join(words[split:])
        if max(len(top), len(bottom)) <= MAX_LINE_CHARS and (
            best is None or max(len(top), len(bottom)) < max(map(len, best))
        ):
            best = (top, bottom)
    return best


def _cut_between(cuts: Sequence[Fraction], previous: Word, word: Word) -> bool:
    """Whether a cut lies between the middles of two consecutive words: each cut belongs to one word boundary."""
    index = bisect.bisect_left(cuts, (previous.start + previous.end) / 2)
    return index < len(cuts) and cuts[index] < (word.start + word.end) / 2


def group_words(words: Sequence[Word], cuts: Sequence[Fraction] = ()) -> list[list[Word]]:
    """Words in cue-sized groups by the grouping rules of the module docstring."""
    groups: list[list[Word]] = []
    for word in words:
        current = groups[-1] if groups else None
        if current is not None:
            previous = current[-1]
            fits = layout_lines([w.text for w in current] + [word.text]) is not None
            soft_break = word.start - current[0].start >= MIN_CUE_S + CUT_SNAP_S and (
                ends_sentence(previous.text)
                or word.start - previous.end >= LONG_PAUSE_S
                or _cut_between(cuts, previous, word)
            )
            if fits and word.end - current[0].start <= MAX_CUE_S and not soft_break:
                current.append(word)
                continue
        groups.append([word])
    return groups


def _previous_cut(cuts: Sequence[Fraction], time: Fraction) -> Fraction | None:
    index = bisect.bisect_right(cuts, time) - 1
    return cuts[index] if index >= 0 else None


def _next_cut(cuts: Sequence[Fraction], time: Fraction) -> Fraction | None:
    index = bisect.bisect_left(cuts, time)
    return cuts[index] if index < len(cuts) else None


def _onto_cuts(start: Fraction, end: Fraction, cuts: Sequence[Fraction]) -> tuple[Fraction, Fraction]:
    """Start and end moved onto the cuts near them (the cut rule of the module docstring)."""
    before = _previous_cut(cuts, start)
    if before is not None and start - before < CUT_SNAP_S:
        start = before
    after = _next_cut(cuts, start)
    if after is not None and start < after < end and after - start < CUT_SNAP_S:
        start = after
    last_inside = _previous_cut(cuts, end)
    if last_inside is not None and start < last_inside < end and end - last_inside < CUT_SNAP_S:
        end = last_inside
    following = _next_cut(cuts, end)
    if following is not None and following - end < CUT_SNAP_S:
        end = following
    return start, end


def build_cues(words: Iterable[Word], cuts: Iterable[Fraction] = (), rate: Fraction | None = None) -> list[SubtitleCue]:
    """Cues for `words` (in time order) that follow every rule of the module docstring; `cuts` are shot cut times."""
    ordered = sorted((word for word in words if word.text.strip()), key=lambda word: word.start)
    cleaned = [replace(word, text=word.text.strip()) for word in ordered]
    cut_times = sorted(set(cuts))
    gap = MIN_GAP_FRAMES / (rate or FALLBACK_RATE)
    groups = group_words(cleaned, cut_times)
    spans = [_onto_cuts(group[0].start, max(group[-1].end, group[0].start), cut_times) for group in groups]
    cues: list[SubtitleCue] = []
    for index, (group, (start, end)) in enumerate(zip(groups, spans, strict=True)):
        earliest = cues[-1].end + gap if cues else Fraction(0)
        latest = spans[index + 1][0] - gap if index + 1 < len(spans) else None
        start, end = _nearest_valid(start, end, earliest, latest, cut_times)
        lines = layout_lines([word.text for word in group]) or (" ".join(word.text for word in group),)
        cues.append(SubtitleCue(start, end, lines))
    return cues


def _valid(start: Fraction, end: Fraction, earliest: Fraction, latest: Fraction | None, cuts: Sequence[Fraction]) -> bool:
    """Whether [start, end] keeps the length, gap and cut rules."""
    if not (MIN_CUE_S <= end - start <= MAX_CUE_S and start >= earliest and (latest is None or end <= latest)):
        return False
    inside = cuts[bisect.bisect_right(cuts, start) : bisect.bisect_left(cuts, end)]
    return all(cut - start >= CUT_SNAP_S and end - cut >= CUT_SNAP_S for cut in inside)


def _nearest_valid(
    start: Fraction, end: Fraction, earliest: Fraction, latest: Fraction | None, cuts: Sequence[Fraction]
) -> tuple[Fraction, Fraction]:
    """The timing nearest the words' own (least total movement of start and end) that keeps every rule.

    Candidates are the times a rule names: the words' own ends, one `MIN_CUE_S` or `MAX_CUE_S` from the other end,
    the neighbours' limits, and each nearby cut and `CUT_SNAP_S` either side of it. Where none keeps every rule
    (words packed between two cuts less than a second apart, with cues on both sides), the words' own timing is
    kept within the gap: the reader still sees every word while it is said.
    """
    near = cuts[bisect.bisect_left(cuts, start - 2 * MAX_CUE_S) : bisect.bisect_right(cuts, end + 2 * MAX_CUE_S)]
    around = [time for cut in near for time in (cut - CUT_SNAP_S, cut, cut + CUT_SNAP_S)]
    limits = [earliest] + ([latest] if latest is not None else [])
    starts = {start, end - MIN_CUE_S, end - MAX_CUE_S, *limits, *around}
    best: tuple[Fraction, Fraction, Fraction] | None = None
    for candidate_start in sorted(time for time in starts if time >= earliest):
        ends = {end, candidate_start + MIN_CUE_S, candidate_start + MAX_CUE_S, *limits, *around}
        for candidate_end in ends:
            cost = abs(candidate_start - start) + abs(candidate_end - end)
            if (best is None or cost < best[0]) and _valid(candidate_start, candidate_end, earliest, latest, cuts):
                best = (cost, candidate_start, candidate_end)
    if best is not None:
        return best[1], best[2]
    start = max(start, earliest)
    return start, max(start, min(end, latest) if latest is not None else end)


def _timedelta(seconds: Fraction) -> timedelta:
    return timedelta(milliseconds=round(seconds * 1000))


def write_srt(cues: Sequence[SubtitleCue]) -> str:
    """SubRip, composed by the `srt` library (numbered cues, `hh:mm:ss,mmm` times)."""
    import srt

    items = [srt.Subtitle(index, _timedelta(cue.start), _timedelta(cue.end), "\n".join(cue.lines)) for index, cue in enumerate(cues, 1)]
    return srt.compose(items, reindex=False)


def write_vtt(cues: Sequence[SubtitleCue]) -> str:
    """WebVTT, written by `webvtt-py` (a `WEBVTT` header, `hh:mm:ss.mmm` times)."""
    import webvtt

    captions = [webvtt.Caption(format_clock_time(cue.start), format_clock_time(cue.end), list(cue.lines)) for cue in cues]
    return webvtt.WebVTT(captions=captions).content


def analysis_cuts(analysis: Analysis) -> list[Fraction]:
    """Shot cut times in an analysis: every shot start after the first, and every transition's start."""
    shots = analysis.of_kind(MomentKind.SHOT)
    times = {moment.span.start for moment in shots[1:]}
    times.update(moment.span.start for moment in analysis.of_kind(MomentKind.TRANSITION))
    return sorted(times)


def analysis_words(analysis: Analysis) -> list[Word]:
    """The words of every speech moment, in time order."""
    return sorted(
        (word for moment in analysis.of_kind(MomentKind.SPEECH) for word in moment.words),
        key=lambda word: word.start,
    )


def subtitle_request_problem(holds: frozenset[str], tasks: Sequence[str], timeline: str) -> str | None:
    """Why an analysis asked for with `tasks` cannot be written as a subtitle file (None when it can), so the CLI
    says so before analysing rather than after."""
    if holds != {"subtitles"}:
        return None
    if timeline != "analysis":
        return "subtitles follow the source clip's time; write them with --timeline analysis"
    if "transcribe" not in tasks:
        return "subtitles need transcribed words: add --task transcribe"
    return None


def write_subtitle_file(analysis: Analysis, fmt: Format, timeline: str = "analysis") -> bytes:
    """The `srt` / `vtt` formats' writer (`bridge.formats`): subtitles are in media time, so `timeline` must be
    the source clip's."""
    if timeline != "analysis":
        raise InvalidRequestError(
            f"{fmt.name} subtitles follow the source clip's time; export them with --timeline analysis"
        )
    return render_subtitles(analysis, fmt.name).encode("utf-8")


def render_subtitles(analysis: Analysis, fmt: str) -> str:
    """The analysis's speech as SRT or WebVTT text, or one line saying what to run first."""
    words = analysis_words(analysis)
    if not words:
        raise InvalidRequestError(
            "this analysis has no transcribed words to subtitle; analyse with --task transcribe first"
        )
    video = analysis.media.probe.video
    cues = build_cues(words, analysis_cuts(analysis), video.rate if video is not None else None)
    return write_srt(cues) if fmt == "srt" else write_vtt(cues)
