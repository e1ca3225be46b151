"""The tables (#19) and the pieces every engine shares: the `--param` reader, task order, runs, and that the help,
the README and the wire follow the tables rather than lists kept by hand."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from reelmark.bridge.formats import FORMATS, all_formats, format_for_path, timeline_formats
from reelmark.bridge.reading import ADAPTERS
from reelmark.core.cli import cli
from reelmark.core.engines.base import AnalysisRequest, checked_tasks, request_key, requested_tasks
from reelmark.core.engines.registry import engine_class, engine_names, task_names
from reelmark.core.engines.signals.params import parse_params as parse_signals
from reelmark.core.engines.signals.runs import true_runs
from reelmark.core.engines.signals.tasks import TASKS, run_order, task_table
from reelmark.core.engines.vlm.params import parse_params as parse_vlm
from reelmark.core.errors import EngineUnavailableError, InvalidRequestError

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("parse", [parse_signals, parse_vlm], ids=["signals", "vlm"])
def test_both_engines_read_option_text_by_the_same_rules(parse) -> None:
    assert parse({"highlight_count": "3.0"}).highlight_count == 3, "an integral float is an integer"
    assert parse({"highlight_count": 4.0}).highlight_count == 4
    with pytest.raises(InvalidRequestError, match=r"highlight_count='3.5' is not a valid int"):
        parse({"highlight_count": "3.5"})
    with pytest.raises(InvalidRequestError, match="must be at least 1"):
        parse({"highlight_count": "0"})
    with pytest.raises(InvalidRequestError, match="unknown .* option"):
        parse({"highlight_cuont": "3"})


def test_optional_values_take_empty_text_and_none_alike() -> None:
    for text in ("", "none", "None", None):
        assert parse_signals({"split_target_s": text}).split_target_s is None
        assert parse_vlm({"fps": text}).fps is None
    assert parse_vlm({"fps": "1/2"}).fps == Fraction(1, 2)
    assert parse_signals({"reframe_aspects": "9:16, 1:1"}).reframe_aspects == ("9:16", "1:1")
    with pytest.raises(InvalidRequestError, match="must be one of auto, cuda, cpu"):
        parse_vlm({"device": "tpu"})


def test_limits_are_checked_by_the_options_dataclass_itself() -> None:
    options = engine_class("signals").options
    with pytest.raises(InvalidRequestError, match="shot_sensitivity must lie between 0 and 1"):
        options(shot_sensitivity=2.0)
    # A shape reframe does not make is refused with the options, before any work (it failed a daemon job as an
    # internal error after the whole video pass).
    with pytest.raises(InvalidRequestError, match="'16:10' is not a shape reframe makes; choose from 9:16, 1:1, 4:5"):
        parse_signals({"reframe_aspects": "9:16,16:10"})
    # Values that were taken silently: no shape at all, a negative or not-a-number silence or padding.
    for raw, message in [
        ({"reframe_aspects": ""}, "reframe_aspects needs at least one shape"),
        ({"min_silence_s": "-1"}, "min_silence_s must be a positive number"),
        ({"min_silence_s": "nan"}, "min_silence_s must be a positive number"),
        ({"transcript_padding_s": "-1"}, "transcript_padding_s must be zero or a positive number"),
    ]:
        with pytest.raises(InvalidRequestError, match=message):
            parse_signals(raw)


@pytest.mark.parametrize(
    ("mask", "runs"),
    [
        ([], []),
        ([False, False], []),
        ([True], [(0, 1)]),
        ([True, True, False, True], [(0, 2), (3, 4)]),
        ([False, True, True, True], [(1, 4)]),
    ],
)
def test_runs_are_half_open(mask: list[bool], runs: list[tuple[int, int]]) -> None:
    found = true_runs(np.array(mask, dtype=bool))
    assert found == runs
    assert all(np.asarray(mask, dtype=bool)[start:stop].all() for start, stop in found)


def test_a_task_runs_after_the_tasks_it_uses() -> None:
    assert run_order(("ground",)) == ("activity", "ground")
    assert run_order(("ground", "activity", "shots")) == ("activity", "ground", "shots")
    for name, spec in task_table().items():
        assert all(used in TASKS for used in spec.uses), name
        assert spec.runner() is not None, f"{name}'s runner {spec.run} imports"


def test_every_task_in_the_tables_is_offered_and_checked(tmp_path: Path) -> None:
    help_text = " ".join(CliRunner().invoke(cli, ["analyze", "--help"]).output.split())
    for name in task_names():
        assert name in help_text, name
    signals = engine_class("signals")
    request = AnalysisRequest(tmp_path / "x.mp4", ("describe",))
    with pytest.raises(EngineUnavailableError, match=r"engine signals cannot do describe; use --engine vlm \(a vision"):
        checked_tasks(request, signals)
    with pytest.raises(InvalidRequestError, match="unknown task 'juggle'"):
        checked_tasks(AnalysisRequest(tmp_path / "x.mp4", ("juggle",)), signals)
    with pytest.raises(InvalidRequestError, match="--task transcript needs at least one --query"):
        requested_tasks(("transcript",), (), signals)
    assert requested_tasks((), ("person",), signals) == ("ground",)


def test_engines_declare_what_the_cli_and_daemon_read() -> None:
    assert engine_names()[:2] == ("signals", "vlm")
    for name in engine_names():
        engine = engine_class(name)
        assert engine.name == name and engine.summary and set(engine.default_tasks) <= set(engine.tasks)
        assert set(engine.query_tasks) <= set(engine.tasks)


def test_one_key_for_a_request_whoever_asks(tmp_path: Path) -> None:
    signals = engine_class("signals")
    base = AnalysisRequest(tmp_path / "a.mp4", ("shots",), params={"highlight_count": "3"})
    same = AnalysisRequest(tmp_path / "moved.mp4", ("shots", "shots"), params={"highlight_count": "3"})
    other = AnalysisRequest(tmp_path / "a.mp4", ("shots",), params={"highlight_count": "4"})
    assert request_key(base, signals, "fp") == request_key(same, signals, "fp"), "the media is its fingerprint"
    assert request_key(base, signals, "fp") != request_key(other, signals, "fp")
    assert request_key(base, signals, "fp") != request_key(base, signals, "fp2")


def test_formats_come_from_one_list() -> None:
    assert all_formats() is FORMATS
    for name, record in FORMATS.items():
        assert record.extensions and all(extension.startswith(".") for extension in record.extensions), name
        assert record.keeps and record.summary, name
    assert format_for_path(Path("cut.fcpxml")) == "fcpxml" and format_for_path(Path("a.otio")) == "otio"
    assert set(timeline_formats()) == {"otio", "resolve-otio", "fcp7xml", "edl", "fcpxml"}
    assert all(name in ADAPTERS for name, record in FORMATS.items() if record.readable), "readable means the reader has it"
    help_text = " ".join(CliRunner().invoke(cli, ["export", "--help"]).output.split())
    for name, record in FORMATS.items():
        assert f"{name} ({record.summary}" in help_text, name


def test_the_readme_has_a_row_for_every_format() -> None:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \|", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert set(FORMATS) <= set(rows), f"formats without a README row: {sorted(set(FORMATS) - set(rows))}"


def test_a_task_that_uses_an_unknown_task_or_takes_a_taken_name_is_refused() -> None:
    from reelmark.core.engines.signals.tasks import TaskSpec

    with pytest.raises(ValueError, match="uses unknown task"):
        TASKS.register(TaskSpec("lonely", "nowhere:run", uses=("missing",)))
    with pytest.raises(ValueError, match="signals task 'shots' is already registered"):
        TASKS.register(TaskSpec("shots", "elsewhere:run"))
    assert "lonely" not in TASKS and TASKS["shots"].run.endswith(":shots")
