"""The `reelmark` command line: every verb in one room, one table.

`COMMANDS` names where each verb lives ("module:attribute"); a verb's module is imported only when that verb runs
(or when `--help` lists them), so `reelmark probe` never loads the daemon's grpc or an engine's numpy. Installed
packages add verbs through the `reelmark.commands` entry-point group. Lower layers (daemon, engines, bridge) never
import this package: it sits on top of them.

A user error prints one line (`reelmark: error: …`) and exits 1; a usage error prints click's usage message and
exits 2.
"""

from __future__ import annotations

import importlib
import logging
import sys
from importlib.metadata import entry_points

import click

from reelmark.core import __version__
from reelmark.core.cli.common import ReelmarkGroup

ENTRY_POINT_GROUP = "reelmark.commands"
COMMANDS: dict[str, str] = {
    "probe": "reelmark.core.cli.analysis:probe",
    "analyze": "reelmark.core.cli.analysis:analyze",
    "export": "reelmark.core.cli.analysis:export",
    "roundtrip": "reelmark.core.cli.analysis:roundtrip",
    "install": "reelmark.core.cli.install:install",
    "uninstall": "reelmark.core.cli.install:uninstall",
    "demo": "reelmark.core.cli.demo:demo",
    "serve": "reelmark.core.cli.daemon:serve",
    "jobs": "reelmark.core.cli.daemon:jobs",
    "cancel": "reelmark.core.cli.daemon:cancel",
    "models": "reelmark.core.cli.models:models",
}
"""Built-in verbs; entry points add more (a built-in name cannot be replaced)."""


class LazyGroup(ReelmarkGroup):
    """A group whose commands are imported from `COMMANDS` (and entry points) when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_targets())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = _targets().get(name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)


def _targets() -> dict[str, str]:
    found = dict(COMMANDS)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point.value)
    return found


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="reelmark")
@click.option("-v", "--verbose", is_flag=True, help="Log what reelmark does, step by step (debug level).")
def cli(verbose: bool) -> None:
    """reelmark finds moments in footage (cuts, highlights, people, answers to queries) and delivers them
    to DaVinci Resolve and Premiere Pro as markers and timelines.

    \b
    Examples:
      reelmark probe interview.mov
      reelmark probe interview.mov --json
      reelmark demo --output-dir /tmp/reelmark-demo
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(relativeCreated)7.0f ms %(levelname)s %(name)s: %(message)s"))
    if verbose:  # reelmark's own steps only: libraries' debug chatter would bury them
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or record.name.startswith("reelmark"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="reelmark")
    except KeyboardInterrupt:
        click.echo("reelmark: interrupted", err=True)
        sys.exit(130)
