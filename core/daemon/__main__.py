"""`python -m reelmark.core.daemon serve|jobs|cancel`: the daemon's commands without the rest of the CLI."""

from __future__ import annotations

import click

from reelmark.core.cli import ReelmarkGroup
from reelmark.core.daemon.commands import cancel, jobs, serve


@click.group(cls=ReelmarkGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The reelmark daemon and its job commands."""


for command in (serve, jobs, cancel):
    main.add_command(command)

if __name__ == "__main__":
    main(prog_name="python -m reelmark.core.daemon")
