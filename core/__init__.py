"""reelmark.core: media ingest, engines, the results model, store, daemon, client and CLI.

Importing this package is cheap (no PyAV, torch or transformers): the CLI starts fast and plugins can read
results without the media stack.
"""

__version__ = "0.1.0"

from reelmark.core.results import Analysis, Box, EngineRef, MediaRef, Moment, MomentKind, TimeSpan, TubePoint

__all__ = ["Analysis", "Box", "EngineRef", "MediaRef", "Moment", "MomentKind", "TimeSpan", "TubePoint", "__version__"]
