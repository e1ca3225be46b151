"""`reelmark demo`: the main job on a clip it makes itself, so a fresh install can show what it does.

It writes a 12 s synthetic clip (cuts, a fade, a flash, a moving subject, tone/silence/noise, subtitles, source
timecode 01:00:00:00), probes it and analyses it with the signals engine. As bridge and daemon land, the same
command grows into the full path: analyse through the daemon, then write OTIO and NLE files.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from reelmark.core.media.synthetic import AudioSegment, ClipSpec, ClipTruth, SubtitleCue, write_clip
from reelmark.core.report import format_score
from reelmark.core.results import Analysis
from reelmark.core.tasks import Task
from reelmark.core.times import format_clock_time

DEMO_TASKS = (Task.SHOTS, Task.PEOPLE, Task.ACTIVITY, Task.HIGHLIGHTS, Task.SPLIT, Task.REFRAME, Task.GROUND)

DEMO_SPEC = ClipSpec(
    width=640,
    height=360,
    rate=Fraction(25),
    frame_count=300,
    cuts=(75, 150, 250),
    fade_out=(120, 150),
    flash_frames=(200,),
    pan_pixels_per_frame=2,
    timecode="01:00:00:00",
    audio=(
        AudioSegment(Fraction(0), Fraction(3), "tone", -20.0),
        AudioSegment(Fraction(3), Fraction(6), "silence"),
        AudioSegment(Fraction(6), Fraction(10), "noise", -30.0),
        AudioSegment(Fraction(10), Fraction(12), "tone", -14.0, 440.0),
    ),
    subtitles=(
        SubtitleCue(Fraction(1, 2), Fraction(5, 2), "Welcome to the reelmark demo."),
        SubtitleCue(Fraction(13, 2), Fraction(9), "The subject crosses the frame."),
    ),
)


def make_demo_clip(output_dir: Path) -> ClipTruth:
    """Write the demo clip into `output_dir`, with a progress bar on the terminal."""
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("encoding demo clip", total=DEMO_SPEC.frame_count)
        return write_clip(
            output_dir / "reelmark-demo.mp4",
            DEMO_SPEC,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


def summarise(analysis: Analysis) -> str:
    """One line per moment, in time order: what an editor would see as markers."""
    lines = [f"{len(analysis.moments)} moments from engine {analysis.engine.name} {analysis.engine.version}:"]
    for moment in analysis.moments:
        span = f"{format_clock_time(moment.span.start)}–{format_clock_time(moment.span.end)}"
        score = "" if moment.score is None else f"  score {format_score(moment.score)}"
        extra = f"  ({moment.text})" if moment.text else ""
        lines.append(f"  {span}  {moment.kind.value:<11} {moment.label}{score}{extra}")
    lines.extend(f"  note: {diagnostic}" for diagnostic in analysis.diagnostics)
    return "\n".join(lines)
