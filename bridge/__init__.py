"""reelmark.bridge: results ⇄ OpenTimelineIO ⇄ NLE files (OTIO, Resolve-shaped OTIO, FCP7 XML, EDL, FCPXML).

The writers arrive with the bridge work (issue #4); until then `reelmark analyze --format` accepts only json.
"""
