"""Pillarbox and letterbox bars: the part of the frame that holds the picture.

A 4:3 film in a 16:9 file (the corpus's music video) carries black bars an eighth of the width on each side. A
crop parked over a bar shows black, and a detector's box reaching into one holds nobody, so reframe keeps its crop
inside the picture area found here.

Read from `VideoFeatures.pictures` (every frame's 16×9 Y'CbCr thumbnail): a column (row) of cells is a bar when
its brightest cell over the whole shot stays at or below `BAR_LUMA`. Bars are read from the edges inward, must
come in pairs (equal width on both sides, give or take one cell: the picture is centred) and must leave a lit
picture between them; a dark shot, where every cell stays dark, has no bars. A cell is a sixteenth of the width,
so a bar that ends mid-cell is found one cell narrower (the area errs on the wide side, never cutting picture).
"""

from __future__ import annotations

import numpy as np

from reelmark.core.results import Box

BAR_LUMA = 24
"""Brightest a bar's cell may be over the shot, in 8-bit luma: video black is 16, and an area-averaged cell with
any lit picture in it lies well above."""
FULL_FRAME = Box(0.0, 0.0, 1.0, 1.0)


def picture_area(pictures: np.ndarray) -> Box:
    """The frame area inside pillarbox and letterbox bars over these frames (n × rows × columns × Y'CbCr), or the
    full frame when there are none."""
    if len(pictures) == 0:
        return FULL_FRAME
    brightest = pictures[..., 0].max(axis=0)
    left, right = _bars(brightest.max(axis=0))
    top, bottom = _bars(brightest.max(axis=1))
    columns, rows = brightest.shape[1], brightest.shape[0]
    return Box(left / columns, top / rows, 1 - right / columns, 1 - bottom / rows)


def _bars(profile: np.ndarray) -> tuple[int, int]:
    """Cells of bar at the start and at the end of one brightest-cell profile, (0, 0) where there is no pair."""
    dark = profile <= BAR_LUMA
    if dark.all():
        return 0, 0
    start = int(np.argmin(dark))
    end = int(np.argmin(dark[::-1]))
    if min(start, end) == 0 or abs(start - end) > 1:
        return 0, 0
    return start, end
