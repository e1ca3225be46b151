"""`reelmark install` / `uninstall`: put reelmark's script into an NLE, or take it out again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reelmark.core.cli.common import TableChoice, task_names

if TYPE_CHECKING:
    from reelmark.core.resolve_install import Planned


@click.group()
def install() -> None:
    """Install reelmark's script into an NLE (see plugin/*/README.md)."""


@click.group()
def uninstall() -> None:
    """Remove what `reelmark install` put into an NLE."""


SCRIPTS_DIR = click.option("--scripts-dir", type=click.Path(path_type=Path, file_okay=False),
                           help="Resolve's Fusion/Scripts folder. Default: the per-user folder on this OS.")
DRY_RUN = click.option("--dry-run", is_flag=True, help="Say what would be written or removed, and change nothing.")


@install.command("resolve")
@SCRIPTS_DIR
@DRY_RUN
@click.option("--address", default="127.0.0.1:7331", show_default=True, metavar="HOST:PORT",
              help="The daemon's JSON (HTTP) address the script talks to; it starts a daemon there if none runs.")
@click.option("--task", "tasks", multiple=True, type=TableChoice(task_names),
              help="What the script finds; repeat for several. Default: shots, people, highlights.")
@click.option("--no-highlight-reel", is_flag=True, help="Do not import the highlight reel as a new timeline.")
def install_resolve(scripts_dir: Path | None, dry_run: bool, address: str, tasks: tuple[str, ...], no_highlight_reel: bool) -> None:
    """Add "reelmark Analyze Clip" to DaVinci Resolve's Workspace > Scripts menu (per user).

    \b
    Examples:
      reelmark install resolve --dry-run
      reelmark install resolve --task shots --task highlights
    """
    from reelmark.core.resolve_install import DEFAULT_TASKS, install_plan, python_notes, scripts_folder

    plan = install_plan(scripts_dir or scripts_folder(), address, tasks or DEFAULT_TASKS, not no_highlight_reel)
    _run_plan(plan, dry_run, done="installed: restart Resolve, then Workspace > Scripts > reelmark Analyze Clip")
    for note in python_notes():
        click.echo(note)


@uninstall.command("resolve")
@SCRIPTS_DIR
@DRY_RUN
def uninstall_resolve(scripts_dir: Path | None, dry_run: bool) -> None:
    """Remove "reelmark Analyze Clip" and its install record from Resolve's Scripts folder."""
    from reelmark.core.resolve_install import scripts_folder, uninstall_plan

    plan = uninstall_plan(scripts_dir or scripts_folder())
    if not plan:
        click.echo("reelmark is not installed in Resolve's Scripts folder; nothing to remove")
        return
    _run_plan(plan, dry_run, done="removed")


def _run_plan(plan: list[Planned], dry_run: bool, done: str) -> None:
    from reelmark.core.resolve_install import carry_out

    for step in plan:
        click.echo(("would " if dry_run else "") + step.describe())
    if not dry_run:
        carry_out(plan)
        click.echo(done)
