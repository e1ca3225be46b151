"""`reelmark demo`: the whole path on a clip with known content, through a real daemon."""

from __future__ import annotations

from pathlib import Path

import click

from reelmark.core.cli.common import progress_bar
from reelmark.core.files import write_atomically


@click.command()
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build/demo"),
              show_default=True, help="Where to write the demo clip, its analysis and the daemon's store and log.")
def demo(output_dir: Path) -> None:
    """Make a demo clip with known content, start a daemon, analyse the clip through it with the signals engine,
    write the result as JSON, OTIO for DaVinci Resolve and FCP7 XML for Premiere Pro, and stop the daemon."""
    from reelmark.core.client import DaemonClient, start_daemon_subprocess
    from reelmark.core.demo import DEMO_TASKS, make_demo_clip, summarise
    from reelmark.core.engines import AnalysisRequest
    from reelmark.core.media.probing import probe as probe_media
    from reelmark.core.report import format_probe

    truth = make_demo_clip(output_dir)
    click.echo(f"wrote {truth.path} ({float(truth.duration):g} s, cuts at "
               + ", ".join(f"{float(time):g} s" for time in truth.cut_times) + ")\n")
    click.echo(format_probe(probe_media(truth.path)) + "\n")
    request = AnalysisRequest(truth.path, DEMO_TASKS, ("loud", "silence", "says: subject"), params={"split_target_s": 4})
    log_path = output_dir / "reelmark-daemon.log"
    with log_path.open("ab") as log, start_daemon_subprocess(output_dir / "reelmark-demo.sqlite3", log=log) as daemon:
        click.echo(f"daemon: gRPC {daemon.address}, JSON {daemon.http_address} (log: {log_path})")
        with DaemonClient(daemon.address) as client, progress_bar() as progress:
            analysis_id, analysis = client.analyze(request, "signals", progress, force=True)
            written = []
            for name, fmt in (("reelmark-demo.json", "json"), ("reelmark-demo-resolve.otio", "resolve-otio"),
                              ("reelmark-demo.xml", "fcp7xml")):  # fmt: skip
                written.append((write_atomically(output_dir / name, client.export(analysis_id, fmt).content), fmt))
    click.echo("daemon stopped\n")
    click.echo(summarise(analysis) + "\n")
    for path, fmt in written:
        click.echo(f"wrote {path} ({fmt})")
