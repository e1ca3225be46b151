"""Shot detection: cut F1 on generated clips with known cuts, flashes that are no cuts, fades and dissolves as one
transition each, and the corpus files whose cuts (none) were checked by eye."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core.engines.signals.features import extract_video_features
from reelmark.core.evaluation import cut_f1
from reelmark.core.engines.signals.shots import detect_shots, shot_moments
from reelmark.core.media import probe
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.results import MomentKind

CLIPS = {
    "25fps cuts and flashes": ClipSpec(frame_count=250, cuts=(40, 95, 150, 210), flash_frames=(70, 180)),
    "29.97 with grain and pan": ClipSpec(
        rate=Fraction(30000, 1001), frame_count=300, cuts=(50, 120, 200, 260), grain=2.0, pan_pixels_per_frame=4
    ),
    "fade, dissolve, shaking": ClipSpec(
        frame_count=300, cuts=(60, 140, 200, 250), fade_out=(100, 125), dissolves=((185, 200),),
        motion_bursts=((215, 240),), flash_frames=(30,),
    ),  # fmt: skip
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClipTruth]:
    folder = tmp_path_factory.mktemp("shots")
    return {name: write_clip(folder / f"{index}.mp4", spec) for index, (name, spec) in enumerate(CLIPS.items())}


def _boundaries(truth: ClipTruth) -> tuple[list[int], list[tuple[str, int, int]]]:
    video = extract_video_features(probe(truth.path))
    shots = detect_shots(video)
    frame = {time: index for index, time in enumerate(video.times)}
    starts = [frame[shot.start] for shot in shots.shots[1:]]
    gradual = [(t.kind, frame[t.span.start], frame[t.span.end]) for t in shots.transitions if t.kind != "cut"]
    return starts, gradual


def test_cut_f1_on_generated_clips(generated: dict[str, ClipTruth]) -> None:
    """Acceptance: cut F1 ≥ 0.98 at ±1 frame over all generated clips (a gradual transition's boundary is the cut
    that ends it)."""
    found_all, truth_all = [], []
    for offset, (name, truth) in enumerate(generated.items()):
        starts, _ = _boundaries(truth)
        found_all += [offset * 10_000 + frame for frame in starts]
        truth_all += [offset * 10_000 + frame for frame in truth.spec.cuts]
        print(f"{name}: truth {truth.spec.cuts} found {starts}")
    assert cut_f1(found_all, truth_all, 1) >= 0.98
    assert cut_f1(found_all, truth_all, 0) >= 0.98


def test_flash_is_not_a_cut(generated: dict[str, ClipTruth]) -> None:
    for truth in generated.values():
        starts, _ = _boundaries(truth)
        for flash in truth.spec.flash_frames:
            assert not {flash, flash + 1} & set(starts), f"flash at frame {flash} taken for a cut"


def test_fade_and_dissolve_are_one_transition_each(generated: dict[str, ClipTruth]) -> None:
    truth = generated["fade, dissolve, shaking"]
    _, gradual = _boundaries(truth)
    fades = [item for item in gradual if item[0] == "fade"]
    dissolves = [item for item in gradual if item[0] == "dissolve"]
    assert len(fades) == 1 and len(dissolves) == 1, gradual
    fade_first, fade_stop = truth.spec.fade_out  # type: ignore[misc]
    assert abs(fades[0][1] - fade_first) <= 1 and fades[0][2] == 140  # dims from 100, new picture at the cut
    (dissolve_first, dissolve_stop), = truth.spec.dissolves
    assert abs(dissolves[0][1] - dissolve_first) <= 1 and abs(dissolves[0][2] - dissolve_stop) <= 1


def test_moments(generated: dict[str, ClipTruth]) -> None:
    truth = generated["fade, dissolve, shaking"]
    video = extract_video_features(probe(truth.path))
    moments = shot_moments(detect_shots(video))
    shots = [moment for moment in moments if moment.kind is MomentKind.SHOT]
    transitions = [moment for moment in moments if moment.kind is MomentKind.TRANSITION]
    assert len(shots) == len(truth.spec.cuts) + 1
    assert shots[0].span.start == 0 and shots[-1].span.end == video.end
    assert all(a.span.end == b.span.start for a, b in zip(shots, shots[1:], strict=False))
    assert sorted(moment.label.split()[0] for moment in transitions) == ["dissolve", "fade"]


def test_sensitivity_is_checked() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        detect_shots(None, 1.5)  # type: ignore[arg-type]


def test_one_frame_clip(tmp_path: Path) -> None:
    truth = write_clip(tmp_path / "one.mp4", ClipSpec(frame_count=1))
    shots = detect_shots(extract_video_features(probe(truth.path)))
    assert len(shots.shots) == 1 and not shots.transitions


@pytest.mark.parametrize("name", ["again.mkv", "bigbuckbunny.mp4", "bottle-detection.mp4", "frame_debugger_1h.mov",
                                  "one-by-one-person-detection.mp4"])  # fmt: skip
def test_corpus_files_checked_by_eye_have_no_cut(corpus: Path, name: str) -> None:
    """These files are single continuous shots (checked on contact sheets of their frames)."""
    shots = detect_shots(extract_video_features(probe(corpus / name)))
    assert len(shots.shots) == 1, [float(shot.start) for shot in shots.shots]
