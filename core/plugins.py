"""Loading what installed packages add to reelmark's tables through entry points (tasks, formats).

Loading happens on a table's first use, never at import: a plug-in imports reelmark's modules to build its
records, so loading at their import would run in a circle. One plug-in that fails to load is logged and left out,
so it cannot stop the built-ins or the other plug-ins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

log = logging.getLogger("reelmark.plugins")


def load_installed(group: str, register: Callable[[Any], None]) -> None:
    """Load every entry point of `group` and pass what it names to `register`."""
    for point in entry_points(group=group):
        try:
            register(point.load())
        except (ImportError, AttributeError, TypeError, ValueError) as error:
            log.warning("plug-in %s (%s) in %s not loaded: %s", point.name, point.value, group, error)
