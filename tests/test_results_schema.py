"""Word timings in the results model, and reading analyses saved by older versions (schema upgrades)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core.errors import ResultsFormatError
from reelmark.core.results import Analysis, Moment, MomentKind, TimeSpan, Word
from reelmark.core.schema_upgrades import CURRENT_VERSION, SCHEMA, UPGRADES
from reelmark.core.store import Store

V1_FILE = Path(__file__).parent / "data" / "analyses" / "analysis-v1.json"


def _speech() -> Moment:
    words = (Word(Fraction(1), Fraction(13, 10), "Hello", 0.93), Word(Fraction(7, 5), Fraction(2), "world.", None))
    return Moment(MomentKind.SPEECH, TimeSpan(Fraction(1), Fraction(2)), text="Hello world.", words=words)


def test_a_version_1_file_reads_and_writes_back_as_the_current_version() -> None:
    text = V1_FILE.read_text(encoding="utf-8")
    original = json.loads(text)
    assert original["schema"] == "reelmark.analysis/1"
    analysis = Analysis.from_json(text)
    assert {moment.id for moment in analysis.moments} == {item["id"] for item in original["moments"]}
    assert all(moment.words == () for moment in analysis.moments)
    written = json.loads(analysis.to_json())
    assert written["schema"] == SCHEMA == f"reelmark.analysis/{CURRENT_VERSION}"
    assert all(item["words"] == [] for item in written["moments"])
    assert Analysis.from_dict(written) == analysis


def test_every_older_version_has_an_upgrade_step() -> None:
    assert sorted(UPGRADES) == list(range(1, CURRENT_VERSION))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (f"reelmark.analysis/{CURRENT_VERSION + 1}", "open it with a newer reelmark"),
        ("reelmark.analysis/0", "re-run the analysis"),
        ("something.else/1", "unknown analysis schema"),
        (None, "unknown analysis schema"),
    ],
)
def test_newer_or_unknown_versions_are_refused_in_one_line(schema: object, message: str) -> None:
    data = json.loads(V1_FILE.read_text(encoding="utf-8"))
    data["schema"] = schema
    with pytest.raises(ResultsFormatError, match=message) as refused:
        Analysis.from_dict(data)
    assert "\n" not in str(refused.value)


def test_the_store_still_returns_an_analysis_saved_as_version_1(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite3")
    text = V1_FILE.read_text(encoding="utf-8")
    store.put_analysis("a-v1", "rm1-54b3bca3c0d091878871fc83628245cb", "signals", "0.1.0", "{}", text)
    stored = store.get_analysis("a-v1")
    store.close()
    assert stored is not None
    analysis = Analysis.from_json(stored.analysis_json)
    assert len(analysis.moments) == len(json.loads(text)["moments"])
    assert analysis.media.fingerprint == "rm1-54b3bca3c0d091878871fc83628245cb"


def test_words_round_trip_exactly_and_do_not_change_the_id() -> None:
    moment = _speech()
    assert moment.id == Moment(MomentKind.SPEECH, moment.span, text="Hello world.").id
    data = moment.to_dict()
    assert data["words"][0] == {
        "start": {"value": 1, "rate": 1}, "end": {"value": 13, "rate": 10}, "start_s": 1.0, "end_s": 1.3,
        "text": "Hello", "probability": 0.93,
    }  # fmt: skip
    assert data["words"][1]["probability"] is None
    assert Moment.from_dict(json.loads(json.dumps(data))) == moment


@pytest.mark.parametrize(
    "build",
    [
        lambda: Word(Fraction(2), Fraction(1), "reversed"),
        lambda: Word(1.0, 2.0, "floats"),  # type: ignore[arg-type]
        lambda: Word(Fraction(1), Fraction(2), "sure", probability=1.5),
        lambda: Moment(MomentKind.SPEECH, TimeSpan(Fraction(1), Fraction(2)), words=(Word(Fraction(0), Fraction(1, 2), "early"),)),
        lambda: Moment(MomentKind.SPEECH, TimeSpan(Fraction(1), Fraction(2)), words=(Word(Fraction(3, 2), Fraction(5, 2), "late"),)),
        lambda: Moment(
            MomentKind.SPEECH, TimeSpan(Fraction(0), Fraction(2)),
            words=(Word(Fraction(1), Fraction(2), "b"), Word(Fraction(0), Fraction(1), "a")),
        ),
    ],
)  # fmt: skip
def test_invalid_words_are_refused(build: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        build()  # type: ignore[operator]


def test_a_malformed_word_in_json_names_its_place() -> None:
    data = json.loads(V1_FILE.read_text(encoding="utf-8"))
    data["moments"][0]["words"] = [{"start": {"value": 0, "rate": 1}, "end": {"value": 1, "rate": 1}, "text": 5}]
    data["schema"] = SCHEMA
    with pytest.raises(ResultsFormatError, match=r"moments\[0\]\.words\[0\]\.text"):
        Analysis.from_dict(data)
