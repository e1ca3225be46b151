"""pick_highlights() and smart_split() on a generated clip whose exciting moments are planted and known.

The clip (48 s, 320x180, 25 fps, light grain and a slow pan) is calm tone and silence with eight hard cuts. Three
segments are planted as exciting: loud noise with the background shaking hard over the same frames. Two decoys
have only one of the two: loud noise with a calm picture, and hard shaking with calm sound. The context is built
by hand from the real extractors; shots come from the cut frames the clip was drawn with.
"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import numpy as np
import pytest
from reelmark.core.engines.signals.audio_features import extract_audio_features
from reelmark.core.engines.signals.context import (
    AudioFeatures,
    ShotBoundaries,
    SignalsContext,
    SignalsParams,
    Transition,
)
from reelmark.core.engines.signals.features import extract_video_features
from reelmark.core.engines.signals.highlights import action_points, pick_highlights
from reelmark.core.engines.signals.split import smart_split, still_points
from reelmark.core.evaluation import temporal_iou
from reelmark.core.media.probing import probe
from reelmark.core.media.subtitles import Cue
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, ClipTruth, write_clip
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Box, Moment, MomentKind, TimeSpan, TubePoint

F = Fraction
RATE = 25
CALM_DBFS = -26.0
LOUD_DBFS = -10.0
CUTS_S = (4, 10, 15, 21, 29, 33, 38, 44)
PLANTED = ((F(4), F(17, 2)), (F(15), F(39, 2)), (F(33), F(38)))
LOUD_ONLY = (F(25), F(29))
MOTION_ONLY = (F(40), F(44))
AUDIO = (
    AudioSegment(F(0), F(3), "tone", CALM_DBFS, 440.0),
    AudioSegment(F(3), F(4), "silence"),
    AudioSegment(*PLANTED[0], "noise", LOUD_DBFS),
    AudioSegment(F(17, 2), F(19, 2), "silence"),
    AudioSegment(F(19, 2), F(15), "tone", CALM_DBFS, 440.0),
    AudioSegment(*PLANTED[1], "noise", LOUD_DBFS),
    AudioSegment(F(39, 2), F(41, 2), "silence"),
    AudioSegment(F(41, 2), F(24), "tone", CALM_DBFS, 330.0),
    AudioSegment(F(24), F(25), "silence"),
    AudioSegment(*LOUD_ONLY, "noise", LOUD_DBFS + 3),
    AudioSegment(F(29), F(33), "tone", CALM_DBFS, 440.0),
    AudioSegment(*PLANTED[2], "noise", LOUD_DBFS),
    AudioSegment(F(38), F(46), "tone", CALM_DBFS, 550.0),
    AudioSegment(F(46), F(48), "silence"),
)


def _frames(span: tuple[Fraction, Fraction]) -> tuple[int, int]:
    return int(span[0] * RATE), int(span[1] * RATE)


SPEC = ClipSpec(
    width=320,
    height=180,
    rate=F(RATE),
    frame_count=48 * RATE,
    cuts=tuple(seconds * RATE for seconds in CUTS_S),
    motion_bursts=(*(_frames(span) for span in PLANTED), _frames(MOTION_ONLY)),
    grain=3.0,
    pan_pixels_per_frame=1,
    audio=AUDIO,
    gop=50,
)


def _shots(truth: ClipTruth) -> ShotBoundaries:
    edges = [F(0), *truth.cut_times, truth.duration]
    return ShotBoundaries(
        tuple(TimeSpan(start, end) for start, end in itertools.pairwise(edges)),
        tuple(Transition(TimeSpan(time, time), "cut", 1.0) for time in truth.cut_times),
    )


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClipTruth, SignalsContext]:
    truth = write_clip(tmp_path_factory.mktemp("signals_highlights") / "planted.mp4", SPEC)
    info = probe(truth.path)
    context = SignalsContext(
        info=info,
        start=F(0),
        end=truth.duration,
        params=SignalsParams(highlight_count=3, highlight_min_s=3.0, highlight_max_s=8.0, highlight_budget_s=24.0),
        video=extract_video_features(info),
        audio=extract_audio_features(info),
        shots=_shots(truth),
    )
    return truth, context


def _with(context: SignalsContext, **changes: object) -> SignalsContext:
    """A copy of the shared context (fresh diagnostics) with some fields replaced."""
    return dataclasses.replace(context, diagnostics=[], **changes)


def _tiou(span: TimeSpan, truth: tuple[Fraction, Fraction]) -> float:
    return temporal_iou((float(span.start), float(span.end)), (float(truth[0]), float(truth[1])))


def _in_true_silence(truth: ClipTruth, time: Fraction) -> bool:
    return any(segment.kind == "silence" and segment.start <= time <= segment.end for segment in truth.audio)


def _natural(truth: ClipTruth, time: Fraction) -> bool:
    return time in truth.cut_times or _in_true_silence(truth, time)


def _action_or_still(context: SignalsContext) -> set[Fraction]:
    """Where an action starts (less the run-up) or stops, and the calmest frame of each second: the in and out
    points highlights may use besides cuts and silences."""
    return {point.time for point in action_points(context) + still_points(context, F(1))}


def _mid_speech(context: SignalsContext, time: Fraction) -> bool:
    return context.audio is not None and any(span.start < time < span.end for span in context.audio.speech)


def test_top3_highlights_are_the_planted_segments(planted: tuple[ClipTruth, SignalsContext]) -> None:
    truth, context = planted
    highlights = pick_highlights(_with(context))
    assert len(highlights) == 3
    tious = sorted(max(_tiou(moment.span, segment) for moment in highlights) for segment in PLANTED)
    assert tious[0] >= 0.5, tious
    for moment in highlights:
        assert moment.kind is MomentKind.HIGHLIGHT
        assert all(_natural(truth, time) or time in _action_or_still(context) for time in (moment.span.start, moment.span.end))
        assert not _mid_speech(context, moment.span.start) and not _mid_speech(context, moment.span.end)
        assert "loud sound" in moment.text and "fast motion" in moment.text
        assert 0 <= moment.score <= 1


def test_constraints_count_length_budget_overlap_and_order(planted: tuple[ClipTruth, SignalsContext]) -> None:
    _, context = planted
    limits = {"highlight_count": 4, "highlight_min_s": 4.0, "highlight_max_s": 6.0, "highlight_order": "chronological"}
    unbudgeted = pick_highlights(_with(context, params=SignalsParams(**limits, highlight_budget_s=24.0)))
    highlights = pick_highlights(_with(context, params=SignalsParams(**limits, highlight_budget_s=15.0)))
    assert len(unbudgeted) == 4 and sum(moment.span.duration for moment in unbudgeted) > 15  # so 15 s binds
    assert 1 <= len(highlights) < 4
    assert sum(moment.span.duration for moment in highlights) <= 15
    for chosen in (unbudgeted, highlights):
        assert all(4 <= moment.span.duration <= 6 for moment in chosen)
        assert chosen == sorted(chosen, key=lambda moment: moment.span.start)
        assert all(earlier.span.end <= later.span.start for earlier, later in itertools.pairwise(chosen))
        by_rank = sorted(chosen, key=lambda moment: int(moment.label.split()[-1]))
        assert [moment.label for moment in by_rank] == [f"highlight {rank}" for rank in range(1, len(chosen) + 1)]
        assert [moment.score for moment in by_rank] == sorted((moment.score for moment in by_rank), reverse=True)


def test_every_cut_point_is_natural_and_scores_rank_in_score_order(planted: tuple[ClipTruth, SignalsContext]) -> None:
    truth, context = planted
    params = SignalsParams(highlight_count=10, highlight_min_s=2.0, highlight_max_s=10.0, highlight_budget_s=48.0)
    highlights = pick_highlights(_with(context, params=params))
    assert len(highlights) > 3
    assert [moment.score for moment in highlights] == sorted((moment.score for moment in highlights), reverse=True)
    edges = {context.start, context.end}
    for moment in highlights:
        for time in (moment.span.start, moment.span.end):
            assert time in edges or _natural(truth, time) or time in _action_or_still(context), moment.span
    spans = sorted((moment.span for moment in highlights), key=lambda span: span.start)
    assert all(not earlier.overlaps(later) for earlier, later in itertools.pairwise(spans))


def test_each_source_alone_finds_its_own_events(planted: tuple[ClipTruth, SignalsContext]) -> None:
    """With one source missing, the other still ranks: sound alone finds the loud segments (the loud-only decoy among
    them), picture alone finds the shaking ones (the motion-only decoy among them)."""
    _, context = planted
    params = SignalsParams(highlight_count=4, highlight_min_s=3.0, highlight_max_s=8.0, highlight_budget_s=32.0)
    loud = [*PLANTED, LOUD_ONLY]
    shaking = [*PLANTED, MOTION_ONLY]
    by_sound = pick_highlights(_with(context, params=params, video=None))
    by_picture = pick_highlights(_with(context, params=params, audio=None))
    for highlights, events in ((by_sound, loud), (by_picture, shaking)):
        assert len(highlights) == 4
        for moment in highlights:
            assert max(_tiou(moment.span, event) for event in events) >= 0.5, (moment.span, moment.text)
    assert all("fast motion" not in moment.text for moment in by_sound)
    assert all("loud sound" not in moment.text for moment in by_picture)


def test_people_presence_counts(planted: tuple[ClipTruth, SignalsContext]) -> None:
    """Only shots and a person on screen in one calm shot: that shot is the highlight."""
    _, context = planted
    person = Moment(MomentKind.PERSON, TimeSpan(F(21), F(27)), label="person 1")
    highlights = pick_highlights(
        _with(
            context,
            video=None,
            audio=None,
            people=[person],
            params=SignalsParams(highlight_count=1, highlight_min_s=3.0, highlight_max_s=8.0),
        )
    )
    assert len(highlights) == 1
    assert _tiou(highlights[0].span, (F(21), F(27))) >= 0.5
    assert "people on screen" in highlights[0].text


@pytest.mark.parametrize("source", ["vad", "subtitles"])
def test_highlights_never_cut_mid_speech(planted: tuple[ClipTruth, SignalsContext], source: str) -> None:
    """Speech over the cut that starts a planted segment, heard by the VAD or written in a subtitle cue: that cut may
    no longer be an in point."""
    _, context = planted
    assert context.audio is not None
    speech = TimeSpan(F(14), F(16))
    if source == "vad":
        changed = _with(context, audio=dataclasses.replace(context.audio, speech=(speech,)))
    else:
        changed = _with(context, cues=[Cue(speech.start, speech.end, "and then the storm hit", "stream:2")])
    assert any(speech.start < moment.span.start < speech.end for moment in pick_highlights(_with(context)))  # used unless speech
    highlights = pick_highlights(changed)
    assert len(highlights) == 3
    for moment in highlights:
        for time in (moment.span.start, moment.span.end):
            assert not speech.start < time < speech.end, moment.span


def test_without_shots_or_sound_highlights_cut_at_actions_not_on_a_grid(planted: tuple[ClipTruth, SignalsContext]) -> None:
    """Picture only and no shot list: in and out points come from where movement starts (less a run-up) and stops,
    or the calmest moments, never a whole-second grid; the shaking segments are still the ones found."""
    _, context = planted
    bare = _with(context, audio=None, shots=None)
    highlights = pick_highlights(bare)
    assert len(highlights) == 3
    allowed = _action_or_still(bare)
    for moment in highlights:
        assert max(_tiou(moment.span, event) for event in (*PLANTED, MOTION_ONLY)) >= 0.5, moment.span
        assert {moment.span.start, moment.span.end} <= allowed | {bare.start, bare.end}
    ends = [time for moment in highlights for time in (moment.span.start, moment.span.end)]
    assert not all((time - context.start).denominator == 1 for time in ends)


def test_a_range_is_analysed_on_its_own(planted: tuple[ClipTruth, SignalsContext]) -> None:
    """Features of [12, 40] only: the two planted segments inside it lead, and nothing leaves the range."""
    truth, context = planted
    start, end = F(12), F(40)
    shots = ShotBoundaries(
        tuple(
            TimeSpan(max(start, shot.start), min(end, shot.end))
            for shot in _shots(truth).shots
            if shot.overlaps(TimeSpan(start, end))
        ),
        tuple(transition for transition in _shots(truth).transitions if start < transition.span.start < end),
    )
    ranged = SignalsContext(
        info=context.info,
        start=start,
        end=end,
        params=dataclasses.replace(context.params, highlight_count=2, split_target_s=7.0),
        video=extract_video_features(context.info, start=start, end=end),
        audio=extract_audio_features(context.info, start=start, end=end),
        shots=shots,
    )
    highlights = pick_highlights(ranged)
    assert sorted(max(_tiou(moment.span, segment) for moment in highlights) for segment in PLANTED[1:])[0] >= 0.5
    segments = smart_split(ranged)
    _assert_tiles(segments, ranged)
    assert all(start <= moment.span.start and moment.span.end <= end for moment in highlights)


def test_no_sources_no_highlights(planted: tuple[ClipTruth, SignalsContext]) -> None:
    _, context = planted
    bare = _with(context, video=None, audio=None, shots=None)
    assert pick_highlights(bare) == []
    assert bare.diagnostics


def _assert_tiles(segments: list[Moment], context: SignalsContext) -> None:
    assert segments[0].span.start == context.start and segments[-1].span.end == context.end
    assert all(earlier.span.end == later.span.start for earlier, later in itertools.pairwise(segments))
    assert [moment.label for moment in segments] == [f"segment {number}" for number in range(1, len(segments) + 1)]
    assert all(moment.kind is MomentKind.SEGMENT and moment.span.duration > 0 for moment in segments)


def test_split_cuts_at_natural_points_near_the_target(planted: tuple[ClipTruth, SignalsContext]) -> None:
    truth, context = planted
    target = 8.0
    segments = smart_split(_with(context, params=SignalsParams(split_target_s=target)))
    _assert_tiles(segments, context)
    natural = sorted({*truth.cut_times, *(s.start for s in truth.audio if s.kind == "silence"), context.start, context.end})
    widest_gap = max(later - earlier for earlier, later in itertools.pairwise(natural))
    assert abs(len(segments) - float(context.end - context.start) / target) <= 1
    for moment in segments:
        assert abs(float(moment.span.duration) - target) <= widest_gap, moment.span
    for moment in segments[:-1]:
        assert _natural(truth, moment.span.end) and not _mid_speech(context, moment.span.end), moment.span


def _hand_context(end: int, boundaries: tuple[int, ...], speech: tuple[tuple[int, int], ...], target: float) -> SignalsContext:
    """A context with no media features: shots at `boundaries`, speech spans, no loudness, no silence."""
    edges = [F(0), *map(F, boundaries), F(end)]
    shots = ShotBoundaries(tuple(TimeSpan(a, b) for a, b in itertools.pairwise(edges)), ())
    audio = AudioFeatures(
        start=F(0),
        hop=F(1, 10),
        momentary_lufs=np.zeros(0),
        short_term_lufs=np.zeros(0),
        integrated_lufs=None,
        speech=tuple(TimeSpan(F(a), F(b)) for a, b in speech),
        silence=(),
        end=F(end),
    )
    info = MediaInfo("hand-made.mp4", "mp4", None, 0, F(end), None, None, None)
    return SignalsContext(
        info=info, start=F(0), end=F(end), params=SignalsParams(split_target_s=target), audio=audio, shots=shots
    )


def test_split_avoids_speech_when_it_can() -> None:
    """The shot changes nearest the ideal cuts (10 s, 20 s) lie inside speech, one heard, one subtitled; cuts go
    elsewhere."""
    context = _hand_context(40, (5, 10, 15, 20, 25, 30, 35), ((8, 12),), target=10.0)
    context.cues = [Cue(F(18), F(23), "a line of dialogue", "stream:2")]
    segments = smart_split(context)
    _assert_tiles(segments, context)
    for moment in segments:
        assert not (8 < moment.span.end < 12 or 18 < moment.span.end < 23), moment.span
    assert all(5 <= moment.span.duration <= 15 for moment in segments)


def test_split_cuts_mid_speech_only_when_there_is_no_alternative() -> None:
    context = _hand_context(40, (), ((0, 40),), target=10.0)
    segments = smart_split(context)
    _assert_tiles(segments, context)
    assert len(segments) == 4 and all(moment.span.duration == 10 for moment in segments)
    assert all("mid-speech" in moment.text for moment in segments[:-1])


def test_default_budget_is_selective_and_short_ranges_say_why(planted: tuple[ClipTruth, SignalsContext]) -> None:
    """Default options: at most a fifth of the clip, and only above-average stretches; a range too short for one
    highlight within 30 % of it gets none, with the reason."""
    _, context = planted
    highlights = pick_highlights(_with(context, params=SignalsParams()))
    assert highlights and sum(moment.span.duration for moment in highlights) <= context.end * F(1, 5)
    short = _with(context, params=SignalsParams(), end=F(9))
    assert pick_highlights(short) == [] and any("too short" in line for line in short.diagnostics)


def test_no_pick_is_made_of_black_picture(planted: tuple[ClipTruth, SignalsContext]) -> None:
    """Black out the planted segment at 33-38 s (its sound stays loud): no pick may hold more than a quarter of
    black."""
    _, context = planted
    assert context.video is not None
    luma = context.video.luma_mean.copy()
    black = (context.video.seconds >= 33) & (context.video.seconds < 38)
    luma[black] = 0.0
    blacked = _with(context, video=dataclasses.replace(context.video, luma_mean=luma))
    for moment in pick_highlights(blacked):
        overlap = max(F(0), min(moment.span.end, F(38)) - max(moment.span.start, F(33)))
        assert overlap <= moment.span.duration / 4, moment.span


def _person(seen: range) -> Moment:
    """A person track sighted once a second over `seen` (whole seconds, the detectors' default looks)."""
    tube = tuple(TubePoint(F(second), Box(0.4, 0.2, 0.6, 0.9)) for second in seen)
    return Moment(MomentKind.PERSON, TimeSpan(F(seen[0]) - F(1, 2), F(seen[-1]) + F(1, 2)), label="person 1", tube=tube)


def test_reasons_are_true(planted: tuple[ClipTruth, SignalsContext]) -> None:
    """"people on screen" and "a person enters" only with a person track; an entrance inside a shot is named as
    one, while someone first seen at the cut that opens a shot came with the picture."""
    _, context = planted
    assert {F(15), F(16), F(17)} <= set(context.video.sampled_times)  # the shot 15-21 s is looked at each second
    assert all("people" not in moment.text and "person" not in moment.text for moment in pick_highlights(_with(context)))
    entering = pick_highlights(_with(context, people=[_person(range(17, 20))]))
    assert any(moment.span.start <= F(17) < moment.span.end and "a person enters" in moment.text for moment in entering)
    with_the_cut = pick_highlights(_with(context, people=[_person(range(15, 20))]))
    assert any(moment.span.start <= F(15) < moment.span.end for moment in with_the_cut)
    assert all("a person enters" not in moment.text for moment in with_the_cut)
