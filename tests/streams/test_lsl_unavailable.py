"""When liblsl cannot be loaded, the user is told so and how to fix it."""

import os
import subprocess
import sys


def test_missing_liblsl_gives_the_fix(tmp_path):
    # A pylsl whose import fails the way pylsl does when it finds no liblsl binary.
    (tmp_path / "pylsl.py").write_text(
        "raise RuntimeError('LSL binary library file was not found.')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "bci.cli", "sys-info"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert "liblsl         NOT FOUND" in r.stdout
    assert "LSL binary library file was not found" in r.stdout
    assert "set PYLSL_LIB" in r.stdout and "mne-lsl" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "bci.cli", "stream", "synthetic", "--name", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    assert "liblsl (the Lab Streaming Layer library) could not be loaded" in r.stderr + r.stdout
