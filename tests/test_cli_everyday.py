"""What a new user trips over on the command line (#18): queries without a task that reads them, `-v`, the
reason a transcript search found nothing, output formats, what an NLE file kept, plurals, small scores, the
round-trip report, an empty model cache, an unset creation time, and every `--param` default in `--help`.

Each runs the real CLI (`reelmark` console script or click's runner) on generated clips or the corpus.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import av
import pytest
from click.testing import CliRunner

from reelmark.core.cli import cli
from reelmark.core.media.synthetic import ClipTruth
from reelmark.core.param_help import engine_options
from reelmark.core.report import format_score

REELMARK = Path(sys.executable).with_name("reelmark")
README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REELMARK), *args], capture_output=True, text=True, timeout=300, check=False)


def test_a_query_without_a_task_grounds_it(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    out = tmp_path / "grounded.json"
    result = run("analyze", str(clips["cfr25"].path), "--query", "loud", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["engine"]["params"]["tasks"] == ["ground"]


def test_a_query_no_chosen_task_reads_is_a_usage_error(clips: dict[str, ClipTruth]) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(clips["cfr25"].path), "--task", "shots", "--query", "a red coat"])
    assert result.exit_code == 2 and "--query is read only by --task" in result.output, result.output
    helped = CliRunner().invoke(cli, ["analyze", "--help"])
    assert "with no --task, --query means --task ground" in " ".join(helped.output.split())


def test_verbose_logs_the_decode_plan_and_timed_stages(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    result = run("-v", "analyze", str(clips["cfr25"].path), "--task", "shots", "-o", str(tmp_path / "a.json"))
    assert result.returncode == 0, result.stderr
    assert "decode plan: all frames of cfr25.mp4, sequential" in result.stderr, result.stderr
    assert "stage 'decoding video' done in" in result.stderr and "finished in" in result.stderr, result.stderr
    quiet = run("analyze", str(clips["cfr25"].path), "--task", "shots", "-o", str(tmp_path / "b.json"))
    assert "DEBUG" not in quiet.stderr


def test_verbose_logs_daemon_calls(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    from reelmark.core.client import start_daemon_subprocess

    with start_daemon_subprocess(tmp_path / "store.sqlite3", log=subprocess.DEVNULL) as daemon:
        result = run("-v", "analyze", str(clips["cfr25"].path), "--task", "shots", "--daemon", daemon.address,
                     "-o", str(tmp_path / "a.json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"daemon {daemon.address}: StartAnalysisRequest answered in" in result.stderr, result.stderr
    assert f"daemon {daemon.address}: watching job" in result.stderr


def test_verbose_logs_model_loads(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from tiny_vlm import build_tiny_qwen25_vl

    from reelmark.core.engines.vlm.loader import ModelCache

    folder = build_tiny_qwen25_vl(tmp_path / "tiny")
    caplog.set_level(logging.DEBUG, logger="reelmark")
    cache = ModelCache()
    cache.get(str(folder), "cpu")
    cache.get(str(folder), "cpu")
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith(f"loaded model {folder} in ") for message in messages), messages
    assert any("already loaded" in message for message in messages), messages


def test_transcript_search_without_subtitles_says_why(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    result = run("analyze", str(clips["longgop"].path), "--task", "transcript", "--query", "hello",
                 "-o", str(tmp_path / "t.json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote 0 moments" in result.stderr
    assert "no subtitle stream and there is no .srt/.vtt sidecar" in result.stderr, result.stderr
    with_cues = run("analyze", str(clips["cfr25"].path), "--task", "transcript", "--query", "line",
                    "-o", str(tmp_path / "c.json"))  # fmt: skip
    assert "sidecar" not in with_cues.stderr, "a clip with subtitles gets no such note"


def test_an_unknown_output_extension_is_refused_before_any_work(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["analyze", str(clips["cfr25"].path), "-o", str(tmp_path / "out.txt")])
    assert result.exit_code == 2 and "cannot tell the format from 'out.txt'" in result.output, result.output
    assert not (tmp_path / "out.txt").exists()
    named = run("analyze", str(clips["cfr25"].path), "--task", "shots", "-o", str(tmp_path / "out.txt"),
                "--format", "json")  # fmt: skip
    assert named.returncode == 0 and json.loads((tmp_path / "out.txt").read_text())["moments"]


@pytest.fixture(scope="module")
def saved(clips: dict[str, ClipTruth], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An analysis with shots and a reframe path, saved as JSON."""
    path = tmp_path_factory.mktemp("saved") / "cfr25.json"
    result = run("analyze", str(clips["cfr25"].path), "--task", "shots", "--task", "reframe", "-o", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_an_nle_file_says_how_many_markers_it_got_and_what_the_format_kept(saved: Path, tmp_path: Path) -> None:
    analysis = json.loads(saved.read_text())
    moments = analysis["moments"]
    reframes = sum(moment["kind"] == "reframe" for moment in moments)
    result = CliRunner().invoke(cli, ["export", str(saved), "-o", str(tmp_path / "x.edl")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "x.edl").read_text().count("* LOC:")
    assert reframes > 1 and written == len(moments) - reframes
    assert f"wrote {written} markers on 1 clip" in result.output and f"from {len(moments)} moments" in result.output
    assert "edl keeps each marker's start frame, colour and upper-cased name only" in result.output
    assert f"{reframes} reframe paths are not markers" in result.output


def test_counts_are_singular_for_one(saved: Path, tmp_path: Path) -> None:
    analysis = json.loads(saved.read_text())
    analysis["moments"] = [next(moment for moment in analysis["moments"] if moment["kind"] == "shot")]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(analysis))
    result = CliRunner().invoke(cli, ["export", str(single), "-o", str(tmp_path / "one-again.json")])
    assert result.exit_code == 0 and "wrote 1 moment (1 shot)" in result.output, result.output
    marked = CliRunner().invoke(cli, ["export", str(single), "-o", str(tmp_path / "one.otio")])
    assert "wrote 1 marker on 1 clip" in marked.output and "from 1 moment " in marked.output, marked.output


def test_a_small_score_is_not_shown_as_zero(saved: Path, tmp_path: Path) -> None:
    assert (format_score(0.001), format_score(0.0), format_score(0.5), format_score(0.567)) == ("0.001", "0.00", "0.50", "0.57")
    analysis = json.loads(saved.read_text())
    shot = next(moment for moment in analysis["moments"] if moment["kind"] == "shot")
    shot["score"] = 0.001
    analysis["moments"] = [shot]
    small = tmp_path / "small.json"
    small.write_text(json.dumps(analysis))
    assert CliRunner().invoke(cli, ["export", str(small), "-o", str(tmp_path / "small.xml")]).exit_code == 0
    assert "score 0.001" in (tmp_path / "small.xml").read_text()


def test_the_round_trip_report_explains_replaced_markers(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    first, second = tmp_path / "first.otio", tmp_path / "second.otio"
    assert run("analyze", str(clips["cfr25"].path), "--task", "shots", "-o", str(first)).returncode == 0
    result = run("roundtrip", str(first), "-o", str(second), "--task", "shots")
    assert result.returncode == 0, result.stderr
    assert " old)" in result.stderr, result.stderr
    assert "old: reelmark's markers from an earlier run, replaced; yours are untouched" in result.stderr
    assert "(-" not in result.stderr


def test_models_list_with_an_empty_cache_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run([str(REELMARK), "models", "list"], capture_output=True, text=True, timeout=60,
                            env={"HF_HUB_CACHE": str(tmp_path / "hub"), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no usable checkpoints in the Hugging Face cache" in result.stdout and "reelmark models pull" in result.stdout
    assert "cache_dir" not in result.stdout


def test_models_pull_without_the_hub_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    """Offline (HF_HUB_OFFLINE, so no test reaches the network), a pull fails as it does on a machine with no
    network: one line that says how to get the model here, not the library's several lines about snapshots
    (nor, before, a traceback)."""
    result = subprocess.run([str(REELMARK), "models", "pull", "Systran/faster-whisper-small"], capture_output=True,
                            text=True, timeout=60, env={"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1",
                                                        "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "reelmark: error: cannot reach the Hugging Face Hub to fetch Systran/faster-whisper-small (no network, or "
        "HF_HUB_OFFLINE is set); pull it on a machine that can and copy the folder here, then pass that folder to --model"
    ]


@pytest.mark.parametrize("model_id", ["a/b/c", "bad id!"])
def test_models_pull_of_something_that_is_no_model_id_says_how_to_write_one(tmp_path: Path, model_id: str) -> None:
    result = subprocess.run([str(REELMARK), "models", "pull", model_id], capture_output=True, text=True, timeout=60,
                            env={"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"reelmark: error: {model_id!r} is not a model id; write it as owner/name, e.g. Systran/faster-whisper-small"
    ]


def _with_creation_time(source: Path, target: Path, stamp: str) -> Path:
    """A copy of `source` (streams copied, not re-encoded) whose container says it was created at `stamp`."""
    with av.open(str(source)) as given, av.open(str(target), "w") as copy:
        copy.metadata["creation_time"] = stamp
        video = given.streams.video[0]
        out = copy.add_stream_from_template(video)
        for packet in given.demux(video):
            if packet.dts is not None:
                packet.stream = out
                copy.mux(packet)
    return target


def test_a_1970_creation_time_prints_as_unknown(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    unset = _with_creation_time(clips["longgop"].path, tmp_path / "unset.mp4", "1970-01-01T00:00:00.000000Z")
    real = _with_creation_time(clips["longgop"].path, tmp_path / "real.mp4", "2024-05-06T07:08:09.000000Z")
    unset_report = run("probe", str(unset))
    assert unset_report.returncode == 0, unset_report.stderr
    assert "created      unknown" in unset_report.stdout and "1970" not in unset_report.stdout
    assert json.loads(run("probe", str(unset), "--json").stdout)["creation_time"] is None
    assert "created      2024-05-06T07:08:09" in run("probe", str(real)).stdout


def _default_in_help(help_text: str, name: str, default: str) -> bool:
    return any(line.split()[:1] == [f"{name}={default}"] for line in help_text.splitlines() if line.strip())


@pytest.mark.parametrize("command", ["analyze", "roundtrip"])
def test_every_param_default_is_in_help_and_the_readme(command: str) -> None:
    help_text = CliRunner().invoke(cli, [command, "--help"]).output
    readme = README.read_text(encoding="utf-8")
    options = engine_options()
    assert {"signals", "vlm"} <= set(options)
    for engine, rows in options.items():
        assert f"{engine} engine options (--param NAME=VALUE), with defaults" in help_text
        for name, default, _meaning in rows:
            assert _default_in_help(help_text, name, default), f"{engine} {name}={default} missing from --help"
            assert f"| `{name}` | `{default}` |" in readme, f"README lacks the {engine} option {name} (default {default})"
