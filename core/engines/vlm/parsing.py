"""Defensive parsing of model answers into seconds and [0, 1] boxes (DESIGN §6).

Models answer in many shapes: Qwen "12.5 - 20.0 seconds" or `{"time": 1.0, "bbox_2d": [x0, y0, x1, y1]}` in
pixels of the frame it saw, Qwen3 `<12.5 seconds>` and 0–1000 boxes, Vidi "0.12-0.25, 0.40-0.43" as fractions
of the duration with (time, [x0, y0, x1, y1]) tubes in [0, 1], Gemini "00:12 - 00:25" and `box_2d` as
[y0, x0, y1, x1] in 0–1000. Nothing here raises on an answer: what cannot be read, or lies outside the clip
or the frame, is dropped, and the reason goes back to the caller for the analysis's diagnostics.

Times: `hh:mm:ss(.f)`, `mm:ss(.f)`, `N%` of the duration, and bare numbers (with or without "s"/"seconds"),
which mean seconds or, for `plain="fraction"`, fractions of the duration. Two times make a range when only a
connector lies between them: "-", "–", "to", "and", "~", ",", brackets, quotes or a JSON key, or an end phrase
("and leaves at", ", ends at", ", end:"), as in "enters at 12.5 seconds and leaves at 18.0 seconds",
"starts at 3, ends at 5" and "start: 3, end: 5".

Boxes: four numbers in brackets. All of them ≤ 1 reads as [0, 1] whatever the model's convention (Vidi-style
answers from any model); otherwise the convention decides: pixels of the resized frame or 0–1000. A box right
after a `box_2d` key is Gemini's [y0, x0, y1, x1]. A box inside a JSON object takes that object's time, in
whichever order the keys come (`{"bbox_2d": [...], "time": 2}`); a loose box takes the time next to it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

BoxConvention = Literal["pixels", "thousand", "unit"]
PlainTime = Literal["seconds", "fraction"]

_NUMBER = r"\d+(?:\.\d+)?"
_TIME = re.compile(
    rf"(?P<hms>(?<![\d:.])\d{{1,2}}:\d{{2}}:\d{{2}}(?:\.\d+)?(?!\d|:\d))"
    rf"|(?P<ms>(?<![\d:.])\d{{1,3}}:\d{{2}}(?:\.\d+)?(?!\d|:\d))"
    rf"|(?P<pct>(?<![\w.])(?:{_NUMBER})\s*%)"
    rf"|(?P<num>(?<![\w.])(?:{_NUMBER}|\.\d+)(?!\d|\.\d))(?:\s*(?:seconds|second|secs|sec|s)\b)?"
)
_BOX = re.compile(rf"\[\s*(-?{_NUMBER})\s*,\s*(-?{_NUMBER})\s*,\s*(-?{_NUMBER})\s*,\s*(-?{_NUMBER})\s*\]")
_GEMINI_BOX_KEY = re.compile(r"(?<![\w])\"?box_2d\"?\s*:\s*$")
"""Gemini's key for [y0, x0, y1, x1] boxes (Qwen's is `bbox_2d`, in x order)."""
_JSON_KEY = re.compile(r"\"[A-Za-z_][\w ]*\"\s*:")
_CONNECTOR_NOISE = re.compile(r"[\s\"'\[\](){}<>*`]")
CONNECTORS = frozenset({"", "-", "–", "—", "~", "to", "and", ",", ",-", "until", "till", "through", "->", "→", "until:"})
_END_PHRASE = re.compile(
    r"(?:and|,|;|-|–|—)?(?:then)?(?:it|they)?"
    r"(?:ends?|ending|leaves?|leaving|exits?|exiting|stops?|stopping|finish(?:es|ing)?|disappears?|until|till)"
    r"(?:at|by|on|:|=)?"
)
"""What lies between two times that close a range, spaces and quotes removed: "andleavesat", ",endsat", ",end:"."""
_OBJECT = re.compile(r"\{[^{}]*\}")
_TIME_KEY = re.compile(r"(?<![\w])\"?(?:time|timestamp|t|second|seconds|sec)\"?\s*[:=]\s*\"?\s*$", re.IGNORECASE)
MAX_QUOTED = 80
"""Characters of an answer quoted in a diagnostic."""


@dataclass(frozen=True)
class ParsedSpan:
    """A time range in model seconds (0 = the start of what the model saw), with the text around it."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class ParsedPoint:
    """One point of a tube: model seconds and a box (x0, y0, x1, y1) in [0, 1]."""

    time: float
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class _Token:
    seconds: float | None
    """None when the value cannot be a time in this clip; `problem` says why."""
    start: int
    end: int
    problem: str = ""


def quote(text: str) -> str:
    """A short, one-line excerpt of an answer for a diagnostic."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 1] + "…")


def _tokens(text: str, duration: float, plain: PlainTime) -> list[_Token]:
    found = []
    for match in _TIME.finditer(text):
        value, problem = _seconds(match, duration, plain)
        found.append(_Token(value, match.start(), match.end(), problem))
    return found


def _seconds(match: re.Match[str], duration: float, plain: PlainTime) -> tuple[float | None, str]:
    if match.group("hms"):
        hours, minutes, seconds = match.group("hms").split(":")
        if int(minutes) >= 60 or float(seconds) >= 60:
            return None, f"{match.group('hms')} is not a clock time"
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds), ""
    if match.group("ms"):
        minutes, seconds = match.group("ms").split(":")
        if float(seconds) >= 60:
            return None, f"{match.group('ms')} is not a clock time"
        return int(minutes) * 60 + float(seconds), ""
    if match.group("pct"):
        percent = float(match.group("pct").rstrip("% \t"))
        if percent > 100:
            return None, f"{percent:g}% is more than the whole clip"
        return percent / 100 * duration, ""
    value = float(match.group("num"))
    if plain == "fraction":
        if value > 1:
            return None, f"{value:g} is not a fraction of the duration"
        return value * duration, ""
    return value, ""


def _connects(between: str) -> bool:
    cleaned = _CONNECTOR_NOISE.sub("", _JSON_KEY.sub("", between)).lower()
    return cleaned in CONNECTORS or _END_PHRASE.fullmatch(cleaned) is not None


def _checked_range(start: float, end: float, duration: float) -> tuple[tuple[float, float] | None, str]:
    slack = max(0.5, duration * 0.01)
    if not (math.isfinite(start) and math.isfinite(end)):
        return None, "not a finite time"
    if end < start:
        return None, f"ends ({end:g} s) before it starts ({start:g} s)"
    if start > duration + slack:
        return None, f"starts at {start:g} s, after the clip ends ({duration:g} s)"
    if end > duration + slack:
        return None, f"ends at {end:g} s, after the clip ends ({duration:g} s)"
    return (min(start, duration), min(end, duration)), ""


def parse_spans(answer: str, duration: float, plain: PlainTime = "seconds") -> tuple[list[ParsedSpan], list[str]]:
    """Every time range in `answer`, one or more a line, with the rest of its line as text; and why anything
    that looked like a range was dropped."""
    spans: list[ParsedSpan] = []
    dropped: list[str] = []
    for line in _BOX.sub(" ", answer).splitlines():
        tokens = _tokens(line, duration, plain)
        index, used = 0, []
        while index < len(tokens) - 1:
            first, second = tokens[index], tokens[index + 1]
            if not _connects(line[first.end : second.start]):
                index += 1
                continue
            used.append((first.start, second.end))
            index += 2
            if first.seconds is None or second.seconds is None:
                dropped.append(f"dropped range {quote(line[first.start : second.end])}: {first.problem or second.problem}")
                continue
            checked, problem = _checked_range(first.seconds, second.seconds, duration)
            if checked is None:
                dropped.append(f"dropped range {quote(line[first.start : second.end])}: {problem}")
                continue
            spans.append(ParsedSpan(checked[0], checked[1], ""))
        text = _rest_of_line(line, used)
        added = [span for span in spans if span.text == ""]
        spans[len(spans) - len(added) :] = [ParsedSpan(span.start, span.end, text) for span in added]
    if not spans and not dropped and answer.strip():
        dropped.append(f"no time range in the answer {quote(answer)}")
    return spans, dropped


def _rest_of_line(line: str, used: list[tuple[int, int]]) -> str:
    """The line without its ranges, list markers and separators: a title or a description."""
    kept, cursor = [], 0
    for start, end in used:
        kept.append(line[cursor:start])
        cursor = end
    kept.append(line[cursor:])
    text = " ".join("".join(kept).split())
    text = re.sub(r"^(?:[-*•]|\d+[.)])\s*", "", text)
    return text.strip(" \t:-–—,.;|[]()<>\"'").strip()


def normalise_box(
    values: tuple[float, float, float, float], convention: BoxConvention, frame_size: tuple[int, int], yx: bool = False
) -> tuple[tuple[float, float, float, float] | None, str]:
    """(x0, y0, x1, y1) in [0, 1] from a model's box, or None and why."""
    x0, y0, x1, y1 = (values[1], values[0], values[3], values[2]) if yx else values
    if not all(math.isfinite(value) for value in (x0, y0, x1, y1)):
        return None, "not finite"
    if max(x0, y0, x1, y1) <= 1:
        scale_x = scale_y = 1.0
    elif convention == "pixels":
        scale_x, scale_y = float(frame_size[0]), float(frame_size[1])
    elif convention == "thousand":
        scale_x = scale_y = 1000.0
    else:
        return None, "coordinates above 1 where [0, 1] was expected"
    box = [x0 / scale_x, y0 / scale_y, x1 / scale_x, y1 / scale_y]
    if min(box) < 0 or max(box) > 1.02:
        return None, f"outside the frame ({convention} convention, frame {frame_size[0]}x{frame_size[1]})"
    x0, y0, x1, y1 = (min(1.0, value) for value in box)
    if x1 < x0 or y1 < y0:
        return None, "corners reversed"
    if x1 == x0 or y1 == y0:
        return None, "empty box"
    return (x0, y0, x1, y1), ""


def parse_tube(
    answer: str, duration: float, convention: BoxConvention, frame_size: tuple[int, int], plain: PlainTime = "seconds"
) -> tuple[list[ParsedPoint], list[str]]:
    """(time, box) points in time order, one per distinct time (a second box at a time already taken is dropped,
    with the reason). A box inside a JSON object takes that object's time; otherwise the last time before it
    since the previous box, or else the first time after it."""
    points: dict[float, ParsedPoint] = {}
    dropped: list[str] = []
    boxes = list(_BOX.finditer(answer))
    objects = list(_OBJECT.finditer(answer))
    for index, match in enumerate(boxes):
        before = answer[boxes[index - 1].end() if index else 0 : match.start()]
        token = _object_time(answer, match, objects, duration, plain)
        if token is None:
            after = answer[match.end() : boxes[index + 1].start() if index + 1 < len(boxes) else len(answer)]
            times = _tokens(before, duration, plain)
            token = times[-1] if times else next(iter(_tokens(after, duration, plain)), None)
        shown = quote(match.group(0))
        if token is None:
            dropped.append(f"dropped box {shown}: no time given for it")
            continue
        if token.seconds is None:
            dropped.append(f"dropped box {shown}: {token.problem}")
            continue
        if not 0 <= token.seconds <= duration + max(0.5, duration * 0.01):
            dropped.append(f"dropped box {shown}: at {token.seconds:g} s, outside the clip (0–{duration:g} s)")
            continue
        yx = _GEMINI_BOX_KEY.search(before) is not None
        box, problem = normalise_box(tuple(float(value) for value in match.groups()), convention, frame_size, yx)
        if box is None:
            dropped.append(f"dropped box {shown}: {problem}")
            continue
        time = min(token.seconds, duration)
        if time in points:
            dropped.append(f"dropped box {shown}: a box at {time:g} s came earlier")
            continue
        points[time] = ParsedPoint(time, box)
    if not boxes and answer.strip():
        dropped.append(f"no box in the answer {quote(answer)}")
    return [points[time] for time in sorted(points)], dropped


def _object_time(
    answer: str, box: re.Match[str], objects: list[re.Match[str]], duration: float, plain: PlainTime
) -> _Token | None:
    """The time of the JSON object holding `box` and no other box: the value of its time key, else its only
    time; None outside an object or when the object has no time."""
    holder = next((found for found in objects if found.start() < box.start() and box.end() < found.end()), None)
    if holder is None or len(_BOX.findall(holder.group(0))) != 1:
        return None
    text = answer[holder.start() : box.start()] + " " * (box.end() - box.start()) + answer[box.end() : holder.end()]
    tokens = _tokens(text, duration, plain)
    keyed = [token for token in tokens if _TIME_KEY.search(text[: token.start])]
    if keyed:
        return keyed[0]
    return tokens[0] if len(tokens) == 1 else None
