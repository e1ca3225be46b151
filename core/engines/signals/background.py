"""Background subtraction for a static camera that still breathes: auto-exposure, slight sway, sensor grain.

OpenCV's MOG2 was tried first and failed on real footage: in the corpus parking lot the camera's auto-exposure
darkens the asphalt as a white car enters, and MOG2 then marks 92–98 % of the frame as moving; in short shots
its early learning rate (1/n) also absorbs a slow subject within a few frames. This model:

- keeps a running-average background (time constant about 1/`alpha` frames);
- scales each frame so its median matches the background's median (the median is the ground, the sky, the
  wall: whatever dominates the static scene), which cancels exposure and gain changes;
- marks a pixel moving when it differs from the background by more than `floor` levels and `noise_factor` times
  the frame's robust noise (MAD of the difference), so grain does not count and a global change raises the bar;
- updates moving pixels `alpha / slow_factor` as fast as still ones, so a passing subject does not burn into the
  background while one that stops (a parked car) is absorbed after a while.

Besides the moving mask, `stirring` gives the moving pixels that changed from frame to frame within the last
`SETTLED_S`: the running average learns a subject who stands still slowly, so after they leave their place
stays marked moving for many seconds (a ghost); in the corpus's CCTV room the ghost of each visitor at the table
outlasted every empty-room pause, and activity ran from the first entrance to the clip's end.

`sensitivity` is not set here: activity decides from the moving share what counts as activity.
"""

from __future__ import annotations

import cv2
import numpy as np

SETTLED_S = 1.5
"""A moving pixel that has not changed from frame to frame for this long is settled: no longer stirring. A
walker's or a hand's pixels change well within it. On the CCTV room activity ends 0.2-0.6 s after each exit at
1.5 s, 1-2 s after at 3 s; the parking lot's car spans are the same at either."""
MAX_GAIN_STEP = 2.0
LEVEL_REFRESH = 8
SUBSAMPLE = 3
"""Medians are taken on every third pixel each way: 1,600 values of a 160×90 thumbnail are plenty for a robust
level, at a ninth of the cost."""


def _median(image: np.ndarray) -> float:
    return float(np.median(image[::SUBSAMPLE, ::SUBSAMPLE]))


class StaticBackground:
    def __init__(self, alpha: float = 0.03, slow_factor: float = 10.0, floor: float = 14.0, noise_factor: float = 4.0):
        self.alpha = alpha
        self.slow_alpha = alpha / slow_factor
        self.floor = floor
        self.noise_factor = noise_factor
        self.background: np.ndarray | None = None
        self.background_level = 0.0
        self.frames_since_level = 0
        self.previous = np.empty(0, np.float32)
        self.unchanged_since = np.empty(0, np.float64)
        self.time = 0.0

    def reset(self) -> None:
        """Forget the scene (after a cut): the next frame becomes the background."""
        self.background = None

    def apply(self, thumb: np.ndarray, time: float) -> np.ndarray:
        """The boolean moving mask of one uint8 luma thumbnail shown at `time` seconds; all False for the first
        frame of a scene."""
        frame = thumb.astype(np.float32)
        self.time = time
        if self.background is None:
            self.background, self.previous = frame, frame
            self.unchanged_since = np.full(frame.shape, time)
            self.frames_since_level = LEVEL_REFRESH
            return np.zeros(thumb.shape, dtype=bool)
        if self.frames_since_level >= LEVEL_REFRESH:  # the background drifts slowly: its median can wait a few frames
            self.background_level, self.frames_since_level = _median(self.background), 0
        self.frames_since_level += 1
        gain = self.background_level / max(1.0, _median(frame))
        frame *= min(MAX_GAIN_STEP, max(1 / MAX_GAIN_STEP, gain))
        difference = cv2.absdiff(frame, self.background)
        noise = 1.4826 * _median(difference)
        threshold = max(self.floor, self.noise_factor * noise)
        moving = difference > threshold
        self.unchanged_since[cv2.absdiff(frame, self.previous) > threshold] = time
        self.previous = frame
        still = np.logical_not(moving).view(np.uint8)
        cv2.accumulateWeighted(frame, self.background, self.alpha, mask=still)
        cv2.accumulateWeighted(frame, self.background, self.slow_alpha, mask=1 - still)
        return moving

    def stirring(self, moving: np.ndarray, within_s: float = SETTLED_S) -> np.ndarray:
        """The pixels of the last frame's `moving` mask that changed from one frame to the next within the last
        `within_s`: what moves now, without the ghost of someone who stood still long enough to be half learnt
        and then left (the slow update keeps their place marked moving for many seconds) or someone standing
        still."""
        return moving & (self.time - self.unchanged_since < within_s)
