"""Where people and activity go: does a tube enter, leave or stay in a region of the picture?

A region is `x,y,w,h` in [0, 1] of the upright picture (as tubes are). A tube point counts as in the region when
at least `INSIDE_FRACTION` of its box's area lies inside it: a person's box is tall and its centre moves little
as they walk towards or away from the camera, while the share of the body inside a region follows them.
- enters: a point outside followed by a point inside; the event is at the first point inside;
- leaves: a point inside followed by a point outside; the event is at the first point outside;
- inside: a run of points inside; the longest one.
A tube that starts inside has not entered (it was first seen there), and one that ends inside has not left.
A detector's box jitters: one point that flips to the other side and straight back (a run shorter than
`STEADY_POINTS` between two runs of the other state) is not a crossing, and is read as its neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

from reelmark.core.errors import InvalidRequestError

INSIDE_FRACTION = 0.5
MOTIONS = ("enters", "leaves", "inside")
STEADY_POINTS = 2


@dataclass(frozen=True)
class Region:
    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def parse(cls, text: str) -> Region:
        try:
            x, y, w, h = (float(part) for part in text.split(","))
        except ValueError:
            raise InvalidRequestError(f"--region {text!r}: write x,y,w,h in [0, 1] of the picture, e.g. 0.4,0,0.45,0.6") from None
        if not (0 <= x <= 1 and 0 <= y <= 1 and w > 0 and h > 0 and x + w <= 1.0001 and y + h <= 1.0001):
            raise InvalidRequestError(f"--region {text!r}: x and y must be in [0, 1], w and h positive, and the region "
                                      "inside the picture (x + w <= 1, y + h <= 1)")  # fmt: skip
        return cls(x, y, min(1.0, x + w), min(1.0, y + h))

    def share_of(self, box: list[float]) -> float:
        """How much of `box` ([x0, y0, x1, y1]) lies inside the region, 0 to 1."""
        x0, y0, x1, y1 = box
        area = (x1 - x0) * (y1 - y0)
        if area <= 0:
            return 1.0 if self.x0 <= x0 <= self.x1 and self.y0 <= y0 <= self.y1 else 0.0
        width = max(0.0, min(x1, self.x1) - max(x0, self.x0))
        height = max(0.0, min(y1, self.y1) - max(y0, self.y0))
        return width * height / area


def region_span(tube: list[dict], region: Region, motion: str) -> tuple[float, float] | None:
    """The (start, end) media seconds of `motion` in `tube` (points with `time_s` and `box`), or None.

    enters: from the first point inside to the tube's end; leaves: from the tube's start to the first point
    outside; inside: the longest run of points inside."""
    if motion not in MOTIONS:
        raise InvalidRequestError(f"unknown region motion {motion!r}; use one of {', '.join(MOTIONS)}")
    inside = _steady([region.share_of(point["box"]) >= INSIDE_FRACTION for point in tube])
    times = [float(point["time_s"]) for point in tube]
    if not times:
        return None
    if motion == "enters":
        crossing = next((index for index in range(1, len(inside)) if inside[index] and not inside[index - 1]), None)
        return None if crossing is None else (times[crossing], times[-1])
    if motion == "leaves":
        crossing = next((index for index in range(1, len(inside)) if not inside[index] and inside[index - 1]), None)
        return None if crossing is None else (times[0], times[crossing])
    best: tuple[float, float] | None = None
    run_start: int | None = None
    for index, flag in enumerate([*inside, False]):
        if flag and run_start is None:
            run_start = index
        elif not flag and run_start is not None:
            span = (times[run_start], times[index - 1])
            if best is None or span[1] - span[0] > best[1] - best[0]:
                best = span
            run_start = None
    return best


def _steady(flags: list[bool]) -> list[bool]:
    """`flags` with every interior run shorter than `STEADY_POINTS` flipped to its neighbours' state."""
    runs: list[list[int]] = []
    for index, flag in enumerate(flags):
        if runs and flags[runs[-1][0]] == flag:
            runs[-1].append(index)
        else:
            runs.append([index])
    steady = list(flags)
    for run in runs[1:-1]:
        if len(run) < STEADY_POINTS:
            for index in run:
                steady[index] = not flags[index]
    return steady
