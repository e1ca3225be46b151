"""Subtitle cues with exact times, from embedded text streams and sidecar `.srt`/`.vtt` files.

Embedded streams are demuxed and decoded by PyAV; their cue times come from packet pts and duration, so they are
exact in the stream's time base. Sidecars are parsed with `srt` and `webvtt-py`, whose millisecond times are
exact decimals. Styling (ASS override tags, HTML-like tags) is stripped: cues are for search, not display.

A sidecar is read only if it resolves (links followed) to a regular file in the media file's own folder, no larger
than `MAX_SIDECAR_BYTES`: the daemon checks the media path against its roots, and a `clip.srt` linking to
`~/.aws/credentials` must not carry that file's text into an analysis or an error. Others are skipped with a
warning. Parse errors say where the file went wrong, never what it says.
"""

from __future__ import annotations

import codecs
import logging
import re
import stat
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av

from reelmark.core.errors import SubtitleFormatError
from reelmark.core.media.container import PathLike, check_media_path, open_media, unreadable
from reelmark.core.results import Word

SIDECAR_EXTENSIONS = (".srt", ".vtt")
MAX_SIDECAR_BYTES = 16 << 20
"""Subtitles for a feature film are well under 1 MiB; more is not a subtitle file."""
BITMAP_SUBTITLE_CODECS = frozenset({"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub", "dvb_teletext"})
# A cue with no duration in its packet lasts until the next cue, or this long if it is the last.
LAST_CUE_FALLBACK = Fraction(2)

_ASS_OVERRIDE = re.compile(r"\{[^}]*\}")
_MARKUP_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_VTT_TIME = re.compile(r"^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$")
_VTT_INLINE_TIME = re.compile(r"<((?:\d+:)?\d{2}:\d{2}\.\d{3})>")

log = logging.getLogger("reelmark.media.subtitles")


@dataclass(frozen=True)
class Cue:
    """One subtitle cue in media time."""

    start: Fraction
    end: Fraction
    text: str
    source: str
    """`stream:N` for an embedded stream, else the sidecar's path."""
    language: str | None = None
    words: tuple[tuple[Fraction, str], ...] = ()
    """Word-level timing where the source has it (WebVTT inline timestamps, as karaoke-style and auto-generated
    captions write): (start, text) chunks in order; the first starts with the cue. Empty when only the cue is timed."""
    spoken: tuple[Word, ...] = ()
    """Transcribed words with their own start and end (a cue made from a `speech` moment); empty for subtitles."""


def clean_cue_text(text: str) -> str:
    """Plain text from ASS or SRT/VTT markup: tags removed, ASS line breaks as newlines."""
    text = _ASS_OVERRIDE.sub("", text).replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    text = _MARKUP_TAG.sub("", text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def find_sidecar_subtitles(media_path: PathLike) -> list[Path]:
    """Sidecars that belong to a media file: `clip.srt`, `clip.en.vtt`, ... in the same folder, and safe to read
    (`sidecar_problem`); unsafe ones are skipped with a warning that names no path above debug level."""
    path = Path(media_path)
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError:
        return []
    found = []
    for sibling in siblings:
        if sibling.suffix.lower() not in SIDECAR_EXTENSIONS:
            continue
        stem = sibling.name[: -len(sibling.suffix)]
        if stem != path.stem and not (stem.startswith(path.stem + ".") and "." not in stem[len(path.stem) + 1 :]):
            continue
        problem = sidecar_problem(path, sibling)
        if problem is None:
            found.append(sibling)
        elif problem:
            log.warning("skipped a sidecar subtitle file: %s", problem)
            log.debug("the skipped sidecar: %s", sibling)
    return found


def sidecar_problem(media_path: Path, sidecar: Path) -> str | None:
    """Why `sidecar` must not be read for `media_path` (None: it may; "": it is not a file at all, say nothing)."""
    try:
        target = sidecar.resolve(strict=True)
        status = target.stat()
    except (OSError, RuntimeError):  # a dangling link or a link loop
        return ""
    if target.parent != media_path.resolve().parent:
        return "it links outside the media file's folder"
    if not stat.S_ISREG(status.st_mode):
        return "" if stat.S_ISDIR(status.st_mode) else "it is not a regular file"
    if status.st_size > MAX_SIDECAR_BYTES:
        return f"it is larger than {MAX_SIDECAR_BYTES >> 20} MiB"
    return None


def _sidecar_language(media_path: Path, sidecar: Path) -> str | None:
    """`clip.en.srt` → `en`; `clip.srt` → None."""
    stem = sidecar.name[: -len(sidecar.suffix)]
    if stem == media_path.stem:
        return None
    return stem[len(media_path.stem) + 1 :]


def read_subtitles(path: PathLike, *, include_sidecars: bool = True) -> list[Cue]:
    """All text cues of a media file, embedded and sidecar, ordered by start time."""
    media_path = check_media_path(path)
    cues = read_embedded_subtitles(media_path)
    if include_sidecars:
        for sidecar in find_sidecar_subtitles(media_path):
            cues.extend(read_sidecar(sidecar, language=_sidecar_language(media_path, sidecar)))
    return sorted(cues, key=lambda cue: (cue.start, cue.end, cue.source))


def read_embedded_subtitles(path: PathLike) -> list[Cue]:
    """Cues from every text subtitle stream inside the file; bitmap streams carry no text and are skipped."""
    media_path = check_media_path(path)
    cues: list[Cue] = []
    with open_media(media_path) as container:
        streams = [
            stream
            for stream in container.streams.subtitles
            if stream.codec_context is not None and stream.codec_context.name not in BITMAP_SUBTITLE_CODECS
        ]
        if not streams:
            return cues
        pending: dict[int, list[tuple[Fraction, Fraction | None, str]]] = {stream.index: [] for stream in streams}
        try:
            for packet in container.demux(streams):
                if packet.size == 0 or packet.pts is None:
                    continue
                start = packet.pts * packet.time_base
                end = (packet.pts + packet.duration) * packet.time_base if packet.duration else None
                for subtitle in packet.decode():
                    text = clean_cue_text(subtitle.dialogue.decode("utf-8", errors="replace"))
                    if text:
                        pending[packet.stream.index].append((start, end, text))
        except av.FFmpegError as error:
            raise unreadable(media_path, error) from None
        for stream in streams:
            language = stream.metadata.get("language")
            cues.extend(_close_open_ends(pending[stream.index], f"stream:{stream.index}", language))
    return cues


def _close_open_ends(items: list[tuple[Fraction, Fraction | None, str]], source: str, language: str | None) -> list[Cue]:
    """Cues whose packets had no duration end where the next cue starts."""
    items = sorted(items, key=lambda item: item[0])
    cues = []
    for position, (start, end, text) in enumerate(items):
        if end is None:
            end = items[position + 1][0] if position + 1 < len(items) else start + LAST_CUE_FALLBACK
        cues.append(Cue(start, max(start, end), text, source, language))
    return cues


def _read_text(path: Path) -> str:
    """The sidecar's text: UTF-16 or UTF-32 where a byte-order mark says so (Windows tools save "Unicode" subtitles
    as UTF-16), else UTF-8, else Windows-1252 (older Western subtitles), else Latin-1, which decodes anything."""
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return raw.decode("utf-32")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _timedelta_seconds(value: timedelta) -> Fraction:
    return Fraction(value // timedelta(microseconds=1), 1_000_000)


def _vtt_seconds(text: str, path: Path) -> Fraction:
    match = _VTT_TIME.match(text.strip())
    if match is None:
        raise SubtitleFormatError(f"{path}: a cue time is not a WebVTT time (hh:mm:ss.ttt); fix or remove the file")
    hours, minutes, seconds, millis = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + Fraction(int(millis), 1000)


def _vtt_words(raw_text: str, cue_start: Fraction, path: Path) -> tuple[tuple[Fraction, str], ...]:
    """Chunks of a cue split at its inline `<hh:mm:ss.ttt>` timestamps; empty when it has none."""
    parts = _VTT_INLINE_TIME.split(raw_text)
    if len(parts) == 1:
        return ()
    chunks = [(cue_start, parts[0])] + [(_vtt_seconds(parts[i], path), parts[i + 1]) for i in range(1, len(parts), 2)]
    return tuple((time, clean_cue_text(text)) for time, text in chunks if clean_cue_text(text))


def read_sidecar(path: PathLike, *, language: str | None = None) -> list[Cue]:
    """Cues from one `.srt` or `.vtt` file."""
    sidecar = Path(path)
    suffix = sidecar.suffix.lower()
    if suffix == ".srt":
        import srt

        text = _read_text(sidecar)
        try:
            parsed = list(srt.parse(text))
        except srt.SRTParseError as error:
            line = text.count("\n", 0, error.expected_start) + 1
            raise SubtitleFormatError(
                f"{sidecar}: not valid SRT (unexpected text at line {line}); fix or remove the file"
            ) from None
        cues = [
            Cue(_timedelta_seconds(item.start), _timedelta_seconds(item.end), clean_cue_text(item.content), str(sidecar), language)
            for item in parsed
        ]
    elif suffix == ".vtt":
        import webvtt
        from webvtt.errors import MalformedCaptionError, MalformedFileError

        try:
            captions = webvtt.from_string(_read_text(sidecar))
        except (MalformedFileError, MalformedCaptionError):
            raise SubtitleFormatError(
                f"{sidecar}: not valid WebVTT (no WEBVTT header, or a malformed cue); fix or remove the file"
            ) from None
        cues = []
        for item in captions:
            start = _vtt_seconds(item.start, sidecar)
            words = _vtt_words(item.raw_text, start, sidecar)
            cues.append(Cue(start, _vtt_seconds(item.end, sidecar), clean_cue_text(item.text), str(sidecar), language, words))
    else:
        raise SubtitleFormatError(f"{sidecar}: unknown subtitle format; reelmark reads .srt and .vtt")
    return [cue for cue in cues if cue.text]
