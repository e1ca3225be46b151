"""#17 item 4: `index --cluster` on a local 2-worker Ray cluster (ray.init with two CPUs, loopback only) gives the
same store content (moment ids) as a local run, and reports a file that fails."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reelmark.core.cli import cli
from reelmark.core.library.analyse import analyse_file
from reelmark.core.library import ray_runner
from reelmark.core.library.ray_runner import map_path, start_local_cluster
from reelmark.core.media.synthetic import ClipSpec, write_clip

ray = pytest.importorskip("ray", reason="Ray is the optional extra reelmark[cluster]; install it to test --cluster")


def index(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["index", *args], catch_exceptions=False)
    return result.exit_code, result.stderr


def moment_ids(store: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT fingerprint, moment_id, kind FROM library_moments ORDER BY 1, 2").fetchall()


@pytest.fixture
def local_cluster():
    """Per test, so no in-process cluster is alive beside the `ray start` one of the Ray Client test (two clusters on
    one machine share /tmp/ray, and the client server then failed to start its per-driver server). Started the
    way `index --cluster auto` starts one, second try included."""
    start_local_cluster(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", logging_level="WARNING",
                        log_to_driver=False)  # fmt: skip
    yield
    ray.shutdown()


def test_a_ray_run_stores_what_a_local_run_stores(local_cluster, tmp_path: Path) -> None:
    root = tmp_path / "cams"
    for seed in range(4):
        write_clip(root / f"cam{seed}.mp4", ClipSpec(frame_count=50, cuts=(10 + 7 * seed,), seed=30 + seed))
    data = (root / "cam0.mp4").read_bytes()
    (root / "cut-short.mp4").write_bytes(data[: len(data) // 3])
    code, said = index(str(root), "--task", "shots", "--store", str(tmp_path / "local.sqlite3"))
    assert code == 0, said
    code, said = index(str(root), "--task", "shots", "--store", str(tmp_path / "ray.sqlite3"), "--cluster", "auto")
    assert code == 0, said
    assert "indexed 4 files" in said and "cut-short.mp4" in said
    local, on_ray = moment_ids(tmp_path / "local.sqlite3"), moment_ids(tmp_path / "ray.sqlite3")
    assert on_ray == local and len({row[0] for row in local}) == 4


@pytest.mark.parametrize("address", ["ray://127.0.0.1:1", "127.0.0.1:1", "http://head:10001"])
def test_an_unknown_ray_address_gets_one_line_and_exit_1(tmp_path: Path, address: str) -> None:
    code, said = index(str(tmp_path), "--store", str(tmp_path / "s.sqlite3"), "--cluster", address)
    assert code == 1 and said.strip().count("\n") == 0
    assert ("cannot reach the Ray cluster" in said) or ("write auto" in said)


def test_a_local_node_that_never_comes_up_is_tried_twice_then_one_line(tmp_path: Path, monkeypatch) -> None:
    """No cluster on this machine, and the local node times out during startup (as Ray words it) twice: `index`
    says so in one line and exits 1, after a second try; any other error from Ray is not retried."""
    calls = []

    def init(address: str, **options: object) -> None:
        calls.append(address)
        if address == "auto":
            raise ConnectionError("Could not find any running Ray instance")
        raise Exception("The current node timed out during startup. This could happen because ...")

    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    monkeypatch.setattr(ray_runner, "RETRY_PAUSE_S", 0.0)
    (tmp_path / "cams").mkdir()
    write_clip(tmp_path / "cams" / "a.mp4", ClipSpec(frame_count=10))
    code, said = index(str(tmp_path / "cams"), "--store", str(tmp_path / "s.sqlite3"), "--cluster", "auto")
    errors = [line for line in said.splitlines() if line.startswith("reelmark: error:")]
    assert code == 1 and len(errors) == 1 and "could not start a local Ray cluster" in errors[0], said
    assert "Traceback" not in said
    assert calls == ["auto", "local", "local"]

    def other_failure(address: str, **options: object) -> None:
        calls.append(address)
        raise Exception("some other start-up failure")

    calls.clear()
    monkeypatch.setattr(ray, "init", other_failure)
    with pytest.raises(Exception, match="some other start-up failure"):
        start_local_cluster(num_cpus=1)
    assert calls == ["local"]


def test_paths_are_mapped_at_folder_boundaries() -> None:
    mapping = {"/Volumes/footage": "/mnt/footage", "/Volumes/footage/2024": "/srv/2024"}
    assert map_path("/Volumes/footage/a.mp4", mapping) == "/mnt/footage/a.mp4"
    assert map_path("/Volumes/footage/2024/b.mp4", mapping) == "/srv/2024/b.mp4"
    assert map_path("/Volumes/footage-old/c.mp4", mapping) == "/Volumes/footage-old/c.mp4"


def crash_on_purpose(path: str, config):  # noqa: ANN001, ANN201 - runs on a Ray worker
    """The analysis, except that a file named crash*.mp4 kills its worker process, as an out-of-memory kill would."""
    if Path(path).name.startswith("crash"):
        os._exit(1)
    return analyse_file(path, config)


def test_a_worker_that_dies_is_retried_then_reported_and_the_rest_goes_on(local_cluster, tmp_path: Path,
                                                                           monkeypatch) -> None:  # fmt: skip
    from ray import cloudpickle

    from reelmark.core.library import ray_runner as runner_module

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    monkeypatch.setattr(runner_module, "analyse_file", crash_on_purpose)
    root = tmp_path / "cams"
    write_clip(root / "fine.mp4", ClipSpec(frame_count=30, cuts=(12,), seed=41))
    write_clip(root / "crash.mp4", ClipSpec(frame_count=30, cuts=(14,), seed=42))
    code, said = index(str(root), "--task", "shots", "--store", str(tmp_path / "s.sqlite3"), "--cluster", "auto")
    assert code == 0, said
    assert "indexed 1 file " in said
    assert f"crash.mp4: the Ray worker analysing it died {runner_module.MAX_RETRIES + 1} times" in said


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_index_through_ray_client_on_a_ray_start_head_cluster(tmp_path: Path) -> None:
    """The documented set-up: `ray start --head` (2 CPUs, on 127.0.0.1), the driver through ray://; the head's
    whole process group is stopped at the end."""
    import shutil
    import signal
    import subprocess
    import time

    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent))
    if ray_cli is None:
        pytest.skip("the ray command is not installed next to this Python")
    root = tmp_path / "cams"
    for seed in range(2):
        write_clip(root / f"cam{seed}.mp4", ClipSpec(frame_count=40, cuts=(15 + seed,), seed=60 + seed))
    gcs, client = free_port(), free_port()
    head = subprocess.Popen(
        [ray_cli, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={gcs}",
         f"--ray-client-server-port={client}", "--min-worker-port=21000", "--max-worker-port=21100", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )  # fmt: skip
    try:
        import socket

        for _ in range(120):  # the client server answers within a minute
            try:
                socket.create_connection(("127.0.0.1", client), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        # A fresh process, as a user runs it: Ray reads its authentication mode when first imported.
        driver = subprocess.run([sys.executable, "-m", "reelmark.core.cli", "index", str(root), "--task", "shots",
                                 "--store", str(tmp_path / "s.sqlite3"), "--cluster", f"ray://127.0.0.1:{client}"],
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert driver.returncode == 0, driver.stderr[-2000:]
        assert "indexed 2 files" in driver.stderr
        code, said = index(str(root), "--task", "shots", "--store", str(tmp_path / "local.sqlite3"))
        assert moment_ids(tmp_path / "s.sqlite3") == moment_ids(tmp_path / "local.sqlite3")
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
