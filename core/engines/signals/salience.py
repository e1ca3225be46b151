"""What is said that matters: a score per transcribed sentence, for highlights on speech-heavy recordings.

A talk's main points are the sentences its other sentences keep coming back to; small talk, asides and
back-channel ("yeah, totally") stand alone. So a sentence scores by how close its nearest neighbours in meaning
are: the mean cosine similarity of its `NEIGHBOURS` most similar other sentences (all-MiniLM-L6-v2, the offline
model transcript search already uses), scaled from the recording's least to its most connected sentence (0–1),
times its substance, `min(1, words / FULL_SENTENCE_WORDS)`, so that a one-word reply cannot be a highlight on its
own. This is a TextRank-like centrality without the iteration: one embedding pass and one similarity matrix
(n² for n sentences: a 2-hour podcast has a few thousand).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reelmark.core.results import TimeSpan, Word
from reelmark.core.utterances import sentences

NEIGHBOURS = 3
FULL_SENTENCE_WORDS = 8


def sentence_scores(words: Sequence[Word]) -> list[tuple[TimeSpan, float, str]]:
    """(span from first word start to last word end, score in [0, 1], text) for each sentence of `words`."""
    grouped = [group for group in sentences(words) if any(word.text.strip() for word in group)]
    if len(grouped) < 2:
        return []
    from reelmark.core.engines.signals.transcript import embed

    texts = tuple(" ".join(word.text.strip() for word in group) for group in grouped)
    vectors = embed(texts)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = -np.sort(-similarity, axis=1)[:, : min(NEIGHBOURS, len(grouped) - 1)]
    connected = nearest.mean(axis=1)
    spread = float(connected.max() - connected.min())
    scaled = (connected - connected.min()) / spread if spread > 0 else np.ones(len(grouped))
    substance = np.minimum(1.0, np.array([len(group) for group in grouped]) / FULL_SENTENCE_WORDS)
    return [
        (TimeSpan(group[0].start, max(word.end for word in group)), float(score), text)
        for group, score, text in zip(grouped, scaled * substance, texts, strict=True)
    ]
