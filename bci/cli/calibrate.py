"""`bci calibrate`: run a calibration on a running service from the terminal."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from bci.errors import BCIError

__all__ = ["register", "run"]


def _request(
    method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail")
        except (ValueError, AttributeError):
            detail = exc.reason
        raise BCIError(f"{method} {url} -> {exc.code}: {detail}") from None
    except urllib.error.URLError as exc:
        raise BCIError(
            f"Cannot reach the bci service at {url}: {exc.reason}. Start it with `bci serve` "
            "or `bci demo`, or pass --url"
        ) from None


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "calibrate", help="run a cued calibration on a session of a running service"
    )
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the service")
    p.add_argument("--session", required=True, help="session id (see GET /sessions)")
    p.add_argument(
        "--token",
        default=None,
        help="API token (default: BCI_TOKEN, else the token file in BCI_DATA_DIR)",
    )
    p.add_argument("--paradigm", default="imagery-left-right")
    p.add_argument("--trials-per-class", type=int, default=None)
    p.add_argument("--pipeline", default=None, help="default: the session's pipeline")
    p.add_argument("--cues", choices=["service", "app"], default="service")
    for name in ("fixation-s", "trial-s", "rest-s", "jitter-s"):
        p.add_argument(f"--{name}", type=float, default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from bci.config import client_token, load_settings

    token = args.token or client_token(load_settings())
    base = f"{args.url.rstrip('/')}/sessions/{args.session}/calibration"
    body = {
        "paradigm": args.paradigm,
        "trials_per_class": args.trials_per_class,
        "pipeline": args.pipeline,
        "cues": args.cues,
        "fixation_s": args.fixation_s,
        "trial_s": args.trial_s,
        "rest_s": args.rest_s,
        "jitter_s": args.jitter_s,
    }
    prog = _request("POST", base, {k: v for k, v in body.items() if v is not None}, token)
    bar = tqdm(total=prog["n_trials"], unit="trial", desc="calibration", file=sys.stderr)
    try:
        while prog["state"] in ("running", "fitting"):
            time.sleep(0.1)
            prog = _request("GET", base, token=token)
            bar.n = prog["trial"]
            cur = prog.get("current") or {}
            bar.set_postfix_str(
                "fitting"
                if prog["state"] == "fitting"
                else f"{cur.get('phase', '')} {cur.get('label') or ''}".strip()
            )
            bar.refresh()
    except KeyboardInterrupt:
        _request("DELETE", base)
        print("\ncalibration cancelled", file=sys.stderr)
        return 130
    finally:
        bar.close()
    if prog["state"] != "done":
        print(f"calibration {prog['state']}: {prog.get('error')}", file=sys.stderr)
        return 1
    r = prog["result"]
    print(
        f"model {r['model_id']}: CV {r['cv_metric']} {r['cv_score']:.3f}, accuracy "
        f"{r['cv_accuracy']:.3f} on {r['n_trials']} trials ({r['n_missed']} missed); active on "
        f"session {args.session}"
    )
    return 0
