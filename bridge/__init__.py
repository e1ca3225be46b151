"""reelmark.bridge: results ⇄ OpenTimelineIO ⇄ NLE files.

- `timelines`: an analysis as OTIO timelines (the clip with a marker per moment, the highlight reel, segments).
- `markers`: moments as Marker.2, and finding reelmark's own markers again for re-import.
- `colours`: one colour table by moment kind for OTIO, Resolve and Premiere.
- `clock`: media seconds ⇄ timecode-absolute source frames, exact.
- `writers`: one writer per NLE target (otio, resolve-otio, fcp7xml, edl, fcpxml), each saying what it loses.
- `rates`: the frame rates each format holds, and any other rate conformed to them (frames converted, not relabelled).
- `edl`: CMX 3600 locators in record time, and EDL documents patched line by line.
- `xml_patch`, `fcp7_patch`, `fcpxml_patch`: XML documents patched in place, every byte but reelmark's markers kept.
- `reading`: any timeline OTIO reads (OTIO, FCP7 XML, EDL, FCPXML, AAF), checked first (XML bombs, garbage lines).
- `media_lookup`: the media file behind a timeline clip, on this machine.
- `roundtrip`: a timeline in, the same timeline out with markers on every clip reelmark could analyse (patched
  where the output is the input's own format).

Import the submodules directly; this package imports nothing, so `reelmark.bridge.formats` stays light.
"""
