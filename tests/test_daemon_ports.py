"""`reelmark serve` with a port already taken: one line naming the port, its holder and the flag; exit 1; no
traceback, for the gRPC port and for the HTTP port alike (a real listening socket holds the port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REELMARK = Path(sys.executable).with_name("reelmark")


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("which", "flag"), [("grpc", "--address"), ("http", "--http-address")])
def test_serve_with_a_taken_port_says_which_and_exits_1(tmp_path: Path, taken_port: int, which: str, flag: str) -> None:
    grpc_port, http_port = (taken_port, _free_port()) if which == "grpc" else (_free_port(), taken_port)
    result = subprocess.run(
        [str(REELMARK), "serve", "--address", f"127.0.0.1:{grpc_port}", "--http-address", f"127.0.0.1:{http_port}",
         "--store", str(tmp_path / "store.sqlite3")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"port {taken_port} is in use" in lines[0] and f"by pid {os.getpid()}" in lines[0], lines[0]
    assert f"{flag} 127.0.0.1:PORT" in lines[0], lines[0]
    assert ("HTTP" in lines[0]) == (which == "http"), lines[0]
