"""Analysis engines: `signals` (embedded default, any CPU, nothing to download) and `vlm` (a GPU model).

Both are returned whatever the machine: `vlm` itself raises EngineUnavailableError (FAILED_PRECONDITION) with
the fix when an analysis has no model or no GPU, so the daemon can still list it and say why.
"""

from __future__ import annotations

from reelmark.core.engines.base import AnalysisRequest, Engine, EngineCapabilities
from reelmark.core.errors import EngineUnavailableError

ENGINE_NAMES = ("signals", "vlm")

__all__ = ["ENGINE_NAMES", "AnalysisRequest", "Engine", "EngineCapabilities", "get_engine"]


def get_engine(name: str) -> Engine:
    """The engine called `name`, imported only now (engines carry heavy dependencies)."""
    if name == "signals":
        from reelmark.core.engines.signals import SignalsEngine

        return SignalsEngine()
    if name == "vlm":
        from reelmark.core.engines.vlm import VlmEngine

        return VlmEngine()
    raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
