"""Analysis engines: `signals` (embedded default, any CPU, nothing to download) and `vlm` (a GPU model), and any
an installed package adds; `registry` holds the table.

Every engine is returned whatever the machine: `vlm` itself raises EngineUnavailableError (FAILED_PRECONDITION)
with the fix when an analysis has no model or no GPU, so the daemon can still list it and say why.
"""

from __future__ import annotations

from reelmark.core.engines.base import AnalysisRequest, Engine, EngineCapabilities
from reelmark.core.engines.registry import engine_class, engine_names, get_engine

__all__ = ["AnalysisRequest", "Engine", "EngineCapabilities", "engine_class", "engine_names", "get_engine"]
