"""Typed errors for everything a user can get wrong.

Every error a user can cause is a `ReelmarkError`. The CLI prints its message as one line, and the daemon maps
its `status` (a gRPC status code name, kept as a string so this module imports nothing heavy) onto the wire.
Messages name the file or value at fault and say what to do about it.
"""

from __future__ import annotations


class ReelmarkError(Exception):
    """Base for errors caused by input or environment, never by a bug in reelmark."""

    status = "INVALID_ARGUMENT"


class MediaError(ReelmarkError):
    """The media file cannot be used as asked."""


class MediaNotFoundError(MediaError):
    status = "NOT_FOUND"


class NotAMediaFileError(MediaError):
    """The path exists but is a directory, a device or a pipe."""


class EmptyMediaError(MediaError):
    """The file has zero bytes."""


class UnreadableMediaError(MediaError):
    """FFmpeg cannot open or decode the file: corrupt, truncated, or not media at all."""


class TruncatedMediaError(UnreadableMediaError):
    """The file's data stops well before the duration its header promises."""


class MediaPermissionError(MediaError):
    status = "PERMISSION_DENIED"


class NoVideoStreamError(MediaError):
    """A video operation was asked of a file with no video stream."""


class NoAudioStreamError(MediaError):
    """An audio operation was asked of a file with no audio stream."""


class InvalidRangeError(ReelmarkError):
    """A time range or timestamp lies outside the media, or is malformed."""


class TimecodeError(ReelmarkError, ValueError):
    """A timecode string does not exist at the given frame rate."""


class SubtitleFormatError(ReelmarkError):
    """A sidecar subtitle file cannot be parsed."""


class InvalidRequestError(ReelmarkError):
    """A request that cannot be carried out as asked: an unknown option, a task without the query it needs."""


class ResultsFormatError(ReelmarkError):
    """A serialised analysis does not follow the results model."""


class EngineUnavailableError(ReelmarkError):
    """The engine cannot run here: not built yet, no weights, or no GPU."""

    status = "FAILED_PRECONDITION"


class ModelFetchError(ReelmarkError):
    """`reelmark models pull` could not fetch a model: no network, no such model or revision, or a gated one."""


class TimelineError(ReelmarkError):
    """A timeline file (OTIO, FCP7 XML, EDL, FCPXML, AAF) cannot be used as asked."""


class TimelineNotFoundError(TimelineError):
    status = "NOT_FOUND"


class TimelineFormatError(TimelineError):
    """The file is malformed, unsafe to parse, not a timeline, or in a format reelmark cannot write."""
