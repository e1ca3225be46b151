"""Security: an exposed bind needs a token and media roots; paths cannot escape the roots; logs keep secrets.

The daemon is bound to 127.0.0.2, a loopback address other than the default, which counts as exposed.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
from pathlib import Path

import pytest
from test_daemon_support import shots_request, start_daemon, tiny_clip

from reelmark.core.client import DaemonClient
from reelmark.core.daemon.errors import ConfigurationError, StatusError
from reelmark.core.daemon.security import Guard, make_guard
from reelmark.core.engines import AnalysisRequest

__all__ = ["start_daemon", "tiny_clip"]  # fixtures, imported for pytest

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def roots(tmp_path: Path, tiny_clip: Path) -> dict[str, Path]:
    """An allowed root holding the clip, a forbidden folder beside it, and ways out of the root."""
    allowed, forbidden = tmp_path / "allowed", tmp_path / "forbidden"
    allowed.mkdir()
    forbidden.mkdir()
    inside = allowed / "clip.mp4"
    inside.write_bytes(tiny_clip.read_bytes())
    outside = forbidden / "secret.mp4"
    outside.write_bytes(tiny_clip.read_bytes())
    (allowed / "link.mp4").symlink_to(outside)
    (allowed / "linked-folder").symlink_to(forbidden, target_is_directory=True)
    return {"root": allowed, "inside": inside, "outside": outside}


def test_an_exposed_bind_without_token_or_roots_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        make_guard(["127.0.0.2:7330"], None, [tmp_path])
    assert "a token" in str(refused.value) and "REELMARK_TOKEN" in str(refused.value)
    with pytest.raises(ConfigurationError) as no_roots:
        make_guard(["127.0.0.1:7330", "0.0.0.0:7331"], TOKEN, [])
    assert "media roots missing" in str(no_roots.value) and "0.0.0.0" in str(no_roots.value)
    assert make_guard(["127.0.0.1:0", "127.0.0.1:0"], None, []) == Guard(), "the default bind needs neither"


def test_on_127_0_0_2_a_call_without_the_token_is_unauthenticated(start_daemon, roots: dict[str, Path]) -> None:
    daemon = start_daemon(address="127.0.0.2:0", http_address="127.0.0.2:0", token=TOKEN, media_roots=(roots["root"],))
    assert daemon.address.startswith("127.0.0.2:")
    for token, hint in (("", "needs a bearer token"), ("wrong-token-0123456789", "token is wrong")):
        with DaemonClient(daemon.address, token=token) as client:
            with pytest.raises(StatusError) as refused:
                client.jobs()
            assert refused.value.status == "UNAUTHENTICATED" and hint in str(refused.value)
    host, port = daemon.http_address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", "/reelmark.v1.Reelmark/ListJobs", body=b"{}", headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 401 and json.loads(response.read())["code"] == "unauthenticated"
    connection.close()
    with DaemonClient(daemon.address, token=TOKEN) as client:
        assert client.jobs() == []


@pytest.mark.parametrize("escape", ["outside", "symlink", "symlinked folder", "dot-dot"])
def test_paths_outside_the_roots_are_permission_denied(start_daemon, roots: dict[str, Path], escape: str) -> None:
    daemon = start_daemon(address="127.0.0.2:0", http_address=None, token=TOKEN, media_roots=(roots["root"],))
    path = {
        "outside": roots["outside"],
        "symlink": roots["root"] / "link.mp4",
        "symlinked folder": roots["root"] / "linked-folder" / "secret.mp4",
        "dot-dot": roots["root"] / ".." / "forbidden" / "secret.mp4",
    }[escape]
    assert path.exists(), "the escape route leads to a real file"
    with DaemonClient(daemon.address, token=TOKEN) as client:
        with pytest.raises(StatusError) as refused:
            client.start(shots_request(path))
        assert refused.value.status == "PERMISSION_DENIED" and "media roots" in str(refused.value)
        with pytest.raises(StatusError) as lookup:
            client.lookup(shots_request(path))
        assert lookup.value.status == "PERMISSION_DENIED"


def test_media_inside_the_roots_is_served(start_daemon, roots: dict[str, Path]) -> None:
    daemon = start_daemon(address="127.0.0.2:0", http_address=None, token=TOKEN, media_roots=(roots["root"],))
    with DaemonClient(daemon.address, token=TOKEN) as client:
        job = client.start(shots_request(roots["root"] / "." / "clip.mp4"))
        final = list(client.watch(job.id))[-1]
    assert final.analysis.media.path == str(roots["inside"].resolve())


def test_no_media_path_or_token_in_logs_above_debug(start_daemon, roots: dict[str, Path],
                                                    caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="reelmark")
    daemon = start_daemon(address="127.0.0.2:0", http_address="127.0.0.2:0", token=TOKEN, media_roots=(roots["root"],))
    with DaemonClient(daemon.address, token=TOKEN) as client:
        job = client.start(shots_request(roots["inside"]))
        list(client.watch(job.id))
        with pytest.raises(StatusError):
            client.start(AnalysisRequest(roots["root"] / "missing.mp4", ()))
    daemon.stop(grace=1.0)
    logged = "\n".join(record.getMessage() for record in caplog.records if record.levelno > logging.DEBUG)
    assert "job" in logged and "succeeded" in logged, "the lifecycle is logged"
    for secret in (TOKEN, str(roots["root"]), os.path.basename(roots["inside"]), "missing.mp4"):
        assert secret not in logged, f"{secret!r} appeared in the logs"
