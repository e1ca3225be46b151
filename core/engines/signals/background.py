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

`sensitivity` is not set here: activity decides from the moving share what counts as activity.
"""

from __future__ import annotations

import cv2
import numpy as np

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

    def reset(self) -> None:
        """Forget the scene (after a cut): the next frame becomes the background."""
        self.background = None

    def apply(self, thumb: np.ndarray) -> np.ndarray:
        """The boolean moving mask of one uint8 luma thumbnail; all False for the first frame of a scene."""
        frame = thumb.astype(np.float32)
        if self.background is None:
            self.background = frame
            self.frames_since_level = LEVEL_REFRESH
            return np.zeros(thumb.shape, dtype=bool)
        if self.frames_since_level >= LEVEL_REFRESH:  # the background drifts slowly: its median can wait a few frames
            self.background_level, self.frames_since_level = _median(self.background), 0
        self.frames_since_level += 1
        gain = self.background_level / max(1.0, _median(frame))
        frame *= min(MAX_GAIN_STEP, max(1 / MAX_GAIN_STEP, gain))
        difference = cv2.absdiff(frame, self.background)
        noise = 1.4826 * _median(difference)
        moving = difference > max(self.floor, self.noise_factor * noise)
        still = np.logical_not(moving).view(np.uint8)
        cv2.accumulateWeighted(frame, self.background, self.alpha, mask=still)
        cv2.accumulateWeighted(frame, self.background, self.slow_alpha, mask=1 - still)
        return moving
