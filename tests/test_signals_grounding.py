"""Grounding in the signals engine: what it answers, from which signals, and what it refuses or cannot answer.

Contexts are built by hand (audio spans, loudness curves, people and shot boundaries) so each expected answer is
known before the code runs; the media info comes from a probed synthetic clip, with streams removed to model
files that lack them.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest

from reelmark.core.engines.signals.context import (
    AudioFeatures,
    ShotBoundaries,
    SignalsContext,
    SignalsParams,
    Transition,
)
from reelmark.core.engines.signals.grounding import SIGNALS_QUERIES, ground
from reelmark.core.media import probe
from reelmark.core.media.subtitles import Cue
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, write_clip
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Box, Moment, MomentKind, TimeSpan, TubePoint

F = Fraction
END = F(20)


@pytest.fixture(scope="module")
def info(tmp_path_factory: pytest.TempPathFactory) -> MediaInfo:
    """A file with a picture and a sound track."""
    spec = ClipSpec(frame_count=10, audio=(AudioSegment(F(0), F(2, 5), "tone"),))
    return probe(write_clip(tmp_path_factory.mktemp("ground") / "av.mp4", spec).path)


def _span(start: float, end: float) -> TimeSpan:
    return TimeSpan(F(start), F(end))


# A quiet programme at −30 (mean-square power 10^−3) with two events: +14 dB over [8, 10] s, and +9 dB over
# [14, 18] s, which is above the programme's loudness but by less than the margin.
HOP = F(1, 10)
EVENTS = ((8.0, 10.0, 14.0), (14.0, 18.0, 9.0))
QUIET_DB = -30.0


def _power(t: float) -> float:
    for start, end, gain in EVENTS:
        if start <= t < end:
            return 10 ** ((QUIET_DB + gain) / 10)
    return 10 ** (QUIET_DB / 10)


def _mean_db(start: float, end: float) -> float:
    """Mean power over [start, end] of the piecewise-constant model, exactly, in dB."""
    points = sorted({start, end, *(edge for event in EVENTS for edge in event[:2] if start < edge < end)})
    energy = sum(_power((a + b) / 2) * (b - a) for a, b in pairwise(points))
    return 10 * math.log10(energy / (end - start))


def _audio(speech: tuple[TimeSpan, ...] = (), silence: tuple[TimeSpan, ...] = ()) -> AudioFeatures:
    count = int(END / HOP)
    ends = [float((index + 1) * HOP) for index in range(count)]
    short_term = np.asarray([_mean_db(max(0.0, end - 3), end) for end in ends])
    momentary = np.asarray([_mean_db(max(0.0, end - 0.4), end) for end in ends])
    return AudioFeatures(F(0), HOP, momentary, short_term, _mean_db(0, float(END)), speech, silence, END)


def _ctx(info: MediaInfo, **fields: object) -> SignalsContext:
    return SignalsContext(info, F(0), END, SignalsParams(), **fields)  # type: ignore[arg-type]


def test_queries_outside_the_engine_are_refused_with_the_way_forward(info: MediaInfo) -> None:
    ctx = _ctx(info, audio=_audio())
    for query in ("the red car enters", "person in red", "personality", "loudest laugh", "cut to black"):
        assert ground(ctx, query) == ([], f"query '{query}' is not answerable by engine signals; use engine vlm")


def test_every_listed_query_is_recognised(info: MediaInfo) -> None:
    ctx = _ctx(info, audio=_audio(), shots=ShotBoundaries((_span(0, 20),), ()))
    for synonyms in SIGNALS_QUERIES.values():
        for synonym in synonyms:
            _, diagnostic = ground(ctx, f"  {synonym.upper()}? ")
            assert diagnostic is None, synonym


def test_speech_and_silence_come_from_the_audio_spans(info: MediaInfo) -> None:
    speech = (_span(1, 4), _span(6, 9.5))
    silence = (_span(0, 1), _span(4, 4.3), _span(9.5, 12))  # 0.3 s is shorter than min_silence_s (0.5 s)
    ctx = _ctx(info, audio=_audio(speech, silence))
    moments, diagnostic = ground(ctx, "Talking")
    assert diagnostic is None
    assert [moment.span for moment in moments] == list(speech)
    assert all(moment.kind == MomentKind.MATCH and moment.query == "Talking" for moment in moments)
    moments, _ = ground(ctx, "silence")
    assert [moment.span for moment in moments] == [_span(0, 1), _span(9.5, 12)]


def test_loud_finds_the_loud_event_and_not_the_slightly_louder_one(info: MediaInfo) -> None:
    audio = _audio()
    assert audio.integrated_lufs is not None and _mean_db(14, 17) > audio.integrated_lufs
    moments, diagnostic = ground(_ctx(info, audio=audio), "loud")
    assert diagnostic is None
    [moment] = moments
    # Short-term windows are 3 s long: the span may spill up to half a window past each edge of the event.
    assert moment.span.start <= 8 and moment.span.end >= 10
    assert moment.span.start >= 8 - 1.5 and moment.span.end <= 10 + 1.5
    assert 0 < moment.score <= 1


def test_people_and_faces_keep_their_tubes(info: MediaInfo) -> None:
    tube = (TubePoint(F(1), Box(0.1, 0.1, 0.3, 0.9)), TubePoint(F(3), Box(0.2, 0.1, 0.4, 0.9)))
    people = [
        Moment(MomentKind.PERSON, _span(1, 3), label="person 1", tube=tube, score=0.9),
        Moment(MomentKind.PERSON, _span(1, 3), label="person 2", tube=tube[:1], score=0.6),
        Moment(MomentKind.FACE, _span(2, 5), label="face 1", score=0.8),
    ]
    ctx = _ctx(info, people=people)
    persons, _ = ground(ctx, "people")
    assert [(moment.span, moment.tube) for moment in persons] == [(people[0].span, tube), (people[1].span, tube[:1])]
    assert [moment.label for moment in persons] == ["person 1", "person 2"]
    faces, _ = ground(ctx, "face")
    assert [moment.span for moment in faces] == [_span(2, 5)] and faces[0].query == "face"


def test_activity_and_shot_changes(info: MediaInfo) -> None:
    activity = [Moment(MomentKind.ACTIVITY, _span(3, 7), label="activity", score=0.7)]
    shots = ShotBoundaries(
        (_span(0, 5), _span(5, 11), _span(12, 20)),
        (Transition(_span(5, 5), "cut", 0.9), Transition(_span(11, 12), "fade", 0.6)),
    )
    ctx = _ctx(info, shots=shots)
    moments, _ = ground(ctx, "motion", activity=activity)
    assert [moment.span for moment in moments] == [_span(3, 7)] and moments[0].kind == MomentKind.MATCH
    cuts, _ = ground(ctx, "cuts")
    assert [(moment.span, moment.label) for moment in cuts] == [(_span(5, 5), "cut"), (_span(11, 12), "fade")]


def test_says_searches_the_cues(info: MediaInfo) -> None:
    cues = [Cue(F(2), F(4), "Our pricing is simple.", "stream:2"), Cue(F(9), F(11), "Goodbye!", "stream:2")]
    moments, diagnostic = ground(_ctx(info, cues=cues), "Says: PRICING")
    assert diagnostic is None
    [moment] = moments
    assert moment.query == "Says: PRICING" and moment.kind == MomentKind.MATCH
    padding = F(SignalsParams().transcript_padding_s)
    assert moment.span == TimeSpan(F(2) - padding, F(4) + padding)
    assert ground(_ctx(info), "says: pricing")[1] is not None  # no cues: said, not raised
    assert ground(_ctx(info, cues=cues), "says:")[1] is not None


def test_missing_sources_are_diagnosed_not_raised(info: MediaInfo) -> None:
    silent_file = replace(info, audio=())
    for query in ("speech", "silence", "loud"):
        moments, diagnostic = ground(_ctx(silent_file), query)
        assert moments == [] and diagnostic is not None and "no audio" in diagnostic
    blind_file = replace(info, video=None)
    for query in ("person", "face", "activity", "shot change"):
        moments, diagnostic = ground(_ctx(blind_file, audio=_audio()), query)
        assert moments == [] and diagnostic is not None and "no video" in diagnostic
    hushed = replace(_audio(), short_term_lufs=np.full(200, -np.inf), integrated_lufs=None)
    moments, diagnostic = ground(_ctx(info, audio=hushed), "loud")
    assert moments == [] and diagnostic is not None
