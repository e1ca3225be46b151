"""FCPXML captions: the analysis's subtitles as `<caption>` elements on the analysed clip (`--format fcpxml`).

Apple's FCPXML reference: `caption` (FCPXML 1.8 and later, which the FCPX adapter writes) "represents a
closed-caption or subtitle with one or more text blocks", each a `text` element holding `text-style` runs that
refer to a `text-style-def`; a caption is an anchored item, so it sits inside its clip on a lane (1: above it),
at an `offset` in the clip's own time, before the clip's markers (the DTD's order: anchored items, then markers).
Its `role` names the caption format and the language ("roles attribute": `roleName?captionFormat=FORMAT.lang`);
reelmark writes `SRT?captionFormat=SRT.<lang>`, SRT being the plain-subtitle format Final Cut Pro reads and
writes, and the language the analysis was transcribed with (`--param language`), `en` when it was detected (the
detected language is only a diagnostic: assumed English, say so in the README).

Cues are the same as `--format srt` gives (`subtitles.build_cues`), with times put on the clip's frame grid, as
Final Cut Pro keeps every edit on a frame boundary. Only the `analysis` timeline gets captions: the highlight and
segment timelines re-cut the media, and their captions would need re-timing per clip (not done).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from fractions import Fraction
from typing import TYPE_CHECKING

from reelmark.bridge.subtitles import SubtitleCue, analysis_cuts, analysis_words, build_cues
from reelmark.core.results import Analysis
from reelmark.core.times import round_fraction

if TYPE_CHECKING:
    from reelmark.bridge.formats import Format

CAPTION_LANE = "1"
DEFAULT_LANGUAGE = "en"
CLIP_TAGS = ("clip", "asset-clip")


def write_fcpxml_file(analysis: Analysis, fmt: Format, timeline: str = "analysis") -> bytes:
    """The fcpxml format's writer: the timeline file, with captions on the analysed clip when there are words."""
    from reelmark.bridge.writers import write_timeline_file

    data = write_timeline_file(analysis, fmt, timeline)
    words = analysis_words(analysis)
    if timeline != "analysis" or not words:
        return data
    video = analysis.media.probe.video
    rate = video.rate if video is not None else None
    cues = build_cues(words, analysis_cuts(analysis), rate)
    language = str(analysis.engine.params.get("language") or DEFAULT_LANGUAGE)
    return add_captions(data.decode("utf-8"), cues, language).encode("utf-8")


def _seconds(text: str | None) -> Fraction:
    """An FCPXML time ("3600s", "48/25s", "0s") as exact seconds."""
    return Fraction(str(text or "0s").rstrip("s") or "0")


def _time(seconds: Fraction) -> str:
    return f"{seconds.numerator}/{seconds.denominator}s" if seconds.denominator != 1 else f"{seconds.numerator}s"


def _on_frames(seconds: Fraction, frame: Fraction) -> Fraction:
    return round_fraction(seconds / frame) * frame


def add_captions(xml: str, cues: list[SubtitleCue], language: str) -> str:
    """`xml` (one FCPXML document with one clip in its spine) with a caption per cue on that clip; unchanged when
    the spine does not hold exactly one clip (nothing to anchor to without guessing)."""
    from reelmark.bridge.writers import _xml_document

    tree = ElementTree.fromstring(xml)
    clips = [child for spine in tree.iter("spine") for child in spine if child.tag in CLIP_TAGS]
    if len(clips) != 1 or not cues:
        return xml
    clip = clips[0]
    format_element = next((element for element in tree.iter("format") if element.get("frameDuration")), None)
    frame = _seconds(format_element.get("frameDuration")) if format_element is not None else Fraction(1, 25)
    origin = _seconds(clip.get("start"))
    first_marker = next((index for index, child in enumerate(clip) if child.tag == "marker"), len(clip))
    for number, cue in enumerate(cues, start=1):
        start = _on_frames(cue.start, frame)
        end = max(start + frame, _on_frames(cue.end, frame))
        text = "\n".join(cue.lines)
        caption = ElementTree.Element("caption", {
            "lane": CAPTION_LANE, "offset": _time(origin + start), "name": text.replace("\n", " ")[:40],
            "start": _time(origin + start), "duration": _time(end - start), "role": f"SRT?captionFormat=SRT.{language}",
        })  # fmt: skip
        body = ElementTree.SubElement(caption, "text")
        ElementTree.SubElement(body, "text-style", {"ref": f"reelmark-caption-{number}"}).text = text
        style = ElementTree.SubElement(caption, "text-style-def", {"id": f"reelmark-caption-{number}"})
        ElementTree.SubElement(style, "text-style", {"font": "Helvetica", "fontSize": "13", "fontColor": "1 1 1 1"})
        clip.insert(first_marker + number - 1, caption)
    return _xml_document(tree, "fcpxml")
