"""What a caller chooses about decode attention: dense or sparse, and how much of the cache sparse reads in full."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DecodeOptions:
    """Decode attention settings, fixed for the life of one cache.

    mode: "dense" reads every cached token (exact); "sparse" reads the chosen chunks in full and one pooled
        (mean) key/value for every other completed chunk.
    budget: share of completed chunks read in full in sparse mode; 1 reads them all and equals dense.
    chunk_size: tokens per chunk, the unit of selection and pooling.
    sink_chunks, recent_chunks: the first and the last completed chunks, always read in full (the partial chunk
        at the end is always read in full too).
    pooled: sparse mode attends to one pooled entry per unselected chunk (bi-granularity); False drops those
        chunks altogether (plain top-k chunk selection, as in Quest).
    """

    mode: Literal["dense", "sparse"] = "sparse"
    budget: float = 1 / 16
    chunk_size: int = 64
    sink_chunks: int = 1
    recent_chunks: int = 2
    pooled: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("dense", "sparse"):
            raise ValueError(f"mode must be 'dense' or 'sparse', not {self.mode!r}")
        if not 0 < self.budget <= 1:
            raise ValueError(f"budget must be in (0, 1], not {self.budget}")
        if self.chunk_size < 16 or self.chunk_size & (self.chunk_size - 1):
            raise ValueError(f"chunk_size must be a power of two of at least 16, not {self.chunk_size}")
        if self.sink_chunks < 0 or self.recent_chunks < 0:
            raise ValueError("sink_chunks and recent_chunks cannot be negative")
