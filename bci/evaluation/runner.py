"""Run evaluation tasks in-process (default) or on a Dask cluster (local or existing).

The same :func:`bci.evaluation.tasks.run_task` runs either way, on the same task list; results
come back in task order, so a distributed run writes exactly what the serial run writes. A
task that raises is reported by name (subject and pipeline) with its error, and the other
tasks still finish.

To use a real cluster, start a scheduler and workers where ``bci`` and the data are installed
(``dask scheduler``; ``dask worker tcp://HOST:8786 --nthreads 1``; or dask-jobqueue /
dask-kubernetes, the user's choice) and pass ``--scheduler tcp://HOST:8786``.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bci.errors import DataError
from bci.evaluation.tasks import Task, load_epochs, run_task

__all__ = ["TaskFailure", "comparable", "local_cluster", "run_tasks", "split_task"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised: which one, and what it said."""

    task: str
    kind: str
    error: str

    def __str__(self) -> str:
        return f"{self.task} ({self.kind}) failed: {self.error}"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_tasks(
    tasks: Sequence[Task],
    *,
    workers: int = 0,
    scheduler: str | None = None,
    progress: bool = True,
    desc: str = "evaluate",
    connect_timeout: float = 10.0,
) -> tuple[list[dict[str, Any] | None], list[TaskFailure]]:
    """Run tasks and collect their results in task order.

    Parameters
    ----------
    tasks : sequence of Task
    workers : int
        0: in this process, one task after the other (the default). N > 0: start a local
        ``dask.distributed`` cluster of N single-threaded worker processes for this call.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://HOST:8786``); its workers must be able
        to import ``bci`` and read the data folders named in the tasks.
    progress : bool
        A tqdm bar (stderr) that advances as tasks (futures) complete.
    desc : str
        The bar's label.
    connect_timeout : float
        Seconds to wait for ``scheduler`` before giving up.

    Returns
    -------
    results : list of dict or None
        ``results[i]`` is task i's result, None where it failed.
    failures : list of TaskFailure
    """
    if workers < 0:
        raise DataError(f"--workers must be >= 0, got {workers}")
    if scheduler is not None and workers > 0:
        raise DataError("Give --workers N (a local cluster) or --scheduler ADDRESS, not both")
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=desc, disable=not progress)
    try:
        if scheduler is None and workers == 0:
            return _serial(tasks, bar)
        return _dask(tasks, workers, scheduler, bar, connect_timeout)
    finally:
        bar.close()


def _serial(tasks: Sequence[Task], bar: Any) -> tuple[list[dict[str, Any] | None], list[Any]]:
    results: list[dict[str, Any] | None] = []
    failures: list[TaskFailure] = []
    for task in tasks:
        bar.set_postfix_str(task.name)
        try:
            results.append(run_task(task))
        except Exception as exc:  # one bad subject must not lose the others
            logger.warning("%s failed: %s", task.name, exc)
            failures.append(TaskFailure(task.name, task.kind, _describe(exc)))
            results.append(None)
        bar.update()
    return results, failures


def _dask(
    tasks: Sequence[Task], workers: int, scheduler: str | None, bar: Any, timeout: float
) -> tuple[list[dict[str, Any] | None], list[Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise DataError(
            "--workers/--scheduler need dask.distributed: pip install 'dask[distributed]'"
        ) from exc
    cluster = None
    try:
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout=f"{timeout}s")
            except OSError as exc:
                raise DataError(
                    f"--scheduler: cannot reach a Dask scheduler at {scheduler!r}: {exc}"
                ) from None
        else:
            cluster = local_cluster(int(workers))
            client = Client(cluster)
        with client:
            # one load per (subject, band) on a worker; the scheduler then runs that
            # subject's tasks where its epochs already are (data locality), so a subject is
            # read once per cluster rather than once per task
            loads: dict[tuple[Any, ...], Any] = {}
            for t in tasks:
                if t.kind in ("within", "chance") and (t.data, t.band) not in loads:
                    loads[(t.data, t.band)] = client.submit(
                        load_epochs,
                        t.data,
                        t.band,
                        key=f"bci-load-{len(loads)}-{t.data.label}",
                        pure=False,
                    )
            # a chance task (n permutations x k folds: the longest by far) goes out as one part
            # per permutation, so two workers are not left waiting on one subject's chance level
            parts = [(i, p) for i, t in enumerate(tasks) for p in split_task(t)]
            futures = [
                client.submit(
                    run_task,
                    p,
                    loads.get((p.data, p.band)),
                    key=f"bci-{j}-{p.kind}-{p.data.label}-{p.pipeline}",
                    pure=False,
                )
                for j, (_, p) in enumerate(parts)
            ]
            part_of = {f.key: j for j, f in enumerate(futures)}
            pending = Counter(i for i, _ in parts)
            done: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
            results: list[dict[str, Any] | None] = [None] * len(tasks)
            failures: dict[int, TaskFailure] = {}
            for fut in as_completed(futures):
                j = part_of[fut.key]
                i = parts[j][0]
                if fut.status == "error":
                    err = fut.exception()
                    if i not in failures:
                        logger.warning("%s failed: %s", tasks[i].name, err)
                        failures[i] = TaskFailure(tasks[i].name, tasks[i].kind, _describe(err))
                else:
                    done[i].append((j, fut.result()))
                pending[i] -= 1
                if pending[i] == 0:
                    if i not in failures:
                        results[i] = _merge(done.pop(i))
                    bar.set_postfix_str(tasks[i].name)
                    bar.update()
            return results, [failures[i] for i in sorted(failures)]
    finally:
        if cluster is not None:
            cluster.close()


def local_cluster(workers: int) -> Any:
    """A local ``dask.distributed`` cluster of ``workers`` single-threaded processes.

    Loopback only, no dashboard, and the workers' statistical profiler off: it samples the
    computing task's stack 100 times a second for a dashboard this cluster does not serve, and
    each sample takes the GIL from that task (`python bench/evaluate_scale.py`
    before/after in the README).
    """
    import dask
    from distributed import LocalCluster

    # a Nanny hands the configuration it is created under to its worker process
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        )


def split_task(task: Task) -> list[Task]:
    """``task`` as parts that run independently: one per permutation for a chance task.

    :func:`_merge` of the parts' results, in part order, is the whole task's result.
    """
    if task.kind != "chance" or task.n_permutations <= 1 or task.permutations:
        return [task]
    return [replace(task, permutations=(k, k + 1)) for k in range(task.n_permutations)]


def _merge(parts: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """One task's result from its parts' (part index, result), in any order."""
    if len(parts) == 1:
        return parts[0][1]
    return {"null": [v for _, r in sorted(parts, key=lambda p: p[0]) for v in r["null"]]}


def comparable(results: list[Any]) -> list[Any]:
    """``results`` without the wall-clock fit times, the one field two runs may differ in.

    Serial and distributed runs of the same tasks with the same seed compare equal this way.
    """
    out = []
    for r in results:
        if r is not None and "score" in r:
            r = {**r, "score": {k: v for k, v in r["score"].items() if k != "fit_time_s"}}
        out.append(r)
    return out
