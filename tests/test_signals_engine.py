"""The signals engine end to end: every task through the public engine API and the CLI, edge cases, progress,
cancellation, and bounded memory on 8K. The tasks' own accuracy is tested in the test_signals_* files."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core import Analysis, MomentKind
from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.engines.base import AnalysisCancelled
from reelmark.core.errors import EngineUnavailableError, InvalidRequestError
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, ClipTruth, SubtitleCue, write_clip
from reelmark.core.tasks import Task

REELMARK = Path(sys.executable).with_name("reelmark")
ALL_TASKS = (Task.SHOTS, Task.PEOPLE, Task.ACTIVITY, Task.HIGHLIGHTS, Task.SPLIT, Task.REFRAME, Task.TRANSCRIPT, Task.GROUND)


@pytest.fixture(scope="module")
def demo_clip(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """12 s with cuts, a fade, a flash, a moving subject, loud and quiet audio, silences and subtitles."""
    spec = ClipSpec(
        frame_count=300, cuts=(75, 150, 250), fade_out=(120, 150), flash_frames=(200,), motion_bursts=((160, 190),),
        audio=(
            AudioSegment(Fraction(0), Fraction(3), "tone", -26.0),
            AudioSegment(Fraction(3), Fraction(5), "silence"),
            AudioSegment(Fraction(5), Fraction(8), "noise", -12.0),
            AudioSegment(Fraction(8), Fraction(12), "tone", -30.0, 440.0),
        ),
        subtitles=(SubtitleCue(Fraction(1), Fraction(2), "the guest explains pricing"),
                   SubtitleCue(Fraction(9), Fraction(10), "thanks for watching")),
    )  # fmt: skip
    return write_clip(tmp_path_factory.mktemp("engine") / "demo.mp4", spec)


def test_every_task_in_one_analysis(demo_clip: ClipTruth) -> None:
    stages: list[tuple[str, float]] = []
    request = AnalysisRequest(
        demo_clip.path, ALL_TASKS, ("pricing", "loud", "silence", "the red car enters"), params={"split_target_s": 4}
    )
    analysis = get_engine("signals").analyze(request, progress=lambda stage, done: stages.append((stage, done)))
    kinds = {moment.kind for moment in analysis.moments}
    assert {MomentKind.SHOT, MomentKind.TRANSITION, MomentKind.ACTIVITY, MomentKind.HIGHLIGHT, MomentKind.SEGMENT,
            MomentKind.MATCH} <= kinds  # fmt: skip
    times = demo_clip.frame_times
    starts = {shot.span.start for shot in analysis.of_kind("shot")}
    assert {times[75], times[250]} <= starts and not {times[200], times[201]} & starts  # the flash is no cut
    fades = [moment for moment in analysis.of_kind("transition") if moment.label.startswith("fade")]
    assert len(fades) == 1 and fades[0].span.start <= times[125] and fades[0].span.end >= times[145]
    transcript = [m for m in analysis.moments if m.kind is MomentKind.MATCH and m.query == "pricing"]
    assert transcript and transcript[0].span.start <= 1 and transcript[0].span.end >= 2
    assert any("the red car enters" in note and "use engine vlm" in note for note in analysis.diagnostics)
    fractions = [done for _, done in stages]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert {stage for stage, _ in stages} >= {"decoding video", "analysing audio", "finding moments"}
    assert Analysis.from_json(analysis.to_json()) == analysis
    assert analysis.engine.name == "signals" and analysis.engine.params["split_target_s"] == 4


def test_a_source_range_limits_every_moment(demo_clip: ClipTruth) -> None:
    request = AnalysisRequest(demo_clip.path, (Task.SHOTS, Task.ACTIVITY), start=Fraction(4), end=Fraction(9))
    analysis = get_engine("signals").analyze(request)
    assert analysis.source_range is not None and (analysis.source_range.start, analysis.source_range.end) == (4, 9)
    assert all(4 <= moment.span.start and moment.span.end <= 9 for moment in analysis.moments)


def test_media_without_audio_has_no_audio_features(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "silent.mp4", ClipSpec(frame_count=50, cuts=(25,)))
    analysis = get_engine("signals").analyze(AnalysisRequest(clip.path, (Task.SHOTS, Task.HIGHLIGHTS)))
    assert any("no audio stream" in note for note in analysis.diagnostics)
    assert len(analysis.of_kind("shot")) == 2


def test_audio_only_media_has_no_video_features(tmp_path: Path) -> None:
    clip = write_clip(
        tmp_path / "podcast.m4a",
        ClipSpec(video=False, audio=(AudioSegment(Fraction(0), Fraction(2), "noise", -20.0),
                                     AudioSegment(Fraction(2), Fraction(4), "silence"))),
    )  # fmt: skip
    analysis = get_engine("signals").analyze(AnalysisRequest(clip.path, (Task.SHOTS, Task.SPLIT, Task.GROUND), ("silence",)))
    assert "no video stream: nothing found for shots, split (they read the picture)" in analysis.diagnostics
    assert not analysis.of_kind("shot")
    silences = [m for m in analysis.moments if m.query == "silence"]
    assert silences and abs(silences[0].span.start - 2) < Fraction(1, 2)


def test_a_clip_under_one_second(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "short.mp4", ClipSpec(frame_count=12, audio=(AudioSegment(Fraction(0), Fraction(1, 2), "tone"),)))
    analysis = get_engine("signals").analyze(AnalysisRequest(clip.path, ALL_TASKS[:-2]))
    assert len(analysis.of_kind("shot")) == 1
    assert analysis.of_kind("shot")[0].span.end == clip.duration


def test_cancellation_stops_the_work(demo_clip: ClipTruth) -> None:
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(AnalysisCancelled):
        get_engine("signals").analyze(AnalysisRequest(demo_clip.path, (Task.SHOTS,)), cancelled=cancelled)


@pytest.mark.parametrize("task", [Task.TRACK, Task.DESCRIBE, Task.ASK])
def test_tasks_this_engine_cannot_do_say_so(demo_clip: ClipTruth, task: Task) -> None:
    with pytest.raises(EngineUnavailableError, match="use --engine vlm"):
        get_engine("signals").analyze(AnalysisRequest(demo_clip.path, (task,), ("x",)))


def test_bad_options_are_refused(demo_clip: ClipTruth) -> None:
    with pytest.raises(InvalidRequestError, match="known options"):
        get_engine("signals").analyze(AnalysisRequest(demo_clip.path, (Task.SHOTS,), params={"sensitivity": 1}))
    with pytest.raises(InvalidRequestError, match="needs at least one --query"):
        get_engine("signals").analyze(AnalysisRequest(demo_clip.path, (Task.TRANSCRIPT,)))


def test_cli_writes_json(demo_clip: ClipTruth, tmp_path: Path) -> None:
    output = tmp_path / "out" / "demo.json"
    result = subprocess.run(
        [str(REELMARK), "analyze", str(demo_clip.path), "--task", "shots", "--task", "split",
         "--param", "split_target_s=5", "-o", str(output)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "moments" in result.stderr and str(output) in result.stderr
    analysis = Analysis.from_json(output.read_text())
    segments = analysis.of_kind("segment")
    assert segments and segments[0].span.start == 0 and segments[-1].span.end == demo_clip.duration
    bad = subprocess.run([str(REELMARK), "analyze", str(demo_clip.path), "--param", "colour=red"],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert bad.returncode == 1 and "unknown signals option" in bad.stderr


@pytest.mark.slow
def test_8k_runs_with_bounded_memory(tmp_path: Path) -> None:
    """A 7680x4320 clip: decoding holds a few 8K frames at most, analysis works on reduced luma."""
    clip = write_clip(tmp_path / "8k.mp4", ClipSpec(width=7680, height=4320, frame_count=16, cuts=(8,), preset="ultrafast"))
    # Linux carries the RSS high-water mark across fork and exec, and this test process has just encoded 8K: the
    # child resets its mark (clear_refs 5, Linux 4.0+) and reads VmHWM, so the figure is the analysis's alone.
    script = (
        "import json, sys\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "from reelmark.core.engines import AnalysisRequest, get_engine\n"
        "from reelmark.core.tasks import Task\n"
        "a = get_engine('signals').analyze(AnalysisRequest(sys.argv[1], (Task.SHOTS, Task.PEOPLE, Task.ACTIVITY)))\n"
        "peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
        "print(json.dumps({'rss_mib': int(peak.split()[1]) / 1024, 'shots': len(a.of_kind('shot'))}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(clip.path)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"8K peak RSS: {report['rss_mib']:.0f} MiB")
    assert report["shots"] == 2
    # One 8K yuv420p frame is 47 MiB; the frame-threaded decoder keeps a handful (PyAV alone peaks near 370 MiB
    # here). Holding the clip's 16 frames would take 760 MiB on top of the imports.
    assert report["rss_mib"] < 800
