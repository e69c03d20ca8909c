"""A real ``dask scheduler`` + ``dask worker`` pair on 127.0.0.1 gives the serial results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bci.evaluation.runner import comparable, run_tasks
from bci.evaluation.tasks import DataSpec, Task, within_tasks

pytestmark = [pytest.mark.network, pytest.mark.realdata, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """Start ``dask scheduler`` and one single-threaded ``dask worker``; yield the address."""
    if not DASK.exists():
        pytest.skip(f"no dask command beside {sys.executable}: pip install 'dask[distributed]'")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    sched_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [
                str(DASK),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(sched_file),
                *common,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), "dask scheduler did not start within 60 s"
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(
            subprocess.Popen(
                [
                    str(DASK),
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    *common,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        # the worker first, while its scheduler still answers: a worker stopped together with
        # its scheduler retries the lost connection for seconds before it exits
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_dask_cluster_gives_the_serial_results(scheduler: str, eegbci_path: Path) -> None:
    data = [DataSpec(s, "imagery-left-right", str(eegbci_path)) for s in (1, 2)]
    tasks = within_tasks(data, ["ts-lr"], band=(8.0, 32.0), n_folds=3, seed=7, n_permutations=2)
    # a bad subject fails on the worker, is named, and does not stop the others
    tasks.append(Task("within", DataSpec(200, "imagery-left-right", None), "mdm"))
    serial, serial_fail = run_tasks(tasks, progress=False)
    remote, remote_fail = run_tasks(tasks, scheduler=scheduler, progress=False)
    assert comparable(remote) == comparable(serial)
    assert [r is not None for r in remote] == [True, True, True, True, False]
    assert [f.task for f in remote_fail] == [f.task for f in serial_fail] == ["S200 mdm"]
    assert "eegbci subject must be in 1..109, got 200" in remote_fail[0].error
    # the workers loaded the data: the scores are real, and the chance tasks ran there too
    assert remote[0]["score"]["subject"] == "S001" and remote[0]["score"]["mean"] > 0.8
    assert len(remote[1]["null"]) == 2


def test_unreachable_scheduler_is_a_clear_error() -> None:
    from bci.errors import DataError

    task = Task("within", DataSpec(1, "imagery-left-right", None), "ts-lr")
    with pytest.raises(
        DataError, match=r"--scheduler: cannot reach a Dask scheduler at 'tcp://127\.0\.0\.1:9'"
    ):
        run_tasks([task], scheduler="tcp://127.0.0.1:9", progress=False, connect_timeout=1)


def test_local_cluster_workers_run_without_the_profiler() -> None:
    """`--workers N`: N single-threaded worker processes on loopback, their profiler off (it
    takes the GIL 100 times a second from the task beside it)."""
    import dask
    from distributed import Client

    from bci.evaluation.runner import local_cluster

    assert dask.config.get("distributed.worker.profile.enabled")  # the library's default
    with local_cluster(2) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        seen = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
        threads = client.run(lambda dask_worker: dask_worker.state.nthreads)
        assert list(seen.values()) == [False, False]
        assert list(threads.values()) == [1, 1]
        assert all(address.startswith("tcp://127.0.0.1:") for address in seen)
        # the setting did not leak into this process
        assert dask.config.get("distributed.worker.profile.enabled")
