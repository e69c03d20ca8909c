"""`bci calibrate` against a real running service with a hosted synthetic headset."""

from __future__ import annotations

import pytest
from _helpers import TEST_TOKEN

from bci.cli import main

pytestmark = pytest.mark.network


def test_calibrate_cli_runs_a_calibration(live_server, manager, stream_name, capsys):
    from bci.streams.synthetic_outlet import SyntheticOutlet

    outlet = SyntheticOutlet("openbci-cyton", name=stream_name, seed=2)
    outlet.start()
    manager.hosted[stream_name] = outlet
    session = manager.create(manager.open_lsl_source(name=stream_name), record=False)
    code = main(
        [
            "calibrate",
            "--url",
            live_server.http,
            "--session",
            session.id,
            "--token",
            TEST_TOKEN,
            "--trials-per-class",
            "3",
            "--fixation-s",
            "0.2",
            "--trial-s",
            "2.5",
            "--rest-s",
            "0.3",
            "--jitter-s",
            "0.1",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"active on session {session.id}" in out and "on 6 trials (0 missed)" in out
    assert session.model is not None and session.model.n_trials == 6


def test_calibrate_cli_errors(live_server, capsys):
    url = live_server.http
    assert main(["calibrate", "--url", url, "--session", "9", "--token", TEST_TOKEN]) == 1
    assert "404: No session with id '9'" in capsys.readouterr().err
    assert main(["calibrate", "--url", url, "--session", "9", "--token", "x" * 20]) == 1
    assert "401: Missing or wrong bearer token" in capsys.readouterr().err
    assert main(["calibrate", "--url", "http://127.0.0.1:9", "--session", "1"]) == 1
    assert "Cannot reach the bci service" in capsys.readouterr().err
