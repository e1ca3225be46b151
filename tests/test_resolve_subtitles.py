""""Add subtitles" in the Resolve script (`plugin/resolve/resolve_subtitles.py`) against the fake Resolve.

The daemon side is the real subtitle writer: the link's `export` answers with `render` of an analysis holding
transcribed words (transcription itself needs a model; its tests are the speech tests).
"""

from __future__ import annotations

from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import pytest
import srt
from fake_resolve import Resolve

from reelmark.bridge.writers import render
from reelmark.core.media import fingerprint, probe
from reelmark.core.media.synthetic import ClipSpec, write_clip
from reelmark.core.results import Analysis, EngineRef, MediaRef, Moment, MomentKind, TimeSpan, Word
from reelmark.plugin.resolve.daemon_link import DaemonError
from reelmark.plugin.resolve.resolve_subtitles import add_subtitles

F = Fraction


class Link:
    """The daemon's Export, answered by the real writers (as `core/daemon/service.py` does)."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis

    def export(self, analysis_id: str, fmt: str, timeline: str = "analysis") -> tuple[str, bytes]:
        try:
            return f"{Path(self.analysis.media.path).stem}.{fmt}", render(self.analysis, fmt, timeline)
        except Exception as error:  # noqa: BLE001 - the real link turns daemon errors into DaemonError
            raise DaemonError(str(error)) from None


@pytest.fixture()
def spoken(tmp_path: Path) -> tuple[Analysis, dict]:
    clip = write_clip(tmp_path / "talk.mov", ClipSpec(frame_count=48))
    words = (Word(F(1, 2), F(1), "Hello"), Word(F(11, 10), F(2), "there."))
    moments = (Moment(MomentKind.SPEECH, TimeSpan(F(1, 2), F(2)), text="Hello there.", words=words),)
    analysis = Analysis(MediaRef(str(clip.path), fingerprint(clip.path), probe(clip.path)), EngineRef("signals", "0.1.0"),
                        moments, datetime(2026, 12, 5, tzinfo=timezone.utc))  # fmt: skip
    wire = {"id": "a-1", "media": {"path": str(clip.path)}, "moments": [{"kind": "speech"}]}
    return analysis, wire


def test_the_srt_is_written_beside_the_media_and_imported(spoken, capsys: pytest.CaptureFixture[str]) -> None:
    analysis, wire = spoken
    resolve = Resolve()
    pool = resolve.project.GetMediaPool()
    path = add_subtitles(pool, Link(analysis), wire, print)
    assert path is not None and Path(path).parent == Path(analysis.media.path).parent
    [cue] = srt.parse(Path(path).read_text(encoding="utf-8"))
    assert cue.content == "Hello there." and cue.start.total_seconds() == 0.5
    assert [item.GetClipProperty("File Path") for item in pool.media] == [path]
    assert "drag it onto a subtitle track" in capsys.readouterr().out


def test_a_refused_import_still_leaves_the_file_and_says_how(spoken, capsys: pytest.CaptureFixture[str]) -> None:
    analysis, wire = spoken
    resolve = Resolve()
    resolve.host.refuse.add("ImportMedia")
    path = add_subtitles(resolve.project.GetMediaPool(), Link(analysis), wire, print)
    assert path is not None and Path(path).is_file()
    assert "File > Import > Subtitle" in capsys.readouterr().out


def test_no_speech_no_subtitles(spoken) -> None:
    analysis, wire = spoken
    resolve = Resolve()
    assert add_subtitles(resolve.project.GetMediaPool(), Link(analysis), {**wire, "moments": []}, print) is None
    assert resolve.host.calls == []


def test_words_missing_is_one_line(spoken, capsys: pytest.CaptureFixture[str]) -> None:
    analysis, wire = spoken
    bare = analysis.with_moments([Moment(MomentKind.SPEECH, TimeSpan(F(0), F(1)), text="no words")])
    assert add_subtitles(Resolve().project.GetMediaPool(), Link(bare), wire, print) is None
    out = capsys.readouterr().out
    assert "--task transcribe" in out and len(out.strip().splitlines()) == 1
