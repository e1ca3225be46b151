"""Errors only the daemon raises, each carrying the gRPC status it answers with (like `reelmark.core.errors`)."""

from __future__ import annotations

import logging
import sys

from reelmark.core.errors import ReelmarkError

MAX_MESSAGE_CHARS = 1000
"""Error messages sent to clients are cut here: they say what to do in a sentence or two, and a cap keeps a
message built from a long input (a path, a parser's complaint) from carrying that input whole."""


class NotFoundError(ReelmarkError):
    """No job or stored analysis with the id asked for."""

    status = "NOT_FOUND"


class QueueFullError(ReelmarkError):
    status = "RESOURCE_EXHAUSTED"


class UnauthenticatedError(ReelmarkError):
    status = "UNAUTHENTICATED"


class PermissionDeniedError(ReelmarkError):
    status = "PERMISSION_DENIED"


class ShuttingDownError(ReelmarkError):
    status = "UNAVAILABLE"


class DeadlineExceededError(ReelmarkError):
    status = "DEADLINE_EXCEEDED"


class ConfigurationError(ReelmarkError):
    """The daemon was started with settings it refuses (an exposed address without a token or media roots)."""

    status = "FAILED_PRECONDITION"


class StatusError(ReelmarkError):
    """An error whose status is known only at run time: a job's failure relayed to whoever waits on it, or a
    daemon's error answer relayed to a client."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def public_message(error: BaseException) -> str:
    """An error's message as clients see it: at most `MAX_MESSAGE_CHARS` characters."""
    text = str(error)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def log_unexpected(log: logging.Logger, what: str) -> None:
    """Log a bug (call inside `except`): its type at error level, the traceback at debug level only, since an
    exception's text can quote a media path and paths stay out of logs above debug."""
    error = sys.exc_info()[1]
    log.error("%s failed unexpectedly (%s); run the daemon with -v for the traceback", what, type(error).__name__)
    log.debug("traceback of the failure in %s", what, exc_info=error)
