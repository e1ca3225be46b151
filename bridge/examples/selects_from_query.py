"""Build a selects timeline: every moment that answers a query, across clips, as one OTIO timeline.

    python selects_from_query.py "person" selects.otio clip1.mp4 clip2.mov ... [--pad 1.0]

Each answer becomes a clip of its source file (padded by --pad seconds, within the file), in the order found,
carrying the markers of everything reelmark found inside it.
"""

import argparse
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from reelmark.bridge.clock import MediaClock
from reelmark.bridge.timelines import add_markers, clip_of
from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.results import MomentKind
from reelmark.core.tasks import Task

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("query")
parser.add_argument("output", type=Path)
parser.add_argument("media", type=Path, nargs="+")
parser.add_argument("--pad", type=Fraction, default=Fraction(1))
args = parser.parse_args()

engine = get_engine("signals")
track = otio.schema.Track(name="selects")
for path in args.media:
    analysis = engine.analyze(AnalysisRequest(path, (Task.GROUND, Task.SHOTS), (args.query,)))
    clock = MediaClock.from_probe(analysis.media.probe)
    end_of_file = clock.seconds_of(clock.available_range().end_time_exclusive())
    for number, answer in enumerate(analysis.of_kind(MomentKind.MATCH), start=1):
        span = (max(Fraction(0), answer.span.start - args.pad), min(end_of_file, answer.span.end + args.pad))
        clip = clip_of(analysis, clock, f"{path.stem} · {args.query} {number}", span)
        add_markers(clip, analysis, clock)
        track.append(clip)
    print(f"{path.name}: {len(analysis.of_kind(MomentKind.MATCH))} answers to {args.query!r}")

timeline = otio.schema.Timeline(name=f"selects · {args.query}", tracks=[track])
otio.adapters.write_to_file(timeline, str(args.output))
print(f"wrote {len(track)} selects to {args.output}")
