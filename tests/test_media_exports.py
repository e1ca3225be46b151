"""The lazy exports of `reelmark.core.media` stay what they say, whatever was imported before.

Importing a submodule binds it as an attribute of its package. A submodule named like an export (a `probe.py`
beside a `probe()` function) would then replace the function depending on import order: this guards the names.
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import reelmark.core.media as media


def test_exports_are_never_shadowed_by_submodules() -> None:
    for module in pkgutil.iter_modules(media.__path__):
        importlib.import_module(f"{media.__name__}.{module.name}")
    for name in media.__all__:
        assert not isinstance(getattr(media, name), types.ModuleType), f"reelmark.core.media.{name} is a module"
    assert callable(media.probe) and callable(media.fingerprint)
