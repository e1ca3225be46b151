""""Add subtitles" for DaVinci Resolve: the analysis's speech as an SRT beside the media, imported into the Media Pool.

Resolve's scripting README documents `MediaPool.ImportMedia([{clipInfo}])` ("FilePath"; the older list-of-paths
form is deprecated in 21), which imports files, subtitle files included, into the current Media Pool folder and
returns the items created. It documents no call that places a subtitle item on a timeline's subtitle track
(`AppendToTimeline` is documented for video and audio clips; its behaviour with a subtitle item is not, so the
script does not rely on it). So the script imports the SRT and says where to drag it; when the import answers
nothing, the file is still there for File › Import › Subtitle. SRT times are media time from the file's first
frame (`reelmark export --format srt`), so the item lines up when its start sits where the clip's media starts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .daemon_link import DaemonError, DaemonLink
from .resolve_host import as_list, try_call


def has_speech(analysis: dict[str, Any]) -> bool:
    return any(moment.get("kind") == "speech" for moment in analysis.get("moments", []))


def subtitle_path(analysis: dict[str, Any], suggested: str) -> str:
    """`<media stem> reelmark.srt` beside the media, or in the temporary folder when that folder is read-only."""
    media_folder = str(Path(analysis["media"]["path"]).parent)
    folder = media_folder if os.access(media_folder, os.W_OK) else tempfile.gettempdir()
    return os.path.join(folder, f"{Path(suggested).stem} reelmark.srt")


def add_subtitles(media_pool: Any, link: DaemonLink, analysis: dict[str, Any], say: Callable[[str], None]) -> str | None:
    """Write the SRT, import it into the Media Pool and say how to place it; the file's path, or None when the
    analysis has no speech (nothing was transcribed) or the daemon could not write subtitles."""
    if not has_speech(analysis):
        return None
    try:
        suggested, content = link.export(analysis["id"], "srt")
    except DaemonError as error:
        say(f"  no subtitles: {error}")
        return None
    path = subtitle_path(analysis, suggested)
    with open(path, "wb") as stream:
        stream.write(content)
    items = as_list(try_call(media_pool, "ImportMedia", [{"FilePath": path}]))
    if items:
        say(f"  subtitles: {path} is in the Media Pool as {try_call(items[0], 'GetName') or Path(path).name}; drag it onto "
            "a subtitle track, starting where the clip's media starts")  # fmt: skip
    else:
        say(f"  subtitles: wrote {path}; Resolve's ImportMedia answered nothing, so bring it in with "
            "File > Import > Subtitle... and drag it onto a subtitle track")  # fmt: skip
    return path
