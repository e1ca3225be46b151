"""Temporal grounding evaluation for any engine on a labels file in the corpus format (DESIGN §11, §12).

Labels (`../shared/corpus/labels/*.json`): `{"media": "media/clip.mp4", "events": [{"query": "...",
"spans_s": [[start, end], ...]}, ...]}`, media paths relative to the corpus folder.

Per query the engine runs `--task ground --query Q`; its MATCH moments for Q are the prediction, ranked by score
(then time). Reported, per query and averaged over queries:

- R1@0.3 / R1@0.5 / R1@0.7: the top-ranked range's best IoU against any labelled span reaches the threshold;
- mIoU: the mean of that top-1 IoU (0 when the engine answers nothing);
- VUE IoU: multi-interval IoU, |union of all predicted ranges ∩ union of labelled spans| / |their union|
  (VUE-TR's measure, which rewards finding every occurrence and penalises extra ones).

Engines that only answer fixed queries (signals knows "activity", "person", ...) take `--map "label query=engine
query"`; the signals default maps every car query to "activity" (a car entering is the motion in these clips).

    .venv/bin/python tests/bench/grounding.py                                # signals on car-detection.json
    .venv/bin/python tests/bench/grounding.py --engine vlm --param model=Qwen/Qwen2.5-VL-7B-Instruct \
        --labels ../shared/corpus/labels/car-detection.json                  # on a GPU machine (see README)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.results import Analysis, MomentKind
from reelmark.core.tasks import Task

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
THRESHOLDS = (0.3, 0.5, 0.7)
SIGNALS_MAP = {"a car is in view": "activity", "a red car": "activity"}

Interval = tuple[float, float]


def iou(a: Interval, b: Interval) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(intervals: list[Interval]) -> float:
    return sum(end - start for start, end in merge(intervals))


def multi_iou(predicted: list[Interval], truth: list[Interval]) -> float:
    """VUE-style IoU of two sets of intervals: overlap of their unions over the union of their unions."""
    inter = sum(max(0.0, min(a[1], b[1]) - max(a[0], b[0])) for a in merge(predicted) for b in merge(truth))
    union = _length(predicted) + _length(truth) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class QueryScore:
    query: str
    asked: str
    top1_iou: float
    vue_iou: float
    predicted: int


def score_query(query: str, asked: str, analysis: Analysis, truth: list[Interval]) -> QueryScore:
    found = [m for m in analysis.of_kind(MomentKind.MATCH) if m.query == asked]
    ranked = sorted(found, key=lambda m: (-(m.score if m.score is not None else 0.0), m.span.start))
    spans = [(m.span.start_s, m.span.end_s) for m in ranked]
    top1 = max((iou(spans[0], gt) for gt in truth), default=0.0) if spans else 0.0
    return QueryScore(query, asked, top1, multi_iou(spans, truth), len(spans))


def evaluate(labels_path: Path, engine_name: str, params: dict[str, str], mapping: dict[str, str]) -> list[QueryScore]:
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    media = (labels_path.parent.parent / labels["media"]).resolve()
    engine = get_engine(engine_name)
    scores = []
    for event in labels["events"]:
        asked = mapping.get(event["query"], event["query"])
        request = AnalysisRequest(media, (Task.GROUND,), (asked,), params=params)
        analysis = engine.analyze(request)
        truth = [(float(start), float(end)) for start, end in event["spans_s"]]
        scores.append(score_query(event["query"], asked, analysis, truth))
    return scores


def table(scores: list[QueryScore]) -> str:
    lines = ["| query | asked | predicted | R1@0.3 | R1@0.5 | R1@0.7 | top-1 IoU | VUE IoU |", "|---|---|---|---|---|---|---|---|"]
    for s in scores:
        hits = " | ".join("1" if s.top1_iou >= t else "0" for t in THRESHOLDS)
        lines.append(f"| {s.query} | {s.asked} | {s.predicted} | {hits} | {s.top1_iou:.3f} | {s.vue_iou:.3f} |")
    recall = " | ".join(f"{statistics.mean(s.top1_iou >= t for s in scores):.2f}" for t in THRESHOLDS)
    miou = statistics.mean(s.top1_iou for s in scores)
    vue = statistics.mean(s.vue_iou for s in scores)
    lines.append(f"| **all ({len(scores)})** | | | {recall} | mIoU {miou:.3f} | {vue:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="R1@0.3/0.5/0.7, mIoU and VUE IoU of an engine on a labels file")
    parser.add_argument("--labels", type=Path, default=CORPUS / "labels" / "car-detection.json")
    parser.add_argument("--engine", default="signals")
    parser.add_argument("--param", action="append", default=[], help="engine option NAME=VALUE (repeatable)")
    parser.add_argument("--map", action="append", default=[], help='"label query=query to ask" (repeatable)')
    args = parser.parse_args()
    params = dict(item.split("=", 1) for item in args.param)
    mapping = dict(SIGNALS_MAP) if args.engine == "signals" else {}
    mapping.update(dict(item.split("=", 1) for item in args.map))
    began = time.perf_counter()
    scores = evaluate(args.labels, args.engine, params, mapping)
    print(f"{args.engine} on {args.labels.name} ({time.perf_counter() - began:.1f} s, {sys.platform})")
    print(table(scores))


if __name__ == "__main__":
    main()
