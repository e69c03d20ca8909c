"""Online capacity: N real LSL sessions and M real WebSocket clients on one `bci serve`.

Per point (N sessions, M clients) everything is fresh: a `bci serve` subprocess (loopback LSL,
its own data folder, recording off unless ``--record``), one ts-lr model fitted on synthetic
data and uploaded with ``POST /models``, N pylsl outlets (8 ch, 250 Hz, chunks of 10 samples,
pushed at real-time rate with staggered phases) owned by ``--publishers`` processes, N sessions
bound over ``POST /sessions``, and M WebSocket clients (``--client-lib``: picows, or the
websockets library) spread round-robin over the sessions in ``--client-procs`` asyncio
processes. Measured over the steady part of the run:

- decisions/s: windows the service decoded (its own counts) per second of decoding;
- latency: LSL clock when a client has a prediction - LSL clock when the chunk holding the
  window's last sample was pushed (publisher and client share ``pylsl.local_clock``);
- samples lost: pushed by the publishers - received by the service (``counts.samples``), after
  the publishers stop and the service drains;
- WebSocket messages dropped (gaps in each client's prediction ``index``);
- CPU% of the service, of the publishers and clients, and of the whole machine, and the
  hypervisor's steal time (a VM's CPU taken by other guests: the same work runs slower).

It prints the table, then the largest N and M holding p99 <= 50 ms with 0 samples lost.
``--services K`` runs K independent services and spreads the sessions (and their clients)
over them round-robin: svc% is then their sum and thr% the busiest engine thread of any. It
bounds what sharding sessions over K processes behind one API could reach (no hand-over
between processes is paid), and it is a deployment that works today (one port per service).

    .venv/bin/python bench/capacity.py [--json OUT]       # full grid, ~30 s per point
    .venv/bin/python bench/capacity.py --quick            # same grid, a few seconds a point
    .venv/bin/python bench/capacity.py --n 10 200 --m 100 1000 --measure 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _service import Service, model_bytes, stats, synthetic_eeg

P99_LIMIT_MS = 50.0
CHUNK = 10
SFREQ = 250.0


# ------------------------------------------------------------------ publisher processes
def publisher(
    names: list[str],
    part: tuple[int, int],
    push_s: float,
    groups: int,
    out: str,
    sync: tuple[Any, Any, Any],
) -> None:
    """Own ``len(names)`` outlets; after ``go``, push every outlet's chunks when due."""
    ready, go, start = sync
    i_part, n_parts = part
    from bci.headsets import get_headset
    from bci.streams.lsl import get_pylsl, local_clock, make_eeg_info

    h = get_headset("openbci-cyton")
    pylsl = get_pylsl()
    outlets = [pylsl.StreamOutlet(make_eeg_info(n, h.ch_names, SFREQ, n)) for n in names]
    data = synthetic_eeg(8.0, 100 + i_part)
    n_chunks = int(push_s * SFREQ) // CHUNK
    k = len(outlets)
    push_clock = np.full((k, n_chunks), np.nan)
    ready.release()
    go.wait()
    period = CHUNK / SFREQ
    # Independent headsets: the outlets' chunk boundaries are spread over one chunk period in
    # `groups` phases (publisher `part` of `n_parts` takes its own slice of each phase).
    n_groups = min(k, groups)
    group = np.arange(k) % n_groups
    phase = (group + i_part / n_parts) * period / n_groups
    t0 = start.value + phase
    members = [np.flatnonzero(group == g) for g in range(n_groups)]
    offset = (np.arange(k) * 997) % (data.shape[0] - CHUNK)
    for c in range(n_chunks):
        for g in range(n_groups):
            due = start.value + phase[members[g][0]] + (c * CHUNK + CHUNK - 1) / SFREQ
            wait = due - local_clock()
            if wait > 0:
                time.sleep(wait)
            for i in members[g]:
                a = (offset[i] + c * CHUNK) % (data.shape[0] - CHUNK)
                outlets[i].push_chunk(data[a : a + CHUNK], due)
                push_clock[i, c] = local_clock()
    np.savez(out, t0=t0, push_clock=push_clock, pushed=np.full(k, n_chunks * CHUNK))
    time.sleep(1.0)  # let the last chunks leave before the outlets are destroyed


# ------------------------------------------------------------------ client processes
async def _client_loop(
    urls: list[tuple[int, str]], out: str, ready: Any, stop: Any, lib: str = "websockets"
) -> None:
    """M WebSocket clients in one asyncio process, each recording every prediction it gets.

    ``lib``: the client library: ``websockets`` (framing in Python, ~65 µs of client CPU per
    message here) or ``picows`` (framing compiled, a callback per frame), so that at M=1000
    the clients sharing the machine leave the service its core.
    """
    from bci.streams.lsl import local_clock

    # client, stream index, index, t, recv, the service's own latency (sample time -> decision)
    recs: list[tuple[int, int, int, float, float, float]] = []
    sem = asyncio.Semaphore(50)
    connected = 0

    def record(cid: int, sid: int, text: str) -> None:
        recv = local_clock()
        msg = json.loads(text)
        if msg["type"] == "prediction":
            recs.append((cid, sid, msg["index"], msg["t"], recv, msg["latency_ms"]))

    if lib == "picows":
        import picows

        class Listener(picows.WSListener):  # type: ignore[misc]
            def __init__(self, cid: int, sid: int) -> None:
                super().__init__()
                self.cid, self.sid = cid, sid
                self.closed = asyncio.get_running_loop().create_future()

            def on_ws_frame(self, transport: Any, frame: Any) -> None:
                if frame.msg_type == picows.WSMsgType.TEXT:
                    record(self.cid, self.sid, frame.get_payload_as_utf8_text())
                elif frame.msg_type == picows.WSMsgType.CLOSE:
                    transport.disconnect()

            def on_ws_disconnected(self, transport: Any) -> None:
                if not self.closed.done():
                    self.closed.set_result(None)

        async def one(cid: int, sid: int, url: str) -> None:
            nonlocal connected
            async with sem:
                transport, listener = await picows.ws_connect(
                    lambda: Listener(cid, sid), url, websocket_handshake_timeout=60
                )
            connected += 1
            try:
                await listener.closed
            finally:
                transport.disconnect()
    else:
        import websockets

        async def one(cid: int, sid: int, url: str) -> None:
            nonlocal connected
            async with sem:
                ws = await websockets.connect(
                    url, compression=None, proxy=None, max_queue=None, open_timeout=60
                )
            connected += 1
            try:
                async for text in ws:
                    record(cid, sid, text)
            finally:
                await ws.close()

    tasks = [asyncio.create_task(one(c, s, u)) for c, (s, u) in enumerate(urls)]
    while connected < len(urls):
        if any(t.done() and t.exception() for t in tasks):
            break
        await asyncio.sleep(0.05)
    ready.release()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    arr = np.array(recs, dtype=float).reshape(-1, 6)
    errors = [repr(t.exception()) for t in tasks if not t.cancelled() and t.exception()]
    np.savez(out, recs=arr, n_errors=len(errors), errors=np.array(errors[:5], dtype=str))


def client(
    urls: list[tuple[int, str]], out: str, ready: Any, stop: Any, lib: str = "websockets"
) -> None:
    try:
        import uvloop

        uvloop.run(_client_loop(urls, out, ready, stop, lib))
    except ImportError:
        asyncio.run(_client_loop(urls, out, ready, stop, lib))


# ------------------------------------------------------------------ one point
class CPU:
    """CPU seconds of some processes and of the whole machine between two marks."""

    def __init__(self, procs: dict[str, list[int]]) -> None:
        self.procs = {k: [psutil.Process(p) for p in v] for k, v in procs.items()}

    def mark(self) -> dict[str, float]:
        out = {
            k: sum(sum(p.cpu_times()[:2]) for p in ps if p.is_running())
            for k, ps in self.procs.items()
        }
        for proc in self.procs["service"]:  # one engine thread each: is one saturated?
            for t in proc.threads():
                out[f"thread {proc.pid}/{t.id}"] = t.user_time + t.system_time
        t = psutil.cpu_times()
        out["machine"] = t.user + t.system + t.nice + t.irq + t.softirq
        # CPU time the hypervisor gave to other guests while this one wanted to run: on a
        # shared VM the same code gets slower as it rises (seen here: 0% to 30%+ in an hour)
        out["steal"] = getattr(t, "steal", 0.0)
        out["wall"] = time.monotonic()
        return out

    @staticmethod
    def percent(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
        wall = b["wall"] - a["wall"]
        pct = {k: round(100 * (b[k] - a[k]) / wall, 1) for k in a if k != "wall" and k in b}
        threads = [v for k, v in pct.items() if k.startswith("thread ")]
        out = {k: v for k, v in pct.items() if not k.startswith("thread ")}
        out["service_busiest_thread"] = max(threads, default=0.0)
        return out


def _profile(pid: int, args: argparse.Namespace, name: str) -> subprocess.Popen[bytes] | None:
    """py-spy (if ``--profile DIR``) samples the service over the measured seconds."""
    if not args.profile:
        return None
    out = Path(args.profile)
    out.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    cmd = [spy, "record", "-p", str(pid), "-r", "250"]
    cmd += ["-f", "raw", "-o", str(out / f"{name}.txt"), "--nonblocking"]
    if args.profile_gil:  # only the thread holding the GIL: where the process's Python time goes
        cmd.append("--gil")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_point(
    n: int,
    m: int,
    args: argparse.Namespace,
    model: bytes,
    code: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One (N sessions, M clients) measurement on a fresh service (run from ``code``)."""
    from bci.streams.lsl import local_clock

    ctx = mp.get_context("spawn")
    tag = os.urandom(3).hex()
    names = [f"cap-{tag}-{i}" for i in range(n)]
    warm = 2.0 + 1.0  # the first window fills, then a second of settling
    push_s = warm + args.measure + 0.5
    tmp = Path(tempfile.mkdtemp(prefix="bci-capacity-"))
    env = {"BCI_RECORD": "true" if args.record else "false", **(extra_env or {})}
    n_svc = max(1, min(args.services, n))
    with contextlib.ExitStack() as stack:
        # --services K: K independent services, session i on service i % K (no shared state:
        # what sessions sharded over K processes could do at best, with no IPC between them)
        svcs = [stack.enter_context(Service(env, code=code)) for _ in range(n_svc)]
        model_ids = [s.upload_model(model) for s in svcs]
        n_pub = max(1, min(args.publishers, n))
        sync = ready, go, start = ctx.Semaphore(0), ctx.Event(), ctx.Value("d", 0.0)
        parts = [names[i::n_pub] for i in range(n_pub)]
        pubs = [
            ctx.Process(
                target=publisher,
                args=(p, (i, n_pub), push_s, args.groups, str(tmp / f"pub{i}.npz"), sync),
                daemon=True,
            )
            for i, p in enumerate(parts)
        ]
        for p in pubs:
            p.start()
        for _ in pubs:
            if not ready.acquire(timeout=120):
                raise SystemExit("a publisher process did not start")
        t_sess = time.monotonic()
        with ThreadPoolExecutor(16) as ex:
            created = list(
                ex.map(
                    lambda i: svcs[i % n_svc].create_session(names[i], model_ids[i % n_svc]),
                    range(n),
                )
            )
        create_s = time.monotonic() - t_sess
        sids = [int(c["id"]) for c in created]  # stream i's session on service i % n_svc
        n_cp = max(1, min(args.client_procs, m))
        # each client records its stream's index (session ids repeat across services)
        urls = [(j % n, svcs[j % n % n_svc].ws_url(str(sids[j % n]))) for j in range(m)]
        cready, cstop = ctx.Semaphore(0), ctx.Event()
        clients = [
            ctx.Process(
                target=client,
                args=(urls[i::n_cp], str(tmp / f"cli{i}.npz"), cready, cstop, args.client_lib),
                daemon=True,
            )
            for i in range(n_cp)
        ]
        for c in clients:
            c.start()
        for _ in clients:
            if not cready.acquire(timeout=180):
                raise SystemExit("WebSocket clients did not connect")
        cpu = CPU(
            {
                "service": [s.pid for s in svcs],
                "publishers": [p.pid for p in pubs if p.pid],
                "clients": [c.pid for c in clients if c.pid],
            }
        )
        start.value = local_clock() + 0.3
        go.set()
        meas0 = start.value + warm
        meas1 = meas0 + args.measure
        time.sleep(max(0.0, meas0 - local_clock()))
        c0 = cpu.mark()
        spy = _profile(svcs[0].pid, args, f"N{n}-M{m}")
        time.sleep(max(0.0, meas1 - local_clock()))
        c1 = cpu.mark()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        for p in pubs:
            p.join(push_s + 30)
        time.sleep(1.0)  # the service drains what is in flight
        status = [{int(x["id"]): x for x in s.sessions()} for s in svcs]
        cstop.set()
        for c in clients:
            c.join(60)
    # every stream's status, from the service that holds its session
    stat = [status[i % n_svc][sid] for i, sid in enumerate(sids)]
    res = _analyse(n, m, stat, tmp, meas0, meas1, push_s, create_s, c0, c1)
    res["services"] = n_svc
    res["code"] = str(code) if code else "."
    res["env"] = extra_env or {}
    return res


def _analyse(
    n: int,
    m: int,
    status: list[dict[str, Any]],
    tmp: Path,
    meas0: float,
    meas1: float,
    push_s: float,
    create_s: float,
    c0: dict[str, float],
    c1: dict[str, float],
) -> dict[str, Any]:
    n_pub = len(list(tmp.glob("pub*.npz")))
    t0 = np.empty(n)
    pushed = np.zeros(n, dtype=int)
    push_clock: list[np.ndarray] = [np.empty(0)] * n
    lateness = []
    for i in range(n_pub):
        z = np.load(tmp / f"pub{i}.npz")
        idx = list(range(i, n, n_pub))
        t0[idx] = z["t0"]
        pushed[idx] = z["pushed"]
        for j, row in zip(idx, z["push_clock"], strict=True):
            push_clock[j] = row
            due = z["t0"][idx.index(j)] + (np.arange(row.size) * CHUNK + CHUNK - 1) / SFREQ
            lateness.append((row - due) * 1e3)
    received = np.array([s["counts"]["samples"] for s in status])
    windows = sum(s["counts"]["windows"] for s in status)
    errors = sorted({s["error"] for s in status if s["error"]})
    lat, decide, missing, n_msgs, client_errors = [], [], 0, 0, 0
    for f in sorted(tmp.glob("cli*.npz")):
        z = np.load(f)
        client_errors += int(z["n_errors"])
        recs = z["recs"]
        for cid in np.unique(recs[:, 0]):
            r = recs[recs[:, 0] == cid]
            r = r[(r[:, 3] >= meas0) & (r[:, 3] < meas1)]
            if r.size == 0:
                continue
            missing += int(r[:, 2].max() - r[:, 2].min() + 1 - len(r))
            n_msgs += len(r)
            i = int(r[0, 1])  # the stream's index
            sample = np.rint((r[:, 3] - t0[i]) * SFREQ).astype(int)
            pushed_at = push_clock[i][sample // CHUNK]
            lat.append((r[:, 4] - pushed_at) * 1e3)
            decide.append(r[:, 5])
    latency = stats(np.concatenate(lat) if lat else [])
    lost = int(np.maximum(pushed - received, 0).sum())
    res = {
        "n_sessions": n,
        "n_clients": m,
        "decisions_per_s": round(windows / (push_s - 2.0), 1),
        "messages_per_s": round(n_msgs / (meas1 - meas0), 1),
        "latency_ms": latency,
        "service_decision_latency_ms": stats(np.concatenate(decide) if decide else []),
        "samples_pushed": int(pushed.sum()),
        "samples_lost": lost,
        "extra_samples": int(np.maximum(received - pushed, 0).sum()),
        "ws_messages_dropped": missing,
        "client_errors": client_errors,
        "session_errors": errors,
        "cpu_percent": CPU.percent(c0, c1),
        "publisher_lateness_ms": stats(np.concatenate(lateness)),
        "session_create_s": round(create_s, 2),
        "load_average_1min": os.getloadavg()[0],
    }
    res["holds"] = bool(
        latency["n"] > 0 and latency["p99"] <= P99_LIMIT_MS and lost == 0 and not errors
    )
    return res


def _row(r: dict[str, Any]) -> str:
    lat, cpu = r["latency_ms"], r["cpu_percent"]
    return (
        f"{r['n_sessions']:>5} {r['n_clients']:>6} {r['decisions_per_s']:>9.0f} "
        f"{r['messages_per_s']:>8.0f} {lat['p50']:>7.1f} {lat['p99']:>7.1f} "
        f"{r['service_decision_latency_ms']['p99']:>6.1f} {r['samples_lost']:>6} "
        f"{r['ws_messages_dropped']:>7} {cpu['service']:>6.0f} "
        f"{cpu['service_busiest_thread']:>5.0f} "
        f"{cpu['publishers']:>5.0f} {cpu['clients']:>5.0f} {cpu['machine']:>6.0f} "
        f"{r['publisher_lateness_ms']['p99']:>6.1f} {r['load_average_1min']:>5.1f} "
        f"{cpu.get('steal', 0.0):>5.0f}  "
        f"{'yes' if r['holds'] else 'NO'}"
    )


HEADER = (
    f"{'N':>5} {'M':>6} {'dec/s':>9} {'msg/s':>8} {'p50ms':>7} {'p99ms':>7} {'dec99':>6} "
    f"{'lost':>6} "
    f"{'wsdrop':>7} {'svc%':>6} {'thr%':>5} {'pub%':>5} {'cli%':>5} {'all%':>6} "
    f"{'late99':>6} {'load':>5} {'steal':>5}  holds"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10, 50, 100, 200])
    ap.add_argument("--m", type=int, nargs="+", default=[100, 500, 1000])
    ap.add_argument("--max-n", type=int, default=1000, help="grow N by 100 while it holds")
    ap.add_argument("--measure", type=float, default=None, help="seconds measured per point")
    ap.add_argument("--quick", action="store_true", help="2 s per point, no growth of N")
    ap.add_argument("--publishers", type=int, default=2, help="publisher processes")
    ap.add_argument(
        "--services",
        type=int,
        default=1,
        help="independent `bci serve` processes, sessions spread round-robin: the upper "
        "bound of sharding sessions over that many processes (default 1)",
    )
    ap.add_argument("--groups", type=int, default=8, help="push phases per chunk period")
    ap.add_argument("--client-procs", type=int, default=2, help="WebSocket client processes")
    ap.add_argument(
        "--client-lib",
        choices=["websockets", "picows"],
        default="picows",
        help="the clients' WebSocket library: picows (compiled framing; at M=1000 ~45%% of a "
        "core) or websockets (~110%%, which starves the service on 2 cores)",
    )
    ap.add_argument("--record", action="store_true", help="sessions record XDF (BCI_RECORD)")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--profile", default=None, help="py-spy the service into this folder")
    ap.add_argument(
        "--profile-gil", action="store_true", help="with --profile: sample only the GIL holder"
    )
    ap.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="another checkout (e.g. the main branch): each point runs on it, then on this "
        "tree, so before/after come from one run",
    )
    ap.add_argument(
        "--compare-env",
        default=None,
        metavar="KEY=VALUE",
        help="each point runs first with this service setting (e.g. BCI_ENGINE_BATCH=false)",
    )
    args = ap.parse_args(argv)
    if args.measure is None:
        args.measure = 2.0 if args.quick else 10.0
    model, _, _ = model_bytes()
    ns = sorted(args.n)
    if not args.quick:
        while ns[-1] + 100 <= args.max_n:
            ns.append(ns[-1] + 100)  # tried only while the previous N held
    where = f"{args.services} independent services" if args.services > 1 else "one service"
    print(f"{psutil.cpu_count()} CPUs; {where}; {args.measure:g} s measured per point\n{HEADER}")
    results: list[dict[str, Any]] = []
    compared: list[dict[str, Any]] = []
    for k, n in enumerate(ns):
        if k >= len(args.n) and not any(
            r["holds"] for r in results if r["n_sessions"] == ns[k - 1]
        ):
            break
        for m in sorted(args.m):
            if args.compare is not None or args.compare_env:
                code = args.compare.resolve() if args.compare else None
                key, _, value = (args.compare_env or "").partition("=")
                before = run_point(n, m, args, model, code, {key: value} if key else None)
                compared.append(before)
                print(f"{_row(before)}  ({args.compare or args.compare_env})", flush=True)
            r = run_point(n, m, args, model)
            results.append(r)
            label = "  (this tree)" if args.compare or args.compare_env else ""
            print(_row(r) + label, flush=True)
            if not r["holds"]:
                break  # more clients on the same sessions will not hold either
    ok = [r for r in results if r["holds"]]
    best_n = max((r["n_sessions"] for r in ok), default=0)
    best_m = max((r["n_clients"] for r in ok), default=0)
    print(
        f"\nlargest N holding p99 <= {P99_LIMIT_MS:g} ms with 0 samples lost: {best_n} sessions"
        f"\nlargest M holding p99 <= {P99_LIMIT_MS:g} ms with 0 samples lost: {best_m} clients"
    )
    for r in results:
        if r["session_errors"] or r["client_errors"]:
            print(
                f"  N={r['n_sessions']} M={r['n_clients']}: {r['session_errors']} "
                f"{r['client_errors']} client errors"
            )
    if args.json:
        summary = {"largest_n": best_n, "largest_m": best_m, "points": results}
        if compared:
            summary["compared_with"] = {
                "code": str(args.compare),
                "env": args.compare_env,
                "points": compared,
            }
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
