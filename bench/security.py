"""The attacks of issue 10 against a real `bci demo` (subprocess, loopback): what each costs now.

Prints one line per attack with the figure the issue measured on the unprotected service:

- /health worst latency while 45 POST /sessions wait for a stream that does not exist
- a 100 MB request body: status, time to the answer, server peak RSS growth
- zip bombs (64 MiB of zeros each, 8 in parallel): statuses and peak RSS growth
- 10,000 WebSocket events from one client: predictions another client lost
- PUT mu-suppression with 2,097,152 channels: status and time

Run: ``python bench/security.py`` (about a minute; LSL stays on loopback).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

import httpx2 as httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LSLAPICFG", str(ROOT / "configs" / "lsl" / "loopback.cfg"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _bomb(mib: int) -> bytes:
    """A model-shaped zip whose pipeline member is ``mib`` MiB of zeros (written in pieces)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("card.json", '{"format": "bci-model", "format_version": 1}')
        with zf.open("pipeline.skops", "w") as member:
            for _ in range(mib):
                member.write(bytes(1 << 20))
    return buf.getvalue()


def main() -> int:
    port = _free_port()
    token = f"bench-{uuid.uuid4().hex}"
    auth = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bci.cli",
            "demo",
            "--port",
            str(port),
            "--name",
            f"sec-{token[-8:]}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "BCI_TOKEN": token, "BCI_DATA_DIR": f"/tmp/bci-bench-{token[-8:]}"},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                s = httpx.get(f"{base}/sessions", timeout=1).json()
                if s and s[0]["model"]:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or demo.poll() is not None:
                raise SystemExit("bci demo did not start")
            time.sleep(0.2)
        rows = []

        # 1. 45 resolutions of a missing stream vs /health
        codes: list[int] = []

        def resolve() -> None:
            r = httpx.post(
                f"{base}/sessions", json={"name": "missing", "timeout": 2}, headers=auth, timeout=60
            )
            codes.append(r.status_code)

        threads = [threading.Thread(target=resolve) for _ in range(45)]
        for t in threads:
            t.start()
        waits: list[float] = []
        while any(t.is_alive() for t in threads):
            t0 = time.monotonic()
            httpx.get(f"{base}/health", timeout=30)
            waits.append(time.monotonic() - t0)
            time.sleep(0.05)
        worst = max(waits)
        median = sorted(waits)[len(waits) // 2]
        answers = {c: codes.count(c) for c in sorted(set(codes))}
        rows.append(
            (
                "45 POST /sessions (missing stream)",
                f"/health median {median * 1e3:.0f} ms, worst {worst * 1e3:.0f} ms; "
                f"answers {answers}",
                "/health blocked 10.25 s",
            )
        )

        # 2. a 100 MB body
        rss0 = _peak_rss_mb(demo.pid)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            head = (
                f"POST /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n"
            )
            t0 = time.monotonic()
            sock.sendall(head.encode())
            reply = sock.recv(200).decode(errors="replace").split("\r\n")[0]
            dt = time.monotonic() - t0
        rows.append(
            (
                "100 MB body",
                f"{reply} in {dt * 1e3:.0f} ms; peak RSS +{_peak_rss_mb(demo.pid) - rss0:.0f} MB",
                "RSS 720 MB",
            )
        )

        # 3. zip bombs, 8 in parallel
        bomb = _bomb(64)
        rss0 = _peak_rss_mb(demo.pid)
        statuses: list[int] = []

        def upload() -> None:
            r = httpx.post(
                f"{base}/models",
                content=bomb,
                headers={**auth, "content-type": "application/octet-stream"},
                timeout=60,
            )
            statuses.append(r.status_code)

        threads = [threading.Thread(target=upload) for _ in range(8)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.monotonic() - t0
        grow = _peak_rss_mb(demo.pid) - rss0
        summary = {c: statuses.count(c) for c in sorted(set(statuses))}
        rows.append(
            (
                f"8 zip bombs ({len(bomb) // 1024} KB -> 64 MiB)",
                f"{summary} in {dt:.2f} s; peak RSS +{grow:.0f} MB",
                "~458 MB each, 2.6 GB for 8",
            )
        )

        # 4. 10,000 events from one client; does another client lose predictions?
        async def flood() -> tuple[int, int]:
            url = f"ws://127.0.0.1:{port}/ws/sessions/1?token={token}"
            async with websockets.connect(url) as spam, websockets.connect(url) as watch:
                await spam.recv()
                await watch.recv()
                got: list[int] = []

                async def watcher() -> None:
                    while len(got) < 48:
                        m = json.loads(await watch.recv())
                        if m["type"] == "prediction":
                            got.append(m["index"])

                task = asyncio.create_task(watcher())
                frame = json.dumps({"type": "event", "value": "spam"})
                for _ in range(10_000):
                    await spam.send(frame)
                await asyncio.wait_for(task, 30)
                lost = (got[-1] - got[0] + 1) - len(got)
                return lost, got[-1] - got[0] + 1

        lost, span = asyncio.run(flood())
        events = httpx.get(f"{base}/sessions/1/events", timeout=10).json()
        n_spam = sum(e["value"] == "spam" for e in events)
        rows.append(
            (
                "10,000 WS events from one client",
                f"other client lost {lost} of {span} predictions; {n_spam} events stamped",
                "22 predictions lost",
            )
        )

        # 5. 2,097,152 channels
        body = json.dumps({"channels": ["C3"] * 2_097_152})
        t0 = time.monotonic()
        r = httpx.put(
            f"{base}/sessions/1/mu-suppression",
            content=body,
            headers={**auth, "content-type": "application/json"},
            timeout=120,
        )
        rows.append(
            (
                "mu-suppression, 2,097,152 channels",
                f"{r.status_code} {r.json()['error']} in {(time.monotonic() - t0) * 1e3:.0f} ms",
                "200, then 500 after 61.7 s",
            )
        )

        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
        width = max(len(a) for a, _, _ in rows)
        print(f"{'attack':<{width}}  {'now':<70}  issue 10 (before)")
        for a, now, before in rows:
            print(f"{a:<{width}}  {now:<70}  {before}")
    finally:
        demo.terminate()
        demo.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
