"""The daemon's commands: `reelmark serve`, `reelmark jobs`, `reelmark cancel` (click commands the CLI registers).

Imports stay light at module level (click and the address defaults) so the CLI starts fast; grpc loads when
a command runs.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import click

from reelmark.core.daemon.security import (
    DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS, LOCAL_TOKEN_ENV, MEDIA_ROOTS_ENV, TOKEN_ENV, read_token,
    roots_from_env,
)  # fmt: skip

DAEMON_ENV = "REELMARK_DAEMON"
CORS_ENV = "REELMARK_CORS_ORIGINS"
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")

daemon_option = click.option(
    "--daemon", "address", envvar=DAEMON_ENV, default=DEFAULT_GRPC_ADDRESS, show_default=True, metavar="HOST:PORT",
    help=f"The daemon's gRPC address (or ${DAEMON_ENV}). Its token, if it has one, comes from ${TOKEN_ENV}.",
)  # fmt: skip


@click.command()
@click.option("--address", default=DEFAULT_GRPC_ADDRESS, show_default=True, metavar="HOST:PORT",
              help="Where to serve gRPC. Any host but 127.0.0.1 needs a token and --media-root.")
@click.option("--http-address", default=DEFAULT_HTTP_ADDRESS, show_default=True, metavar="HOST:PORT|off",
              help="Where to serve JSON over HTTP (for the Premiere panel); 'off' for none.")
@click.option("--store", "store_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The SQLite store (default: reelmark.sqlite3 in your user data folder, or $REELMARK_STORE).")
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help=f"A file holding the bearer token clients must send (default ${TOKEN_ENV}).")
@click.option("--media-root", "media_roots", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help=f"Only serve media under this folder; repeat for several (default ${MEDIA_ROOTS_ENV}).")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help=f"A web origin allowed to call the JSON API without a credential, matched exactly; repeat for "
                   f"several (default ${CORS_ENV}, comma-separated). 'null' lets sandboxed pages of any site call: "
                   "list it only if you must. Other origins must send the token, or the local token.")
@click.option("--print-local-token", is_flag=True,
              help=f"Print the local token the Premiere panel needs (made on first use, in a 0600 file in your config "
                   f"folder, or ${LOCAL_TOKEN_ENV}), then exit.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Jobs run at once per CPU engine (a GPU engine always runs one).")
@click.option("--max-queue", type=click.IntRange(1, 10_000), default=16, show_default=True,
              help="Jobs that may wait for a worker; more are refused with RESOURCE_EXHAUSTED.")
@click.option("--grace", type=click.FloatRange(0), default=30.0, show_default=True,
              help="Seconds running jobs get to finish on SIGTERM before they are stopped and re-queued.")
@click.option("--ready-file", type=click.Path(path_type=Path, dir_okay=False), hidden=True,
              help="Write the bound addresses here as JSON once serving (for a parent process).")
def serve(address: str, http_address: str, store_path: Path | None, token_file: Path | None,
          media_roots: tuple[Path, ...], cors_origins: tuple[str, ...], print_local_token: bool, workers: int,
          max_queue: int, grace: float, ready_file: Path | None) -> None:  # fmt: skip
    """Run the reelmark daemon: gRPC and JSON APIs, a job queue, and the store of finished analyses.

    \b
    Examples:
      reelmark serve
      REELMARK_TOKEN=$(cat ~/.reelmark-token) reelmark serve --address 0.0.0.0:7330 --media-root /Volumes/Footage
    """
    from reelmark.core.daemon.security import ensure_local_token, local_token_path
    from reelmark.core.daemon.server import DaemonConfig, serve as run_daemon
    from reelmark.core.store import default_store_path

    if print_local_token:
        click.echo(ensure_local_token(local_token_path()))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if logging.getLogger().level > logging.INFO:
        logging.getLogger("reelmark.daemon").setLevel(logging.INFO)
    origins = cors_origins or tuple(origin.strip() for origin in os.environ.get(CORS_ENV, "").split(",") if origin.strip())
    token = read_token(token_file)
    config = DaemonConfig(
        address=address, http_address=None if http_address == "off" else http_address,
        store_path=store_path or default_store_path(), token=token,
        local_token=None if token is not None or http_address == "off" else ensure_local_token(local_token_path()),
        media_roots=media_roots or roots_from_env(), cors_origins=origins, cpu_workers=workers, max_queue=max_queue,
        grace_s=grace,
    )  # fmt: skip
    run_daemon(config, ready_file)


@click.command()
@daemon_option
@click.option("--state", "states", multiple=True, type=click.Choice(JOB_STATES), help="Only jobs in this state.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="How many, newest first.")
def jobs(address: str, states: tuple[str, ...], limit: int) -> None:
    """List the daemon's recent jobs, newest first."""
    from reelmark.core.api.v1 import service_pb2 as api
    from reelmark.core.client import DaemonClient

    wanted = [api.JobState.Value(f"JOB_STATE_{state.upper()}") for state in states]
    with DaemonClient(address) as client:
        found = client.jobs(limit, wanted)
    if not found:
        click.echo("no jobs")
        return
    click.echo(f"{'JOB':<19} {'STATE':<10} {'DONE':>5}  {'ENGINE':<8} {'AGE':>6}  MEDIA / NOTE")
    for job in found:
        state = api.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
        age = _age(job.created_at.ToDatetime(tzinfo=timezone.utc))
        detail = Path(job.spec.media_path).name
        if job.state == api.JOB_STATE_FAILED:
            detail += f"  {job.error.code}: {job.error.message}"
        elif job.state == api.JOB_STATE_CANCELLED:
            detail += f"  ({job.error.message})"
        elif job.note:
            detail += f"  ({job.note})"
        click.echo(f"{job.id:<19} {state:<10} {job.fraction:>5.0%}  {job.spec.engine:<8} {age:>6}  {detail}")


@click.command()
@daemon_option
@click.argument("job_ids", nargs=-1, required=True, metavar="JOB_ID...")
def cancel(address: str, job_ids: tuple[str, ...]) -> None:
    """Cancel jobs: a queued job ends now, a running one at the engine's next check."""
    from reelmark.core.api.v1 import service_pb2 as api
    from reelmark.core.client import DaemonClient

    with DaemonClient(address) as client:
        for job_id in job_ids:
            job = client.cancel(job_id)
            state = api.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
            click.echo(f"{job.id}: {'cancelling' if state == 'running' else state}")


def _age(created: datetime) -> str:
    seconds = max(0, int((datetime.now(timezone.utc) - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
