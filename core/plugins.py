"""The tables installed packages add to through entry points (signals tasks, output formats).

A `PluginTable` is a dict of built-ins by name. Entry points are loaded on the table's first full read
(`with_installed`), never at import: a plug-in imports reelmark's modules to build its records, so loading at
their import would run in a circle. One plug-in that fails to load is logged and left out, so it cannot stop the
built-ins or the other plug-ins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Generic, Protocol, TypeVar

log = logging.getLogger("reelmark.plugins")


class Named(Protocol):
    @property
    def name(self) -> str: ...


Record = TypeVar("Record", bound=Named)


class PluginTable(dict[str, Record], Generic[Record]):
    def __init__(self, group: str, kind: str, built_in: Iterable[Record],
                 check: Callable[[Record, dict[str, Record]], None] | None = None):  # fmt: skip
        super().__init__((record.name, record) for record in built_in)
        self.check = check
        """Raises ValueError for a record that cannot join the table as it stands."""
        self.group = group
        """The entry-point group packages declare their records in."""
        self.kind = kind
        """What a record is, for messages ("format", "signals task")."""
        self._installed_loaded = False

    def register(self, record: Record) -> None:
        """Add `record` in this process; a name already taken by another record is refused."""
        if record.name in self and self[record.name] != record:
            raise ValueError(f"{self.kind} {record.name!r} is already registered")
        if self.check is not None:
            self.check(record, self)
        self[record.name] = record

    def with_installed(self) -> PluginTable[Record]:
        """This table with every installed package's records (loaded once)."""
        if not self._installed_loaded:
            self._installed_loaded = True
            for point in entry_points(group=self.group):
                try:
                    self.register(point.load())
                except (ImportError, AttributeError, TypeError, ValueError) as error:
                    log.warning("%s plug-in %s (%s) not loaded: %s", self.kind, point.name, point.value, error)
        return self
