"""Prompt templates per task. Every analysis records the exact prompt it sent (DESIGN §6: published grounding
scores swing with the prompt, the fps and the pixel budget, so all three are logged with every result).

The wording asks for the shapes `parsing` reads best (one item a line, "start - end" in seconds), and says
the box convention the family was trained on: Qwen2.5-VL pixels of the frame it saw, Qwen3-VL 0–1000.
"""

from __future__ import annotations

from reelmark.core.engines.vlm.families import BoxConvention
from reelmark.core.tasks import Task

TEMPLATES = {
    Task.GROUND: (
        'When does "{query}" happen in the video? Give every time it happens as "start - end" in seconds, '
        "one per line, and nothing else."
    ),
    Task.TRACK: (
        'Track "{query}" in the video. For each second where it is visible, give one line "time: [x0, y0, x1, y1]" '
        "with the time in seconds and its bounding box {boxes}."
    ),
    Task.HIGHLIGHTS: (
        'List the {count} most interesting moments of the video, one per line, as "start - end: title" with the '
        "times in seconds and a short title."
    ),
    Task.DESCRIBE: (
        'Describe what happens in the video, in order, one event per line, as "start - end: description" with the '
        "times in seconds."
    ),
    Task.ASK: "{query}",
}
BOX_WORDS: dict[str, str] = {
    "pixels": "in pixels of the {width}x{height} frame",
    "thousand": "as coordinates from 0 to 1000 of the frame's width and height",
    "unit": "as fractions from 0 to 1 of the frame's width and height",
}


def task_prompt(
    task: Task, query: str | None, boxes: BoxConvention, frame_size: tuple[int, int], highlight_count: int
) -> str:
    """The user text for one task (and query) on a clip the model sees at `frame_size` (width, height)."""
    template = TEMPLATES[task]
    width, height = frame_size
    return template.format(
        query=(query or "").strip(), count=highlight_count, boxes=BOX_WORDS[boxes].format(width=width, height=height)
    )
