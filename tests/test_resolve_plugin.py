"""The Resolve "Analyze clip" script, installed by `reelmark install resolve`, run against a real daemon on
loopback with a fake Resolve that follows the scripting README (tests/fake_resolve.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from fake_resolve import MediaPoolItem, Resolve, Timeline, TimelineItem

from reelmark.core.client import DaemonProcess, start_daemon_subprocess
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.resolve_install import LAUNCHER_NAME, MENU_FOLDER, RECORD_NAME, python_notes, scripts_folder

REELMARK = Path(sys.executable).with_name("reelmark")
TIMELINE_START = 86400  # 01:00:00:00 at 24 fps
ITEM_START = TIMELINE_START + 100  # the clip sits 100 frames into the timeline
SOURCE_START, DURATION = 30, 140  # and uses source frames 30–169
REEL_DURATION = 400
"""A use of the clip long enough (16.7 s) for the highlights task's default budget (a fifth) to hold a 3 s pick."""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """24 fps, 20 s (long enough for a default highlight: a fifth of the clip, at least 3 s), source timecode
    01:00:00:00, cuts at frames 50 and 120."""
    folder = tmp_path_factory.mktemp("resolve-media")
    return write_clip(folder / "interview.mov", ClipSpec(rate=Fraction(24), frame_count=480, width=160, height=88,
                                                         cuts=(50, 120), timecode="01:00:00:00", gop=12))  # fmt: skip


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    store = tmp_path_factory.mktemp("resolve-store") / "store.sqlite3"
    with start_daemon_subprocess(store, log=subprocess.DEVNULL) as running:
        yield running


def install(tmp_path: Path, address: str, *tasks: str) -> Path:
    scripts = tmp_path / "Scripts"
    args = [str(REELMARK), "install", "resolve", "--scripts-dir", str(scripts), "--address", address]
    args += [item for task in tasks for item in ("--task", task)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return scripts / MENU_FOLDER


def run_script(menu: Path, resolve: Resolve, capsys: pytest.CaptureFixture[str]) -> str:
    """Run the installed menu entry the way Resolve does: its source, with `resolve` among the globals."""
    launcher = menu / LAUNCHER_NAME
    exec(compile(launcher.read_text(), str(launcher), "exec"), {"resolve": resolve, "__name__": "__main__"})
    return capsys.readouterr().out


def resolve_with_clip(clip: ClipTruth, studio: bool = True, version: tuple[int, ...] = (21, 1, 0, 5), *,
                      missing_calls: str = "none", fps: str = "24", timeline_rate: str = "24", source_start: int = SOURCE_START,
                      duration: int = DURATION, speed: Fraction = Fraction(1)) -> Resolve:  # fmt: skip
    resolve = Resolve(studio=studio, version=version, missing_calls=missing_calls)
    item = MediaPoolItem(resolve.host, clip.path.name, {"File Path": str(clip.path), "FPS": fps, "Start TC": "01:00:00:00",
                                                       "Frames": "480"})  # fmt: skip
    rate = {"29.97": Fraction(30000, 1001)}.get(timeline_rate) or Fraction(timeline_rate)
    placed = TimelineItem(resolve.host, item, ITEM_START, source_start, duration, timeline_rate=rate, speed=speed)
    timeline = Timeline(resolve.host, "edit", TIMELINE_START, [placed], rate=timeline_rate)
    timeline.selected = [placed]
    resolve.project.timelines.append(timeline)
    resolve.project.current = timeline
    return resolve


def reelmark_frames(owner: MediaPoolItem | Timeline) -> list[float]:
    return sorted(frame for frame, marker in owner.markers.items() if marker["customData"].startswith("reelmark:"))


def test_markers_land_on_relative_frames_and_a_rerun_replaces_only_ours(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip)
    timeline = resolve.project.current
    item = timeline.items[0].item
    # The editor's own markers, one exactly where reelmark wants to put the cut at source frame 50.
    timeline.markers[120.0] = {"color": "Red", "duration": 1, "note": "fix colour", "name": "mine", "customData": ""}
    item.markers[7.0] = {"color": "Green", "duration": 1, "note": "", "name": "logged", "customData": "editor:1"}

    output = run_script(menu, resolve, capsys)
    assert "timeline markers" in output and "moved a frame" in output
    ours = {frame: marker for frame, marker in timeline.markers.items() if marker["customData"].startswith("reelmark:")}
    # Source frame 30 (the clip's first used frame) is timeline frame 100; the cut at 50 would be 120, which the
    # editor's marker holds, so it moves to 121; the cut at 120 is 190. Frames count from the timeline's start.
    assert sorted(ours) == [100.0, 121.0, 190.0]
    assert all(isinstance(frame, float) for frame in timeline.markers)
    assert ours[190.0]["color"] == "Blue" and ours[190.0]["name"].startswith("shot")
    assert "[reelmark m-" in ours[190.0]["note"]
    clip_ours = sorted(frame for frame, marker in item.markers.items() if marker["customData"].startswith("reelmark:"))
    assert clip_ours == [30.0, 50.0, 120.0]  # clip markers in source frames from the file's first frame

    before = {frame: dict(marker) for frame, marker in timeline.markers.items()}
    clip_before = {frame: dict(marker) for frame, marker in item.markers.items()}
    output = run_script(menu, resolve, capsys)
    assert "(3 replaced)" in output
    assert timeline.markers == before and item.markers == clip_before  # no duplicates, nothing of the user's moved
    assert timeline.markers[120.0]["name"] == "mine" and item.markers[7.0]["name"] == "logged"


def test_highlight_reel_is_imported_under_a_new_name(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menu = install(tmp_path, daemon.http_address, "shots", "highlights")
    resolve = resolve_with_clip(clip, version=(20, 2, 0, 1), duration=REEL_DURATION)  # 20.x: no GetSelectedClips
    resolve.project.current.selected = []
    run_script(menu, resolve, capsys)
    output = run_script(menu, resolve, capsys)
    names = [timeline.GetName() for timeline in resolve.project.timelines]
    assert names[1:] == ["interview highlights", "interview highlights 2"], output
    path, options = resolve.project.pool.imports[0]
    assert options["importSourceClips"] is True and options["sourceClipsPath"] == str(clip.path.parent)
    assert '"DEFAULT_MEDIA"' in Path(path).read_text()
    assert "GetSelectedClips" not in resolve.host.calls


def test_free_edition_writes_markers_like_studio(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Menu scripts get a live `resolve` on the free edition too; nothing reelmark calls is Studio-gated."""
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip, studio=False)
    output = run_script(menu, resolve, capsys)
    assert reelmark_frames(resolve.project.current) == [100.0, 120.0, 190.0], output
    assert "AddMarker" in resolve.host.calls and not list(clip.path.parent.glob("interview reelmark *"))


def test_a_refused_marker_call_falls_back_to_files_and_says_which(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menu = install(tmp_path, daemon.http_address, "shots", "highlights")
    resolve = resolve_with_clip(clip, studio=False, duration=REEL_DURATION)
    resolve.host.refuse = {"AddMarker"}
    output = run_script(menu, resolve, capsys)
    assert "DaVinci Resolve 21.1.0 refused the markers (AddMarker returned False); writing files to import instead" in output
    written = sorted(path.name for path in clip.path.parent.glob("interview reelmark *"))
    assert written == ["interview reelmark analysis.otio", "interview reelmark analysis.xml", "interview reelmark highlights.otio"]
    assert "File > Import > Timeline" in output
    resolve_otio = json.loads((clip.path.parent / "interview reelmark analysis.otio").read_text())
    assert resolve_otio["tracks"]["children"][0]["children"][0]["active_media_reference_key"] == "DEFAULT_MEDIA"
    assert not resolve.project.current.markers
    for path in clip.path.parent.glob("interview reelmark *"):
        path.unlink()


def test_a_failing_marker_call_falls_back_to_files_too(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip)

    def gated(*_args: object) -> bool:
        raise RuntimeError("not available in this edition")

    resolve.project.current.items[0].item.AddMarker = gated
    output = run_script(menu, resolve, capsys)
    assert "refused the markers (AddMarker failed: not available in this edition); writing files to import instead" in output
    written = sorted(path.name for path in clip.path.parent.glob("interview reelmark *"))
    assert written == ["interview reelmark analysis.otio", "interview reelmark analysis.xml"], output
    for path in clip.path.parent.glob("interview reelmark *"):
        path.unlink()


@pytest.mark.parametrize("missing_calls", ["none", "raise"])
def test_21_0_3_uses_the_current_item_and_never_calls_timeline_selection(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str], missing_calls: str
) -> None:
    """Timeline.GetSelectedClips needs 21.0.4: on 21.0.3 hasattr says yes and the call fails."""
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip, version=(21, 0, 3, 7), missing_calls=missing_calls)
    output = run_script(menu, resolve, capsys)
    assert "GetSelectedClips" not in resolve.host.calls and "GetCurrentVideoItem" in resolve.host.calls
    assert reelmark_frames(resolve.project.current) == [100.0, 120.0, 190.0], output


@pytest.mark.parametrize("missing_calls", ["none", "raise"])
def test_18x_without_a_timeline_clip_says_what_to_select(
    clip: ClipTruth, tmp_path: Path, capsys: pytest.CaptureFixture[str], missing_calls: str
) -> None:
    """MediaPool.GetSelectedClips needs 19.0.2: 18.x asks for a clip under the playhead instead of dying."""
    menu = install(tmp_path, "127.0.0.1:9")
    resolve = resolve_with_clip(clip, version=(18, 6, 6, 7), missing_calls=missing_calls)
    resolve.project.current.current = None
    output = run_script(menu, resolve, capsys)
    assert output.strip() == "reelmark: select clips under the playhead on the timeline (or in the Media Pool) first"
    assert "MediaPool.GetSelectedClips" not in resolve.host.calls


def test_media_pool_selection_from_19_0_2(clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip, version=(19, 0, 2, 6))
    resolve.project.current.current = None
    item = resolve.project.current.items[0].item
    resolve.project.pool.selected = [item]
    output = run_script(menu, resolve, capsys)
    assert reelmark_frames(item) == [0.0, 50.0, 120.0], output  # the whole clip, in source frames
    assert not resolve.project.current.markers


def test_an_unexpected_failure_is_one_line_not_a_traceback(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip)

    def broken() -> None:
        raise RuntimeError("the scripting bridge went away")

    resolve.project.current.items[0].item.GetMarkers = broken
    output = run_script(menu, resolve, capsys)
    last = output.strip().splitlines()[-1]
    assert last.startswith("reelmark stopped: RuntimeError: the scripting bridge went away. Nothing more was changed;")
    assert "Traceback" not in output


def test_one_clip_used_twice_keeps_both_uses_markers(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both uses' timeline markers carry the same customData; DeleteMarkerByCustomData would take the first."""
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip)
    timeline = resolve.project.current
    first = timeline.items[0]
    second = TimelineItem(resolve.host, first.item, ITEM_START + 400, SOURCE_START, DURATION, timeline_rate=Fraction(24))
    timeline.items.append(second)
    timeline.selected = [first]
    run_script(menu, resolve, capsys)
    timeline.selected = [second]
    run_script(menu, resolve, capsys)
    assert reelmark_frames(timeline) == [100.0, 120.0, 190.0, 500.0, 520.0, 590.0]
    output = run_script(menu, resolve, capsys)  # re-running the later use replaces its markers only, not the earlier's
    assert reelmark_frames(timeline) == [100.0, 120.0, 190.0, 500.0, 520.0, 590.0], output


def test_no_daemon_says_how_to_start_one(clip: ClipTruth, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    menu = install(tmp_path, "127.0.0.1:9")  # nothing listens on the discard port
    record = json.loads((menu / RECORD_NAME).read_text())
    record["reelmark"] = None  # an install whose reelmark command is gone
    (menu / RECORD_NAME).write_text(json.dumps(record))
    output = run_script(menu, resolve_with_clip(clip), capsys)
    assert "no reelmark daemon at 127.0.0.1:9; start it in a terminal with:  reelmark serve --http-address 127.0.0.1:9" in output


def test_installer_dry_run_install_and_uninstall(tmp_path: Path) -> None:
    scripts = tmp_path / "Scripts"
    dry = subprocess.run([str(REELMARK), "install", "resolve", "--scripts-dir", str(scripts), "--dry-run"],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert dry.returncode == 0 and f"would write {scripts / MENU_FOLDER / LAUNCHER_NAME}" in dry.stdout
    assert not scripts.exists()
    menu = install(tmp_path, "127.0.0.1:7331")
    record = json.loads((menu / RECORD_NAME).read_text())
    assert record["colours"]["highlight"] == "Green" and record["colours"]["person"] == "Sand"
    assert Path(record["reelmark"]).name == "reelmark" and record["tasks"] == ["shots", "people", "highlights"]
    (menu / "someone else's script.py").write_text("print('hi')")
    gone = subprocess.run([str(REELMARK), "uninstall", "resolve", "--scripts-dir", str(scripts)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert gone.returncode == 0 and sorted(path.name for path in menu.iterdir()) == ["someone else's script.py"]


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("darwin", {}, "home/Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"),
        ("win32", {"APPDATA": "C:/Users/ed/AppData/Roaming"},
         "C:/Users/ed/AppData/Roaming/Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts"),
        ("linux", {}, "home/.local/share/DaVinciResolve/Fusion/Scripts"),
    ],
)
def test_per_user_scripts_folders(platform: str, environ: dict[str, str], expected: str) -> None:
    assert scripts_folder(platform, environ, Path("home")).as_posix() == expected


@pytest.mark.parametrize(
    ("environ", "present", "warns"),
    [
        ({}, set(), True),
        ({}, {"/usr/local/bin/python3"}, False),
        ({"PYTHON3HOME": "/opt/py"}, {"/opt/py"}, False),
        ({"PYTHON3HOME": "/opt/gone"}, {"/usr/local/bin/python3"}, True),
    ],
)
def test_macos_python_check_says_what_to_set(environ: dict[str, str], present: set[str], warns: bool) -> None:
    notes = python_notes("darwin", environ, present.__contains__)
    assert bool(notes) == warns
    if warns:
        assert "PYTHON3HOME" in notes[0] and "restart Resolve" in notes[0]
    assert python_notes("linux", {}, set().__contains__) == []


@pytest.fixture(scope="module")
def clip_5994(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """60000/1001 fps, cuts at frames 50 and 120."""
    folder = tmp_path_factory.mktemp("resolve-media-5994")
    return write_clip(folder / "action.mov", ClipSpec(rate=Fraction(60000, 1001), frame_count=200, width=160, height=88,
                                                      cuts=(50, 120), gop=12))  # fmt: skip


@pytest.mark.parametrize("left_offset_rate", ["timeline", "media"])
def test_a_59_94_clip_on_a_29_97_timeline_sends_its_whole_used_range(
    clip_5994: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str], left_offset_rate: str
) -> None:
    """70 timeline frames at 29.97 use 140 source frames at 59.94 (30–169): cuts at 50 and 120 are inside."""
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip_5994, fps="59.94", timeline_rate="29.97", duration=70)
    resolve.project.current.items[0].left_offset_rate = left_offset_rate
    output = run_script(menu, resolve, capsys)
    item = resolve.project.current.items[0].item
    assert reelmark_frames(item) == [30.0, 50.0, 120.0], output  # clip markers: source frames at 59.94
    # Timeline markers at 29.97 from the clip's start (timeline frame 100): source 30 → 100, 50 → 110, 120 → 145.
    assert reelmark_frames(resolve.project.current) == [100.0, 110.0, 145.0], output


def test_a_retimed_clip_sends_its_true_source_range(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At 200 % 70 record frames use source 30–169 (GetLeftOffset reads 15, the warped domain)."""
    menu = install(tmp_path, daemon.http_address, "shots")
    resolve = resolve_with_clip(clip, duration=70, speed=Fraction(2))
    assert resolve.project.current.items[0].GetLeftOffset() == 15
    output = run_script(menu, resolve, capsys)
    assert "(retimed clip at 200%)" in output
    assert reelmark_frames(resolve.project.current.items[0].item) == [30.0, 50.0, 120.0], output
    assert reelmark_frames(resolve.project.current) == [100.0, 110.0, 145.0], output


def test_used_range_reads_the_exact_left_offset_not_the_misread_source_start() -> None:
    from fake_resolve import Resolve as FakeResolve  # noqa: PLC0415 - the fake only, no clip needed

    from reelmark.plugin.resolve.used_range import used_range  # noqa: PLC0415

    host = FakeResolve().host
    item = MediaPoolItem(host, "a.mov", {"FPS": "25"})
    placed = TimelineItem(host, item, 1100, 250, 100, timeline_rate=Fraction(25), source_start_error=1)
    assert placed.GetSourceStartFrame() == 251  # the documented one-frame misread
    used = used_range(placed, Fraction(25), Fraction(25), 1000)
    assert (used.start, used.end, used.speed, used.record_start) == (Fraction(10), Fraction(14), 1, 100)
