"""Who may call the daemon and which files it may read.

On 127.0.0.1 (the default) only this machine's users can connect, so no token is needed for local programs.
Web pages can aim requests at 127.0.0.1 too, so a request from a browser-like client (one that sends `Origin`)
must carry the per-install *local token* unless its origin is listed exactly: `reelmark serve` creates that
token once, in a 0600 file in the user's config folder, and the Premiere panel user pastes it into the panel.
Any other address, 127.0.0.2 included, is a deliberate choice to be reachable more widely, so the daemon
refuses to start there without both a bearer token and an allow-list of media roots. Media paths are bounded in
length, then resolved (symlinks, `..`) before they are compared with the roots, so neither can lead outside
them. Tokens are compared in constant time and never logged; media paths are logged at debug level only.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
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
LOCAL_TOKEN_ENV = "REELMARK_LOCAL_TOKEN_FILE"
LOCAL_TOKEN_NAME = "local-token"
MAX_PATH_BYTES = 4096
"""Longer media paths are refused before they are resolved: no file system takes more (Linux's PATH_MAX), and
resolving a path costs time per component."""
MAX_PATH_COMPONENTS = 256


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


def local_token_path() -> Path:
    """`$REELMARK_LOCAL_TOKEN_FILE`, else `local-token` in the user config folder (platformdirs:
    ~/.config/reelmark on Linux, ~/Library/Application Support/reelmark on macOS, %LOCALAPPDATA%\\reelmark on
    Windows). The Resolve script computes the same path with the standard library (plugin/resolve/daemon_link.py)."""
    override = os.environ.get(LOCAL_TOKEN_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path("reelmark", appauthor=False) / LOCAL_TOKEN_NAME


def ensure_local_token(path: Path) -> str:
    """The per-install local token in `path`, created (0600, 32 random bytes) on first use.

    A file other users may read is refused: anyone who can read it can drive the daemon from a web page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the local token file {path} can be read by other users; make it private with: chmod 600 {path}"
        )
    token = path.read_text(encoding="utf-8").strip()
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigurationError(f"the local token file {path} holds no usable token; delete it and restart the daemon")
    return token


def roots_from_env() -> tuple[Path, ...]:
    raw = os.environ.get(MEDIA_ROOTS_ENV, "")
    return tuple(Path(part) for part in raw.split(os.pathsep) if part)


@dataclass(frozen=True)
class Guard:
    """The daemon's checks on every call: the token (when one is set), the local token for browser-like callers
    (when no token is set), and the media roots (when any are set)."""

    token: str | None = None
    media_roots: tuple[Path, ...] = ()
    local_token: str | None = None

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

    def authenticate_browser(self, origin: str, authorization: str | None) -> None:
        """Check a caller from a web origin that is not listed, on a daemon without a token: only the local token
        lets it in, since any web page can send requests to 127.0.0.1 (with a token, `authenticate` covers it)."""
        if self.local_token is None:
            raise PermissionDeniedError(
                f"origin {origin[:80]!r} may not call this daemon; list it with --cors-origin, or use a token"
            )
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode("utf-8"), self.local_token.encode("utf-8")
        ):
            raise UnauthenticatedError(
                "calls from a panel or web page need the daemon's local token: print it with "
                "`reelmark serve --print-local-token` and paste it into the panel's Token field"
            )

    def media_path(self, raw: str) -> Path:
        """The resolved path of a requested media file, if the roots allow it."""
        if not raw:
            raise InvalidRequestError("media_path is empty; give the absolute path of a media file")
        check_path_shape(raw)
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


def check_path_shape(raw: str) -> None:
    """Refuse a path no file system accepts, before any work is spent on it: NUL bytes, over-long, too deep."""
    if "\x00" in raw:
        raise InvalidRequestError("media_path contains a NUL byte; give the path of a media file")
    if len(raw.encode("utf-8", errors="surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidRequestError(f"media_path is longer than {MAX_PATH_BYTES} bytes; give a shorter path to the file")
    if raw.count("/") + raw.count("\\") > MAX_PATH_COMPONENTS:
        raise InvalidRequestError(f"media_path has more than {MAX_PATH_COMPONENTS} folders; give a shorter path")


def make_guard(addresses: Iterable[str], token: str | None, media_roots: Iterable[Path],
               local_token: str | None = None) -> Guard:  # fmt: skip
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
    return Guard(token, roots, None if token is not None else local_token)
