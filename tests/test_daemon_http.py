"""The JSON-over-HTTP gateway, as the Premiere UXP panel's `fetch` uses it: proto3 JSON, polling, CORS.

Requests go through `http.client` to a real daemon's gateway on an ephemeral loopback port.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

from test_daemon_support import GatedEngine, engine_factory, start_daemon, tiny_clip

from reelmark.core.results import Analysis

__all__ = ["start_daemon", "tiny_clip"]  # fixtures, imported for pytest

SERVICE = "/reelmark.v1.Reelmark"


def call(address: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         method: str = "POST") -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    payload = None if body is None else json.dumps(body).encode("utf-8")
    sent = {"Content-Type": "application/json"} if payload is not None else {}
    connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {key.lower(): value for key, value in response.getheaders()}, data


def test_full_flow_over_json_with_polling_and_watch(start_daemon, tiny_clip: Path) -> None:
    daemon = start_daemon()
    spec = {"mediaPath": str(tiny_clip), "tasks": ["shots"], "end": {"value": "4", "rate": "5"}}
    status, headers, body = call(daemon.http_address, f"{SERVICE}/StartAnalysis", {"spec": spec})
    assert status == 200 and headers["content-type"] == "application/json", body
    job = json.loads(body)
    assert job["state"] in ("JOB_STATE_QUEUED", "JOB_STATE_RUNNING") and "fraction" in job, job

    status, headers, body = call(daemon.http_address, f"{SERVICE}/WatchJob", {"jobId": job["id"]})
    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    events = [json.loads(line) for line in body.decode("utf-8").splitlines()]
    assert events[-1]["job"]["state"] == "JOB_STATE_SUCCEEDED" and "analysis" in events[-1], events[-1]

    status, headers, body = call(daemon.http_address, f"/v1/jobs/{job['id']}", method="GET")
    polled = json.loads(body)
    assert status == 200 and headers["cache-control"] == "no-store"
    assert polled["state"] == "JOB_STATE_SUCCEEDED" and polled["fraction"] == 1, polled

    status, _, body = call(daemon.http_address, f"{SERVICE}/GetAnalysis", {"analysisId": polled["analysisId"]})
    analysis = json.loads(body)
    assert status == 200 and analysis["sourceRange"]["end"] == {"value": "4", "rate": "5"}, analysis["sourceRange"]
    shots = [moment for moment in analysis["moments"] if moment["kind"] == "shot"]
    assert shots[1]["span"]["start"] == {"value": "12", "rate": "25"}, "exact times: frame 12 at 25 fps"

    status, _, body = call(daemon.http_address, f"{SERVICE}/Export", {"analysisId": polled["analysisId"], "format": "json"})
    exported = json.loads(body)
    assert status == 200 and exported["extension"] == ".json"
    import base64

    restored = Analysis.from_json(base64.b64decode(exported["content"]).decode("utf-8"))
    assert len(restored.moments) == len(analysis["moments"])


def test_errors_carry_the_status_as_connect_codes(start_daemon, tmp_path: Path) -> None:
    daemon = start_daemon()
    status, _, body = call(daemon.http_address, f"{SERVICE}/StartAnalysis", {"spec": {"mediaPath": str(tmp_path / "x.mp4")}})
    assert status == 404 and json.loads(body)["code"] == "not_found", body
    status, _, body = call(daemon.http_address, f"{SERVICE}/StartAnalysis", {"spec": {"engine": "vlm", "mediaPath": "/x"}})
    assert status == 400 and json.loads(body)["code"] == "failed_precondition", body
    status, _, body = call(daemon.http_address, f"{SERVICE}/StartAnalysis", {"spec": {"mediaPth": "/x"}})
    assert status == 400 and "mediaPth" in json.loads(body)["message"], body
    status, _, body = call(daemon.http_address, f"{SERVICE}/NoSuchMethod", {})
    assert status == 404 and json.loads(body)["code"] == "not_found"
    status, _, body = call(daemon.http_address, f"{SERVICE}/ListJobs", None, headers={"Content-Type": "text/plain"})
    assert status == 400 and "application/json" in json.loads(body)["message"]
    status, _, body = call(daemon.http_address, "/v1/jobs/j-none", method="GET")
    assert status == 404


def test_preflight_and_cors_for_allowed_origins_only(start_daemon) -> None:
    daemon = start_daemon(cors_origins=("null", "uxp://com.example.panel"))
    for origin in ("null", "uxp://com.example.panel"):
        status, headers, _ = call(daemon.http_address, f"{SERVICE}/ListJobs", method="OPTIONS", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        })  # fmt: skip
        assert status == 204 and headers["access-control-allow-origin"] == origin
        assert "POST" in headers["access-control-allow-methods"]
        assert {"content-type", "authorization"} <= {h.strip() for h in headers["access-control-allow-headers"].split(",")}
        status, headers, body = call(daemon.http_address, f"{SERVICE}/ListJobs", {}, headers={"Origin": origin})
        assert status == 200 and headers["access-control-allow-origin"] == origin, body

    status, headers, _ = call(daemon.http_address, f"{SERVICE}/ListJobs", method="OPTIONS",
                              headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert status == 403 and "access-control-allow-origin" not in headers
    status, headers, body = call(daemon.http_address, f"{SERVICE}/ListJobs", {}, headers={"Origin": "https://evil.example"})
    assert status == 403 and "access-control-allow-origin" not in headers and b"--cors-origin" in body


def test_a_foreign_host_header_is_refused(start_daemon) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example."""
    daemon = start_daemon()
    status, _, body = call(daemon.http_address, f"{SERVICE}/ListJobs", {}, headers={"Host": "evil.example:80"})
    assert status == 403 and json.loads(body)["code"] == "permission_denied"


def test_oversized_bodies_are_refused(start_daemon) -> None:
    daemon = start_daemon()
    status, _, body = call(daemon.http_address, f"{SERVICE}/Ground", {"analysisId": "a", "queries": ["x" * (2 << 20)]})
    assert status == 429 and json.loads(body)["code"] == "resource_exhausted"


def test_connect_timeout_bounds_a_ground_call(start_daemon, tiny_clip: Path) -> None:
    gated = GatedEngine()
    gated.release.set()
    daemon = start_daemon(engines=engine_factory(gated))
    spec = {"mediaPath": str(tiny_clip), "tasks": ["shots"]}
    _, _, body = call(daemon.http_address, f"{SERVICE}/StartAnalysis", {"spec": spec})
    _, _, body = call(daemon.http_address, f"{SERVICE}/WatchJob", {"jobId": json.loads(body)["id"]})
    analysis_id = json.loads(body.decode("utf-8").splitlines()[-1])["job"]["analysisId"]
    gated.held.clear()
    gated.release.clear()
    status, _, body = call(daemon.http_address, f"{SERVICE}/Ground", {"analysisId": analysis_id, "queries": ["speech"]},
                           headers={"connect-timeout-ms": "300"})  # fmt: skip
    assert status == 504 and json.loads(body)["code"] == "deadline_exceeded", body
    _, _, body = call(daemon.http_address, f"{SERVICE}/ListJobs", {})
    grounding = next(job for job in json.loads(body)["jobs"] if job["spec"]["tasks"] == ["ground"])
    _, _, body = call(daemon.http_address, f"{SERVICE}/WatchJob", {"jobId": grounding["id"]})
    last = json.loads(body.decode("utf-8").splitlines()[-1])
    assert last["error"]["code"] == "cancelled" and "deadline" in last["error"]["message"], last
    status, _, body = call(daemon.http_address, f"{SERVICE}/Ground", {"analysisId": analysis_id, "queries": ["x"]},
                           headers={"connect-timeout-ms": "soon"})  # fmt: skip
    assert status == 400 and "milliseconds" in json.loads(body)["message"]
