"""The wire API: generated code matches the protos, every field is documented, and conversions are exact."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core.api import generate
from reelmark.core.api.convert import analysis_from_wire, analysis_to_wire, request_from_spec, spec_from_request
from reelmark.core.engines import AnalysisRequest
from reelmark.core.errors import InvalidRequestError
from reelmark.core.media.probing import probe
from reelmark.core.media.synthetic import ClipSpec, write_clip
from reelmark.core.results import Analysis, Box, EngineRef, MediaRef, Moment, MomentKind, TimeSpan, TubePoint, Word
from reelmark.core.tasks import Task

FIELD = re.compile(r"^\s*(?:optional |repeated )?(?:map<[\w., ]+>|[\w.]+) \w+ = \d+;")
ENUM_VALUE = re.compile(r"^\s*[A-Z_]+ = \d+;")


def test_the_checked_in_code_matches_the_protos(tmp_path: Path) -> None:
    """Fails when a .proto changed and `python -m reelmark.core.api.generate` was not run."""
    written = generate.generate(tmp_path)
    assert written, "the generator wrote nothing"
    checked_in = sorted(path.name for path in generate.TARGET.iterdir() if path.name.endswith(generate.GENERATED_SUFFIXES))
    assert checked_in == sorted(path.name for path in written), "generated files differ from core/api/v1"
    for fresh in written:
        stale = generate.TARGET / fresh.name
        assert stale.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
            f"{stale} is stale: run `python -m reelmark.core.api.generate` (or make protos)"
        )


def test_generated_imports_point_into_reelmark_core_api() -> None:
    for path in generate.TARGET.glob("*_pb2*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from reelmark.v1" not in text and not re.search(r"reelmark\.v1\.\w+_pb2", text), path
        assert "reelmark.core.api.v1" in text, path


def test_every_field_and_enum_value_is_commented() -> None:
    undocumented = []
    for proto in generate.proto_files():
        lines = proto.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            is_field = FIELD.match(line) or ENUM_VALUE.match(line)
            unspecified = "_UNSPECIFIED = 0" in line
            if is_field and not unspecified and not lines[number - 1].strip().startswith("//"):
                undocumented.append(f"{proto.name}:{number + 1}: {line.strip()}")
    assert not undocumented, "fields without a comment above them:\n" + "\n".join(undocumented)


@pytest.fixture(scope="module")
def ntsc_analysis(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    """An analysis at 30000/1001 with every optional field set and unset, a tube, and a source range."""
    clip = write_clip(tmp_path_factory.mktemp("protos") / "ntsc.mov", ClipSpec(rate=Fraction(30000, 1001), frame_count=6))
    info = probe(clip.path)
    frame = Fraction(1001, 30000)
    moments = (
        Moment(MomentKind.SHOT, TimeSpan(Fraction(0), 3 * frame), "shot 1", score=0.75),
        Moment(MomentKind.MATCH, TimeSpan(frame, frame), "person", query="person", text="a point in time"),
        Moment(MomentKind.PERSON, TimeSpan(frame, 5 * frame), "person 1",
               tube=(TubePoint(frame, Box(0.1, 0.2, 0.3, 0.4)), TubePoint(2 * frame, Box(0, 0, 1, 1)))),
        Moment(MomentKind.SPEECH, TimeSpan(frame, 5 * frame), text="Hi there.",
               words=(Word(frame, 2 * frame, "Hi", 0.875), Word(3 * frame, 5 * frame, "there.", None))),
    )  # fmt: skip
    return Analysis(
        media=MediaRef(info.path, "rm1-0123", info),
        engine=EngineRef("signals", "0.1.0", {"highlight_count": 3, "reframe_aspects": ["9:16"], "x": None}),
        moments=moments,
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc),
        source_range=TimeSpan(frame, 5 * frame),
        diagnostics=("a note",),
    )


def test_an_analysis_survives_the_wire_exactly(ntsc_analysis: Analysis) -> None:
    message = analysis_to_wire(ntsc_analysis, "a-key")
    assert message.id == "a-key"
    assert (message.moments[0].span.end.value, message.moments[0].span.end.rate) == (1001, 10000), "3/29.97 s exactly"
    assert not message.moments[0].HasField("query") and message.moments[1].HasField("query")
    parsed = type(message).FromString(message.SerializeToString())
    assert analysis_from_wire(parsed) == ntsc_analysis


def test_a_request_survives_the_wire(tmp_path: Path) -> None:
    request = AnalysisRequest(Path("clip.mp4"), (Task.SHOTS, Task.GROUND), ("person",), Fraction(1001, 30000), Fraction(2),
                              {"highlight_count": 3, "reframe_aspects": ["9:16", "1:1"]})  # fmt: skip
    spec = spec_from_request(request, "signals")
    assert Path(spec.media_path).is_absolute(), "the daemon does not share the caller's working folder"
    back = request_from_spec(spec, Path(spec.media_path))
    assert (back.tasks, back.queries, back.start, back.end) == (request.tasks, request.queries, request.start, request.end)
    assert back.params == {"highlight_count": "3", "reframe_aspects": "9:16,1:1"}, "options travel as --param text"
    spec.tasks.append("juggling")
    with pytest.raises(InvalidRequestError, match="unknown task 'juggling'"):
        request_from_spec(spec, Path(spec.media_path))
