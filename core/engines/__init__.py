"""Analysis engines: `signals` (embedded default, any CPU, nothing to download) and `vlm` (a GPU model)."""

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
        raise EngineUnavailableError(
            "the vlm engine is not part of this version yet; use --engine signals, which runs on any CPU"
        )
    raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
