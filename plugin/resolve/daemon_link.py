"""The Resolve script's line to the reelmark daemon: proto3 JSON over HTTP on 127.0.0.1, standard library only.

Resolve runs scripts in its own Python, whichever version the user installed, so this side imports nothing
beyond the standard library: no grpc, no reelmark. It speaks the daemon's JSON API (protos/reelmark/v1), the
same one the Premiere panel uses: `POST /reelmark.v1.Reelmark/<Method>` and `GET /v1/jobs/<id>` to poll.
proto3 JSON writes 64-bit integers as strings; `exact_time` reads both.

The credential: the token the daemon was started with, if the user gave one, else the daemon's per-install local
token, read from the file `reelmark serve` keeps it in (`local_token_path`), so the script needs no setup.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from fractions import Fraction
from typing import Any

SERVICE_PATH = "/reelmark.v1.Reelmark/"
JOB_PATH = "/v1/jobs/"
FINAL_STATES = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")
POLL_S = 0.5
START_TIMEOUT_S = 30.0
LOCAL_TOKEN_ENV = "REELMARK_LOCAL_TOKEN_FILE"


class DaemonError(Exception):
    """The daemon said no, or is not there; the message says what to do."""


def exact_time(value: dict[str, Any] | None) -> Fraction:
    """A wire `Time` ({value, rate}, 64-bit integers possibly as strings) as exact seconds."""
    if not value:
        return Fraction(0)
    return Fraction(int(value.get("value", 0)), int(value.get("rate", 1)))


def wire_time(seconds: Fraction) -> dict[str, int]:
    return {"value": seconds.numerator, "rate": seconds.denominator}


def local_token_path() -> str:
    """Where `reelmark serve` keeps its local token: $REELMARK_LOCAL_TOKEN_FILE, else `reelmark/local-token` in the
    user config folder, computed as platformdirs computes it for reelmark.core.daemon.security (which this
    standard-library-only module cannot import)."""
    override = os.environ.get(LOCAL_TOKEN_ENV)
    if override:
        return os.path.expanduser(override)
    if sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    elif os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    else:
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
    return os.path.join(base, "reelmark", "local-token")


def read_local_token() -> str | None:
    """The daemon's local token, or None before `reelmark serve` has made one."""
    try:
        with open(local_token_path(), encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


class DaemonLink:
    def __init__(self, address: str, token: str | None = None, timeout_s: float = 30.0):
        self.base = f"http://{address}"
        self.token = token or read_local_token()
        self.timeout_s = timeout_s

    def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request(SERVICE_PATH + method, json.dumps(body).encode("utf-8"))

    def job(self, job_id: str) -> dict[str, Any]:
        return self._request(JOB_PATH + job_id, None)

    def _request(self, path: str, body: bytes | None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method="POST" if body is not None else "GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read().decode("utf-8"))
                message = f"{detail.get('code', error.code)}: {detail.get('message', '')}"
            except ValueError:
                message = f"HTTP {error.code}"
            raise DaemonError(message) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise ConnectionError(f"no reelmark daemon answers at {self.base} ({getattr(error, 'reason', error)})") from None

    def alive(self) -> bool:
        try:
            self.call("ListEngines", {})
        except ConnectionError:
            return False
        return True

    def analyse(self, spec: dict[str, Any], progress: Callable[[str, float], None]) -> dict[str, Any]:
        """Start a job for `spec`, report its progress, and return the stored Analysis once it succeeds."""
        job = self.call("StartAnalysis", {"spec": spec})
        while job.get("state") not in FINAL_STATES:
            progress(job.get("stage") or "queued", float(job.get("fraction", 0.0)))
            time.sleep(POLL_S)
            job = self.job(job["id"])
        if job["state"] != "JOB_STATE_SUCCEEDED":
            error = job.get("error", {})
            raise DaemonError(f"{error.get('code', job['state'])}: {error.get('message', 'the job did not finish')}")
        progress("done", 1.0)
        return self.call("GetAnalysis", {"analysisId": job["analysisId"]})

    def export(self, analysis_id: str, fmt: str, timeline: str = "analysis") -> tuple[str, bytes]:
        """The file an NLE imports, rendered by the daemon's bridge: (suggested name, bytes)."""
        response = self.call("Export", {"analysisId": analysis_id, "format": fmt, "timeline": timeline})
        return response.get("suggestedName", f"reelmark{response.get('extension', '')}"), base64.b64decode(response.get("content", ""))


def start_daemon(reelmark: str, address: str, log_path: str) -> subprocess.Popen[bytes]:
    """Start `reelmark serve` in the background, detached from Resolve, logging to `log_path`."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [reelmark, "serve", "--http-address", address],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=os.name != "nt",
            creationflags=getattr(subprocess, "DETACHED_PROCESS", 0),
        )  # fmt: skip


def connect(address: str, reelmark: str | None, log_path: str, say: Callable[[str], None], token: str | None = None) -> DaemonLink:
    """A link to a running daemon: the one at `address`, else one started now, else an error saying how to start it."""
    link = DaemonLink(address, token)
    if link.alive():
        return link
    how = f"start it in a terminal with:  reelmark serve --http-address {address}"
    if not reelmark or not os.path.exists(reelmark):
        raise DaemonError(f"no reelmark daemon at {address}; {how}")
    say(f"starting the reelmark daemon ({reelmark} serve); its log: {log_path}")
    process = start_daemon(reelmark, address, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DaemonError(f"the daemon stopped at start (exit {process.returncode}); see {log_path}, or {how}")
        if link.alive():
            return link
        time.sleep(POLL_S)
    raise DaemonError(f"the daemon did not answer within {START_TIMEOUT_S:.0f} s; see {log_path}, or {how}")
