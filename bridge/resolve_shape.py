"""OTIO in the shape DaVinci Resolve's importer accepts; anything else makes it return None without a word.

The rules (DESIGN §9), each applied here and tested one by one:
1. clips are `Clip.2` with their reference in `media_references` under the key `DEFAULT_MEDIA` (and that key
   active);
2. references are bare file paths, not file:// URLs;
3. every reference has an `available_range`: the whole file from its source timecode;
4. clip source ranges and markers are timecode-absolute source frames (01:00:00:00 at 24 fps is frame 86400),
   which `reelmark.bridge.clock` already produces;
5. the timeline has a `global_start_time`.
Import it with `MediaPool.ImportTimelineFromFile(path, {"timelineName": ..., "importSourceClips": True,
"sourceClipsPath": folder})`.
"""

from __future__ import annotations

import opentimelineio as otio

from reelmark.bridge.media_lookup import path_from_url

RESOLVE_MEDIA_KEY = "DEFAULT_MEDIA"


def to_resolve_shape(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy of `timeline` that follows Resolve's rules; the input is not changed."""
    shaped = timeline.deepcopy()
    first_rate = next((clip.trimmed_range().start_time.rate for clip in shaped.find_clips()), 24.0)
    if shaped.global_start_time is None:
        shaped.global_start_time = otio.opentime.RationalTime(0, first_rate)
    for clip in shaped.find_clips():
        reference = clip.media_reference
        if not isinstance(reference, otio.schema.ExternalReference):
            continue
        available = reference.available_range or clip.source_range
        bare = otio.schema.ExternalReference(
            target_url=path_from_url(reference.target_url) or reference.target_url,
            available_range=available,
            metadata=reference.metadata,
        )
        clip.set_media_references({RESOLVE_MEDIA_KEY: bare}, RESOLVE_MEDIA_KEY)
    return shaped
