"""#17 item 3: `search --region … --enters` finds the person who walks into a region of real footage.

The truth is tests/data/labels/library/one-by-one-region-entries.json, labelled by eye from contact sheets (not
from any detector): six people walk in from the bottom edge to the table by the wall, one after another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reelmark.core.cli import cli
from reelmark.core.errors import InvalidRequestError
from reelmark.core.library.region import Region, region_span

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "media" / "one-by-one-person-detection.mp4"
LABELS = json.loads((Path(__file__).parent / "data" / "labels" / "library" / "one-by-one-region-entries.json").read_text())
TOLERANCE_S = 1.5
"""Labels are on a 0.5 s grid and the people tubes on a 1 s one; a person takes about a second to cross in."""


def search(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["search", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MEDIA.exists():
        pytest.skip(f"the shared corpus is not at {MEDIA}")
    path = tmp_path_factory.mktemp("region") / "store.sqlite3"
    result = CliRunner().invoke(cli, ["index", str(MEDIA), "--task", "people", "--store", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return path


def region_argument() -> str:
    region = LABELS["region"]
    return f"{region['x']},{region['y']},{region['w']},{region['h']}"


def test_enters_finds_people_walking_into_the_region_at_the_labelled_time(store: Path) -> None:
    hits = search("--region", region_argument(), "--enters", "--store", str(store))
    entries = [entry["mostly_inside_s"] for entry in LABELS["entries"]]
    assert hits, "nobody was found entering"
    for hit in hits:
        assert min(abs(hit["start_s"] - entry) for entry in entries) <= TOLERANCE_S, hit
    assert len({round(hit["start_s"]) for hit in hits}) == len(hits)


def test_between_narrows_region_hits_by_clock_time(store: Path) -> None:
    everyone = search("--region", region_argument(), "--enters", "--store", str(store))
    late = search("--region", region_argument(), "--enters", "--between", "16:59", "17:30", "--store", str(store))
    assert late and len(late) < len(everyone)
    assert all(hit["clock"][11:16] >= "16:59" for hit in late)


def test_a_one_point_jitter_is_not_a_crossing() -> None:
    region = Region.parse("0,0,0.5,1")
    inside, outside = [0.1, 0.1, 0.3, 0.9], [0.6, 0.1, 0.9, 0.9]
    tube = [{"time_s": float(t), "box": box} for t, box in enumerate([outside, inside, inside, outside, inside, inside])]
    assert region_span(tube, region, "enters") == (1.0, 5.0)
    assert region_span(tube, region, "leaves") is None
    assert region_span(tube, region, "inside") == (1.0, 5.0)


@pytest.mark.parametrize("text", ["1,2", "0.5,0.5,0.6,0.1", "a,b,c,d", "0,0,0,1"])
def test_a_bad_region_is_refused_with_the_form_to_write(text: str) -> None:
    with pytest.raises(InvalidRequestError, match="--region"):
        Region.parse(text)
