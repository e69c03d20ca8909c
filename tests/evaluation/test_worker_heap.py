"""A Dask worker's heap: NumPy temporaries stop costing a page fault per page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import resource, sys
import numpy as np
from bci.evaluation.taskdata import plain_heap
changed = plain_heap() if sys.argv[1] == "fix" else False
x = np.ones((64, 2000))
for _ in range(3):
    x @ x.T; (x * 2.0).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    y = x * 2.0  # 1 MiB temporaries, freed at once
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(changed, after - before)
"""


def _faults(mode: str, trim: bool) -> tuple[str, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    if trim:
        env["MALLOC_TRIM_THRESHOLD_"] = "65536"  # what a Dask nanny gives its workers
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_plain_heap_under_a_dask_nanny_environment() -> None:
    changed, nanny = _faults("keep", trim=True)
    assert changed == "False" and nanny > 200 * 200  # every 1 MiB temporary faults its pages in
    changed, fixed = _faults("fix", trim=True)
    assert changed == "True" and fixed < nanny / 20
    changed, plain = _faults("fix", trim=False)
    assert changed == "False" and plain < nanny / 20  # a plain process is left alone
