"""Runs of True in a boolean series: the one helper every signal uses to turn a per-frame (or per-hop) test into
spans, so every caller counts ranges the same way."""

from __future__ import annotations

import numpy as np


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Every maximal run of True as a half-open index range [start, stop), in order (Python's slice convention:
    `mask[start:stop]` is all True and `stop - start` is its length)."""
    edges = np.diff(np.concatenate(([0], np.asarray(mask, dtype=bool).view(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))
