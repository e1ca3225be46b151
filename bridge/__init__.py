"""reelmark.bridge: results ⇄ OpenTimelineIO ⇄ NLE files.

- `timelines`: an analysis as OTIO timelines (the clip with a marker per moment, the highlight reel, segments).
- `markers`: moments as Marker.2, and finding reelmark's own markers again for re-import.
- `colours`: one colour table by moment kind for OTIO, Resolve and Premiere.
- `clock`: media seconds ⇄ timecode-absolute source frames, exact.
- `writers`: one writer per NLE target (otio, resolve-otio, fcp7xml, edl, fcpxml), each saying what it loses.
- `reading`: any timeline OTIO reads (OTIO, FCP7 XML, EDL, FCPXML, AAF), checked first (XML bombs, garbage lines).
- `media_lookup`: the media file behind a timeline clip, on this machine.
- `roundtrip`: a timeline in, the same timeline out with markers on every clip reelmark could analyse.

Import the submodules directly; this package imports nothing, so `reelmark.bridge.formats` stays light.
"""
