"""Who may call the daemon and which files it may read.

On 127.0.0.1 (the default) only this machine's users can connect, so no token is needed. Any other address,
127.0.0.2 included, is a deliberate choice to be reachable more widely, so the daemon refuses to start there
without both a bearer token and an allow-list of media roots. Media paths are resolved (symlinks, `..`) before
they are compared with the roots, so neither can lead outside them. Tokens are compared in constant time and
never logged; media paths are logged at debug level only.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reelmark.core.daemon.errors import ConfigurationError, PermissionDeniedError, UnauthenticatedError
from reelmark.core.errors import InvalidRequestError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_GRPC_ADDRESS = f"{DEFAULT_HOST}:7330"
DEFAULT_HTTP_ADDRESS = f"{DEFAULT_HOST}:7331"
TOKEN_ENV = "REELMARK_TOKEN"
MEDIA_ROOTS_ENV = "REELMARK_MEDIA_ROOTS"
MIN_TOKEN_LENGTH = 16


def split_address(address: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` as (host, port); port 0 asks the system for a free one."""
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigurationError(f"{address!r} is not HOST:PORT (for example {DEFAULT_GRPC_ADDRESS})")
    return host.strip("[]"), int(port)


def read_token(token_file: Path | None) -> str | None:
    """The bearer token from a file (first line) or `$REELMARK_TOKEN`; never from the command line, where
    other users could read it in the process list."""
    if token_file is not None:
        token = token_file.read_text(encoding="utf-8").strip()
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigurationError(
            f"the token is shorter than {MIN_TOKEN_LENGTH} characters; make a strong one, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return token or None


def roots_from_env() -> tuple[Path, ...]:
    raw = os.environ.get(MEDIA_ROOTS_ENV, "")
    return tuple(Path(part) for part in raw.split(os.pathsep) if part)


@dataclass(frozen=True)
class Guard:
    """The daemon's checks on every call: the token (when one is set) and the media roots (when any are set)."""

    token: str | None = None
    media_roots: tuple[Path, ...] = ()

    def authenticate(self, authorization: str | None) -> None:
        """Check an `Authorization: Bearer <token>` value; with no token configured every caller is let in."""
        if self.token is None:
            return
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise UnauthenticatedError(
                "this daemon needs a bearer token: send 'authorization: Bearer <token>' "
                f"(the reelmark CLI reads it from ${TOKEN_ENV})"
            )
        if not hmac.compare_digest(presented.strip().encode("utf-8"), self.token.encode("utf-8")):
            raise UnauthenticatedError(f"the bearer token is wrong; use the daemon's token (${TOKEN_ENV})")

    def media_path(self, raw: str) -> Path:
        """The resolved path of a requested media file, if the roots allow it."""
        if not raw:
            raise InvalidRequestError("media_path is empty; give the absolute path of a media file")
        path = Path(raw)
        if not path.is_absolute():
            raise InvalidRequestError(
                f"media_path {raw!r} is relative; give an absolute path (the daemon does not share your working folder)"
            )
        resolved = path.resolve()
        if self.media_roots and not any(resolved.is_relative_to(root) for root in self.media_roots):
            raise PermissionDeniedError(
                f"{raw} is outside the daemon's media roots (after resolving links and '..'); move the file under "
                "one of them, or restart the daemon with another --media-root"
            )
        return resolved


def make_guard(addresses: Iterable[str], token: str | None, media_roots: Iterable[Path]) -> Guard:
    """The guard for a daemon bound to `addresses`, refusing an exposed bind without a token and media roots."""
    roots = tuple(Path(root).expanduser().resolve() for root in media_roots)
    exposed = sorted({host for host, _ in map(split_address, addresses) if host != DEFAULT_HOST})
    if exposed and (token is None or not roots):
        missing = " and ".join(
            name for name, absent in (("a token", token is None), ("media roots", not roots)) if absent
        )
        raise ConfigurationError(
            f"binding to {', '.join(exposed)} (not {DEFAULT_HOST}) needs a bearer token and media roots; {missing} "
            f"missing. Set ${TOKEN_ENV} or --token-file, and --media-root DIR (or ${MEDIA_ROOTS_ENV})"
        )
    for root in roots:
        if not root.is_dir():
            raise ConfigurationError(f"media root {root} is not a folder; give existing folders to --media-root")
    return Guard(token, roots)
