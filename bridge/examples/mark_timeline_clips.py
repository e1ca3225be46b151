"""Analyse every clip of an OTIO timeline with reelmark and put the moments on the clips as markers.

    python mark_timeline_clips.py edit.otio marked.otio [--media-root DIR]

The building blocks, in the order the round trip uses them (`reelmark roundtrip` does all this and more: every
NLE format, per-clip reports, caching).
"""

import argparse
from pathlib import Path

import opentimelineio as otio

from reelmark.bridge.clock import MediaClock
from reelmark.bridge.markers import remove_reelmark_markers
from reelmark.bridge.media_lookup import MediaLookup
from reelmark.bridge.timelines import add_markers
from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.media import probe
from reelmark.core.tasks import Task

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("timeline", type=Path)
parser.add_argument("output", type=Path)
parser.add_argument("--media-root", type=Path, action="append", default=[])
args = parser.parse_args()

timeline = otio.adapters.read_from_file(str(args.timeline))
lookup = MediaLookup(args.timeline.parent, tuple(args.media_root))
engine = get_engine("signals")
for clip in timeline.find_clips():
    found = lookup.find(clip)
    if found.path is None:
        print(f"{clip.name}: {found.reason}")
        continue
    clock = MediaClock.for_clip(clip, probe(found.path))  # the clip's own source frames
    used = clip.trimmed_range()
    request = AnalysisRequest(
        found.path, (Task.SHOTS, Task.HIGHLIGHTS), start=clock.seconds_of(used.start_time),
        end=clock.seconds_of(used.end_time_exclusive()),
    )
    analysis = engine.analyze(request)
    removed = remove_reelmark_markers(clip)  # a re-run replaces reelmark's markers, never the user's
    added = add_markers(clip, analysis, clock)
    print(f"{clip.name}: {added} markers ({removed} old ones replaced)")

otio.adapters.write_to_file(timeline, str(args.output))
