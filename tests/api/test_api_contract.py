"""The OpenAPI contract, fuzzed: schemathesis (its CLI, in a subprocess) against a real uvicorn
server on 127.0.0.1 with the token, every check, nothing excluded, bounded in time."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest
from _helpers import AUTH, TEST_TOKEN

pytestmark = [pytest.mark.network, pytest.mark.timeout(240)]

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_TIME_S = 75


def _st() -> list[str]:
    exe = Path(sys.executable).with_name("st")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("st")
    if found is None:
        pytest.fail("schemathesis is not installed: pip install -e '.[test]'")
    return [found]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, noise_outlet, fitted_model, tmp_path
):
    base = live_server.http
    r = httpx.post(
        f"{base}/sessions",
        json={"name": noise_outlet.name, "model_id": fitted_model.model_id, "record": False},
        headers=AUTH,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    env = {
        **os.environ,
        "BCI_ST_SESSION_ID": r.json()["id"],
        "BCI_ST_MODEL_ID": fitted_model.model_id,
    }
    proc = subprocess.run(
        [
            *_st(),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {TEST_TOKEN}",
            "--workers",
            "1",
            "--max-examples",
            "10",
            "--max-time",
            str(MAX_TIME_S),
            "--request-timeout",
            "15",
            "--seed",
            "1",
            "--no-shrink",
        ],
        capture_output=True,
        text=True,
        timeout=MAX_TIME_S + 120,
        check=False,
        env=env,
        cwd=tmp_path,  # its cache of past crashes stays out of the checkout
    )
    out = proc.stdout + proc.stderr
    summary = out[out.rfind("SUMMARY") :] if "SUMMARY" in out else out[-3000:]
    assert "Tested: 32" in summary, summary
    assert re.search(r"\d+ generated, (\d+) passed", summary), summary
    # 5xx, undocumented status or content type, response schema or JSON violations
    for code in ("ST101", "ST102", "ST103", "ST104", "ST105", "ST107", "ST108", "ST109"):
        assert code not in out, summary
    assert proc.returncode == 0, summary
    # destructive calls ran (sessions and models may be gone): the service still serves
    health = httpx.get(f"{base}/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    r = httpx.post(
        f"{base}/sessions",
        json={"name": noise_outlet.name, "record": False},
        headers=AUTH,
        timeout=30,
    )
    assert r.status_code == 201, r.text
