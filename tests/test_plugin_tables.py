"""#19's acceptance: a task, an engine, a format and a CLI verb added from outside the tree, through the tables'
entry points alone, run through the CLI and a real daemon without any other file changing.

The plug-in is a package written into a temporary folder with its own `.dist-info` (what `pip install` leaves),
put on PYTHONPATH of the CLI and daemon subprocesses; importlib.metadata finds its entry points there. The daemon's
worker processes see it the same way, so the test also proves the plug-in reaches a spawned worker.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reelmark.core.client import DaemonClient, start_daemon_subprocess
from reelmark.core.engines import AnalysisRequest
from reelmark.core.media.synthetic import ClipTruth
from reelmark.core.results import Analysis

PLUGIN = '''
"""A toy plug-in: one engine, one signals task, one format, one CLI verb."""
from dataclasses import dataclass
from fractions import Fraction

import click

from reelmark.bridge.formats import Format
from reelmark.core.engines.base import EngineCapabilities, analysed_range, build_analysis, checked_tasks
from reelmark.core.engines.options import parse_options
from reelmark.core.engines.signals.tasks import TaskSpec
from reelmark.core.media.probing import probe
from reelmark.core.results import Moment, MomentKind, TimeSpan


@dataclass(frozen=True)
class ToyOptions:
    label: str = "toy"
    """The label of the one moment."""
    parts: int = 2
    """Into how many parts the range is cut."""

    def __post_init__(self):
        if self.parts < 1:
            raise ValueError("parts must be at least 1")


class ToyEngine:
    name = "toy"
    version = "0.0.1"
    summary = "a test plug-in"
    tasks = ("parts",)
    default_tasks = ("parts",)
    query_tasks = frozenset()
    options = ToyOptions

    def capabilities(self):
        return EngineCapabilities(self.tasks, self.default_tasks, needs_gpu=False, max_duration_s=None, device="cpu")

    def preflight(self, request):
        parse_options(ToyOptions, request.params, self.name)
        checked_tasks(request, self)

    def analyze(self, request, progress=None, cancelled=None):
        options = parse_options(ToyOptions, request.params, self.name)
        tasks = checked_tasks(request, self)
        info = probe(request.media)
        analysed = analysed_range(info, request)
        step = analysed.duration / options.parts
        moments = [Moment(MomentKind.SEGMENT, TimeSpan(analysed.start + index * step, analysed.start + (index + 1) * step),
                          f"{options.label} {index + 1}") for index in range(options.parts)]
        return build_analysis(self, request, info, analysed, options, tasks, moments, ["toy engine ran"])


def midpoint(context, queries):
    middle = (context.start + context.end) / 2
    return [Moment(MomentKind.MATCH, TimeSpan(middle, middle), "midpoint", text=f"{context.video.frame_count} frames")]


MIDPOINT = TaskSpec("toy-midpoint", "toy_reelmark:midpoint", frozenset({"video"}))


def write_csv(analysis, fmt, timeline):
    rows = ["kind,start_s,end_s,label"] + [f"{m.kind.value},{m.span.start_s:.6f},{m.span.end_s:.6f},{m.label}"
                                            for m in analysis.moments]
    return ("\\n".join(rows) + "\\n").encode("utf-8")


CSV = Format("toy-csv", (".toycsv",), "moments as CSV", "kind, range and label of every moment",
             frozenset({"analysis"}), writer="toy_reelmark:write_csv")


@click.command("toy-hello")
@click.argument("name")
def hello(name):
    """Say hello (a plug-in verb)."""
    click.echo(f"hello {name} from a plug-in")
'''

ENTRY_POINTS = """\
[reelmark.engines]
toy = toy_reelmark:ToyEngine

[reelmark.signals.tasks]
toy-midpoint = toy_reelmark:MIDPOINT

[reelmark.formats]
toy-csv = toy_reelmark:CSV
broken = toy_reelmark:NO_SUCH_FORMAT

[reelmark.commands]
toy-hello = toy_reelmark:hello
"""


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose PYTHONPATH holds the installed-looking toy plug-in."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "toy_reelmark.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = folder / "toy_reelmark-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-reelmark\nVersion: 0.0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    paths = [str(folder)] + [part for part in os.environ.get("PYTHONPATH", "").split(os.pathsep) if part]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def reelmark(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reelmark.core.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_cli_offers_and_runs_a_plugin_engine_task_format_and_verb(plugin_env: dict[str, str],
                                                                      clips: dict[str, ClipTruth], tmp_path: Path) -> None:  # fmt: skip
    clip = clips["longgop"]
    help_text = " ".join(reelmark(plugin_env, "analyze", "--help").stdout.split())
    assert "toy: a test plug-in" in help_text and "toy-midpoint" in help_text and "toy-csv (moments as CSV" in help_text

    by_engine = reelmark(plugin_env, "analyze", str(clip.path), "--engine", "toy", "--param", "parts=4", "-o",
                         str(tmp_path / "parts.toycsv"))  # fmt: skip
    assert by_engine.returncode == 0, by_engine.stderr
    assert "format plug-in broken (toy_reelmark:NO_SUCH_FORMAT) not loaded" in by_engine.stderr, \
        "a broken plug-in is named, and the others still work"  # fmt: skip
    rows = list(csv.DictReader(io.StringIO((tmp_path / "parts.toycsv").read_text(encoding="utf-8"))))
    assert [row["label"] for row in rows] == ["toy 1", "toy 2", "toy 3", "toy 4"]
    assert float(rows[-1]["end_s"]) == pytest.approx(float(clip.duration), abs=1 / 25)

    by_task = reelmark(plugin_env, "analyze", str(clip.path), "--task", "toy-midpoint", "--task", "shots", "-o",
                       str(tmp_path / "mid.json"))  # fmt: skip
    assert by_task.returncode == 0, by_task.stderr
    analysis = Analysis.from_json((tmp_path / "mid.json").read_text(encoding="utf-8"))
    (middle,) = [moment for moment in analysis.moments if moment.label == "midpoint"]
    assert middle.span.start_s == pytest.approx(float(clip.duration) / 2, abs=1 / 25)
    assert middle.text == f"{clip.spec.frame_count} frames", "the task read the shared video pass"
    assert analysis.of_kind("shot"), "the built-in task ran beside it in the same analysis"

    bad_option = reelmark(plugin_env, "analyze", str(clip.path), "--engine", "toy", "--param", "part=4")
    assert bad_option.returncode == 1 and "unknown toy option(s) part; known options: label, parts" in bad_option.stderr

    assert reelmark(plugin_env, "toy-hello", "editor").stdout == "hello editor from a plug-in\n"


def test_a_real_daemon_runs_a_plugin_engine_task_and_format(plugin_env: dict[str, str], clips: dict[str, ClipTruth],
                                                            tmp_path: Path) -> None:  # fmt: skip
    clip = clips["longgop"]
    with start_daemon_subprocess(tmp_path / "store.sqlite3", env=plugin_env, log=subprocess.DEVNULL) as daemon, \
            DaemonClient(daemon.address) as client:  # fmt: skip
        engines = {engine.name: engine for engine in client.engines()}
        assert list(engines["toy"].tasks) == ["parts"] and "toy-midpoint" in engines["signals"].tasks

        analysis_id, analysis = client.analyze(AnalysisRequest(clip.path, ("parts",), params={"parts": "3"}), "toy")
        assert [moment.label for moment in analysis.moments] == ["toy 1", "toy 2", "toy 3"]
        exported = client.export(analysis_id, "toy-csv")
        assert exported.extension == ".toycsv" and exported.content.decode("utf-8").count("\n") == 4

        _, marked = client.analyze(AnalysisRequest(clip.path, ("toy-midpoint",)), "signals")
        assert [moment.label for moment in marked.moments] == ["midpoint"], "a spawned worker ran the plug-in task"
