"""Serial vs Dask evaluation on the same tasks: wall time, speed-up, identical results.

Runs the within-session tasks of ``bci evaluate`` (every subject x pipeline, plus each
subject's permutation chance level) in this process and on Dask, in the order serial, Dask,
Dask, serial (``--rounds 2``: a machine whose speed drifts during the run weighs on both sides
alike), checks that every run gives the same numbers, and prints the ratio of the summed
times. The Dask time includes starting the local cluster; each worker loads the subjects it
is given (nothing but paths and parameters is shipped).

    python bench/evaluate_scale.py                       # S001-S010, 2 local workers
    python bench/evaluate_scale.py --workers 4 --subjects 1-5
    python bench/evaluate_scale.py --scheduler tcp://HOST:8786   # an existing cluster
    python bench/evaluate_scale.py --ceiling     # + the machine's ceiling for this very work

On a shared machine the ratio depends on what else runs: the load average before and after,
and the speed-up that the same number of processes of pure-Python work reach (the machine's
ceiling at that moment), are printed beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LSLAPICFG", str(ROOT / "configs" / "lsl" / "loopback.cfg"))
_shared = ROOT.parent / "shared" / "data"
if "BCI_DATA_PATH" not in os.environ and _shared.is_dir():
    os.environ["BCI_DATA_PATH"] = str(_shared)


def _burn(n: int) -> float:
    t = time.perf_counter()
    s = 0
    for i in range(n):
        s += i * i
    return time.perf_counter() - t


def _steal() -> float:
    """Seconds of CPU (all CPUs) the hypervisor gave to other guests so far (Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_parallelism(workers: int, n: int = 20_000_000) -> float:
    """Speed-up of ``workers`` processes of pure-Python work over one doing it all.

    The ceiling any parallel run can reach on this machine right now (other users' load
    included); about ``workers`` on an idle machine with that many free cores.
    """
    import multiprocessing as mp

    t0 = time.perf_counter()
    for _ in range(workers):
        _burn(n)
    serial = time.perf_counter() - t0
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        pool.map(_burn, [1000] * workers)  # start-up outside the timing
        t0 = time.perf_counter()
        pool.map(_burn, [n] * workers)
        parallel = time.perf_counter() - t0
    return serial / parallel


def _serial_copy(tasks: list[Any], out: Any) -> None:
    """One serial run of ``tasks`` in a fresh process: its wall time and comparable results."""
    from bci.evaluation.runner import comparable, run_tasks

    t0 = time.perf_counter()
    res, _ = run_tasks(tasks, progress=False)
    out.put((time.perf_counter() - t0, comparable(res)))


def workload_ceiling(tasks: list[Any], copies: int, t_one: float) -> tuple[float, float, bool]:
    """``copies`` processes each running the whole serial task list at once, no Dask.

    Returns their wall time, the speed-up it implies against one serial run of ``t_one`` s
    (``copies * t_one / wall``: the machine's throughput for exactly this work, memory and
    cache sharing included, with no scheduling or load balance to lose), and whether every
    copy gave the same results.
    """
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_serial_copy, args=(tasks, q)) for _ in range(copies)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    outs = [q.get() for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    same = all(o[1] == outs[0][1] for o in outs)
    return wall, copies * t_one / wall, same


def main(argv: list[str] | None = None) -> int:
    from bci.cli._evaluation import parse_subjects
    from bci.datasets.eegbci import data_path
    from bci.evaluation.runner import comparable, run_tasks
    from bci.evaluation.tasks import DataSpec, load_epochs, within_tasks

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", default="1-10")
    ap.add_argument("--pipelines", default="ts-lr,ts-svm,mdm,fgmdm,csp-lda")
    ap.add_argument("--permutations", type=int, default=5)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=2, help="local Dask workers (1 thread each)")
    ap.add_argument("--scheduler", default=None, help="an existing scheduler instead")
    ap.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="runs of each side, in the order serial, dask, dask, serial, ... (default 2)",
    )
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="then run the serial task list in --workers processes at once (no Dask): the "
        "speed-up this machine gives this very work, to read the Dask ratio against",
    )
    args = ap.parse_args(argv)

    folder = data_path()
    data = [
        DataSpec(s, "imagery-left-right", None if folder is None else str(folder))
        for s in parse_subjects(args.subjects)
    ]
    tasks = within_tasks(
        data,
        [p.strip() for p in args.pipelines.split(",")],
        band=(8.0, 32.0),
        n_folds=args.folds,
        seed=args.seed,
        n_permutations=args.permutations,
    )
    print(
        f"{len(tasks)} tasks: {len(data)} subjects x {args.pipelines} + chance "
        f"({args.permutations} permutations), {args.folds} folds, seed {args.seed}"
    )
    n_par = args.workers if not args.scheduler else 2
    where = args.scheduler or f"{args.workers} local workers"
    ceiling0 = machine_parallelism(n_par)
    load0 = os.getloadavg()
    steal0 = _steal()
    times: dict[str, list[float]] = {"serial": [], "dask": []}
    outputs: dict[str, list[Any]] = {"serial": [], "dask": []}
    failed = 0
    # serial, dask, dask, serial (--rounds 2): a machine that drifts faster or slower over the
    # run weighs on both sides alike
    order = ["serial", "dask", "dask", "serial"] * (args.rounds // 2) + (
        ["serial", "dask"] if args.rounds % 2 else []
    )
    for kind in order:
        load_epochs.cache_clear()  # every run reads its data itself
        t0 = time.perf_counter()
        if kind == "serial":
            res, fails = run_tasks(tasks, progress=False)
        else:
            res, fails = run_tasks(
                tasks,
                workers=0 if args.scheduler else args.workers,
                scheduler=args.scheduler,
                progress=False,
            )
        times[kind].append(time.perf_counter() - t0)
        outputs[kind].append(comparable(res))
        failed += len(fails)
        print(f"  {kind:6s} {times[kind][-1]:8.1f} s", flush=True)
    load1 = os.getloadavg()
    steal = _steal() - steal0
    ceiling1 = machine_parallelism(n_par)
    runs = outputs["serial"] + outputs["dask"]
    same = all(r == runs[0] for r in runs)
    t_serial, t_dask = sum(times["serial"]), sum(times["dask"])
    print(f"serial (in-process): {t_serial:8.1f} s over {len(times['serial'])} run(s)")
    n_dask = len(times["dask"])
    print(f"dask ({where}): {t_dask:8.1f} s over {n_dask} run(s), cluster start included")
    print(f"speed-up: {t_serial / t_dask:.2f}x   identical results: {same}   failures: {failed}")
    if args.ceiling:
        t_one = t_serial / len(times["serial"])
        s0 = _steal()
        wall, ceiling, same_copies = workload_ceiling(list(tasks), n_par, t_one)
        same = same and same_copies
        print(
            f"the same work, {n_par} serial copies at once (no Dask): {wall:.1f} s for "
            f"{n_par}x the work of one serial run ({t_one:.1f} s): this work's ceiling "
            f"{ceiling:.2f}x (steal {100 * (_steal() - s0) / wall:.0f}% of one CPU); Dask "
            f"reached {t_serial / t_dask / ceiling:.0%} of it"
        )
    print(
        f"machine ceiling: {n_par} processes of pure-Python work ran {ceiling0:.2f}x (before) "
        f"and {ceiling1:.2f}x (after) faster than one"
    )
    print(
        f"load average (1 min) before {load0[0]:.1f}, after {load1[0]:.1f} on {os.cpu_count()} CPUs"
    )
    wall = sum(times["serial"]) + sum(times["dask"])
    print(
        f"hypervisor steal during the runs: {100 * steal / wall:.0f}% of one CPU "
        "(CPU this VM wanted and other guests got)"
    )
    return 0 if same and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
