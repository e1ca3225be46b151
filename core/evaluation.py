"""Scoring found moments against labels: the measures the acceptance tests and benchmarks report.

Kept in the package (not the tests) so users can score reelmark on their own labelled footage the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[float, float]


def temporal_iou(a: Span, b: Span) -> float:
    """Intersection over union of two time spans (tIoU); 0 when they do not overlap."""
    union = max(a[1], b[1]) - min(a[0], b[0])
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0])) / union if union > 0 else 0.0


def best_match_tiou(labels: Sequence[Span], found: Sequence[Span]) -> list[float]:
    """For each labelled span, the tIoU of the found span that overlaps it best (0 if none does)."""
    return [max((temporal_iou(label, span) for span in found), default=0.0) for label in labels]


def cut_f1(found: Sequence[int], truth: Sequence[int], tolerance: int = 0) -> float:
    """F1 of found cut frames against true ones, matched one-to-one within ±`tolerance` frames."""
    return cut_scores(found, truth, tolerance)[2]


def cut_scores(found: Sequence[int], truth: Sequence[int], tolerance: int = 0) -> tuple[float, float, float]:
    """Precision, recall and F1 of found cut frames against true ones, matched one-to-one within ±`tolerance`
    frames; nothing found where nothing is true scores 1 throughout."""
    unmatched, hits = sorted(truth), 0
    for frame in sorted(found):
        match = next((true for true in unmatched if abs(true - frame) <= tolerance), None)
        if match is not None:
            unmatched.remove(match)
            hits += 1
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if hits or (not found and not truth) else 0.0
    return precision, recall, f1


def merge_spans(spans: Sequence[Span], gap: float) -> list[Span]:
    """The union of `spans`, with pieces less than or exactly `gap` apart joined: how presence events are counted
    (a person who steps out of view for a moment is still one event), for labels and findings alike."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def event_scores(labels: Sequence[Span], found: Sequence[Span], min_tiou: float = 0.5) -> tuple[float, float, float]:
    """(precision, recall, F1) of found events against labelled ones, matched one-to-one at tIoU ≥ `min_tiou`
    (best pairs first). With nothing labelled and nothing found all three are 1."""
    pairs = sorted(
        ((temporal_iou(label, span), i, j) for i, label in enumerate(labels) for j, span in enumerate(found)),
        reverse=True,
    )
    used_labels: set[int] = set()
    used_found: set[int] = set()
    for tiou, i, j in pairs:
        if tiou >= min_tiou and i not in used_labels and j not in used_found:
            used_labels.add(i)
            used_found.add(j)
    hits = len(used_labels)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(labels) if labels else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
