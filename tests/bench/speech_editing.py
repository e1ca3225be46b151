"""Speech-aware highlights benchmark: planted key sentences found with and without the transcription.

Builds the generated podcast of `tests/spoken_podcast.py` (espeak-ng: 4 key sentences about one subject among 8
louder filler sentences), runs the signals engine's highlight picker twice on the same context, once without
words (the anchor: loudness, motion, cuts, VAD speech) and once with the transcription's speech moments, and
prints for each the key-sentence recall (share of key sentences at least 80 % covered) and precision (share of
highlight time on key sentences).

Run: `.venv/bin/python tests/bench/speech_editing.py`.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spoken_podcast import build_podcast, espeak_missing, key_precision, key_recall, speech_moments  # noqa: E402

from reelmark.core.engines.signals.audio_features import extract_audio_features  # noqa: E402
from reelmark.core.engines.signals.context import SignalsContext, SignalsParams  # noqa: E402
from reelmark.core.engines.signals.features import extract_video_features  # noqa: E402
from reelmark.core.engines.signals.highlights import pick_highlights  # noqa: E402
from reelmark.core.engines.signals.shots import detect_shots  # noqa: E402
from reelmark.core.media.probing import probe  # noqa: E402


def main() -> int:
    missing = espeak_missing()
    if missing:
        print(f"cannot run: {missing}")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        path, sentences = build_podcast(Path(folder))
        info = probe(path)
        end = sentences[-1].span.end + 1
        for budget in (None, 22.0):
            ctx = SignalsContext(info, Fraction(0), end, SignalsParams(highlight_count=4, highlight_budget_s=budget))
            ctx.video = extract_video_features(info, start=ctx.start, end=end)
            ctx.audio = extract_audio_features(info, start=ctx.start, end=end)
            ctx.shots = detect_shots(ctx.video)
            label = "default budget" if budget is None else f"budget {budget:g} s"
            for name, run in (("anchor (no words)", ctx), ("with transcription", replace(ctx, results={"transcribe": speech_moments(sentences)}))):
                picks = pick_highlights(replace(run, diagnostics=[]))
                print(f"{label:15} {name:20} key recall {key_recall(picks, sentences):.2f}  "
                      f"key precision {key_precision(picks, sentences):.2f}  picks "
                      + ", ".join(f"{p.span.start_s:.1f}-{p.span.end_s:.1f}" for p in picks))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
