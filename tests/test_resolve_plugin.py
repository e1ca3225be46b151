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
from fake_resolve import MediaPoolItem, Resolve, Timeline, Timeline21, TimelineItem

from reelmark.core.client import DaemonProcess, start_daemon_subprocess
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.resolve_install import LAUNCHER_NAME, MENU_FOLDER, RECORD_NAME, scripts_folder

REELMARK = Path(sys.executable).with_name("reelmark")
TIMELINE_START = 86400  # 01:00:00:00 at 24 fps
ITEM_START = TIMELINE_START + 100  # the clip sits 100 frames into the timeline
SOURCE_START, DURATION = 30, 140  # and uses source frames 30–169


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """24 fps, source timecode 01:00:00:00, cuts at frames 50 and 120."""
    folder = tmp_path_factory.mktemp("resolve-media")
    return write_clip(folder / "interview.mov", ClipSpec(rate=Fraction(24), frame_count=200, width=160, height=88,
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


def resolve_with_clip(clip: ClipTruth, studio: bool = True, version: tuple[int, ...] = (21, 1, 0, 5)) -> Resolve:
    resolve = Resolve(studio=studio, version=version)
    item = MediaPoolItem(resolve.host, clip.path.name, {"File Path": str(clip.path), "FPS": "24", "Start TC": "01:00:00:00",
                                                       "Frames": "200"})  # fmt: skip
    placed = TimelineItem(resolve.host, item, ITEM_START, SOURCE_START, DURATION)
    timeline_type = Timeline21 if version[0] >= 21 else Timeline
    timeline = timeline_type(resolve.host, "edit", TIMELINE_START, [placed])
    if isinstance(timeline, Timeline21):
        timeline.selected = [placed]
    resolve.project.timelines.append(timeline)
    resolve.project.current = timeline
    return resolve


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
    resolve = resolve_with_clip(clip, version=(20, 2, 0, 1))  # 20.x: no GetSelectedClips, the current item is used
    run_script(menu, resolve, capsys)
    output = run_script(menu, resolve, capsys)
    names = [timeline.GetName() for timeline in resolve.project.timelines]
    assert names[1:] == ["interview highlights", "interview highlights 2"], output
    path, options = resolve.project.pool.imports[0]
    assert options["importSourceClips"] is True and options["sourceClipsPath"] == str(clip.path.parent)
    assert '"DEFAULT_MEDIA"' in Path(path).read_text()
    assert "GetSelectedClips" not in resolve.host.calls


def test_free_edition_writes_files_and_calls_nothing_gated(
    clip: ClipTruth, daemon: DaemonProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menu = install(tmp_path, daemon.http_address, "shots", "highlights")
    resolve = resolve_with_clip(clip, studio=False)
    output = run_script(menu, resolve, capsys)
    assert resolve.host.gated_calls == [] and not resolve.host.modal_open
    assert resolve.host.calls[:2] == ["GetProductName", "GetVersion"]  # the edition is read before anything else
    written = sorted(path.name for path in clip.path.parent.glob("interview reelmark *"))
    assert written == ["interview reelmark analysis.otio", "interview reelmark analysis.xml", "interview reelmark highlights.otio"]
    assert "File > Import > Timeline" in output
    resolve_otio = json.loads((clip.path.parent / "interview reelmark analysis.otio").read_text())
    assert resolve_otio["tracks"]["children"][0]["children"][0]["active_media_reference_key"] == "DEFAULT_MEDIA"
    assert not resolve.project.current.markers


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
