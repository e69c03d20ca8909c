"""Calibration runs: app-driven trials stepped by hand; service-driven cues over real LSL."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bci.config import load_settings
from bci.datasets import make_epochs
from bci.errors import ConfigError, SessionStateError
from bci.online.calibration import Calibration, CalibrationSpec
from bci.online.manager import SessionManager
from bci.online.session import DecodingSession
from bci.online.sources import ArraySource
from bci.streams.synthetic import simulate_run


def test_app_events_are_trial_boundaries_for_observation_vs_rest():
    """An AO app reports video onsets as events; those events cut the calibration trials."""
    run = simulate_run("observation-rest", trials_per_class=22, seed=0)
    clock = {"t": 0.0}
    src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=25)
    s = DecodingSession("1", src, None, clock=lambda: clock["t"])
    stored = []
    spec = CalibrationSpec(
        paradigm="observation-rest", trials_per_class=20, cues="app", pipeline="ts-lr"
    )
    cal = s.add_stage(Calibration(s.ctx, spec, on_model=stored.append))
    events = sorted(run.events)
    i = 0
    while not src.done and cal.state == "running":
        clock["t"] = src.pos / run.sfreq
        while i < len(events) and events[i][0] <= src.pos:
            sample, label = events[i]
            s.add_marker(label, sample / run.sfreq, source="websocket")  # video onset
            i += 1
        s.step()
    cal.wait(60)
    s.step()  # the step after the fit activates the model
    assert cal.state == "done", cal.error
    assert cal.y.count("observe") == 20 and cal.y.count("rest") == 20
    # the trials are exactly the offline epochs at the app's event times
    X_off, y_off = make_epochs(run.data, run.sfreq, events, 0.5, 2.5, (8.0, 30.0))
    seen = {"observe": 0, "rest": 0}
    order = []  # the first 20 trials of each class, in time order
    for k, (_, label) in enumerate(events):
        if seen[label] < 20:
            seen[label] += 1
            order.append(k)
    np.testing.assert_allclose(np.stack(cal.X), X_off[order], rtol=0, atol=1e-9)
    assert cal.y == [events[k][1] for k in order] == list(np.asarray(y_off)[order])
    assert stored and s.model is stored[0]
    assert cal.result["cv_metric"] == "roc_auc" and cal.result["cv_score"] > 0.65
    assert s.model.paradigm == "observation-rest"


def test_app_offset_before_tmax_rejects_the_trial():
    run = simulate_run("observation-rest", trials_per_class=3, seed=2)
    src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=50)
    s = DecodingSession("1", src, None, clock=lambda: 0.0)
    cal = Calibration(
        s.ctx,
        CalibrationSpec(paradigm="observation-rest", trials_per_class=2, cues="app"),
        on_model=lambda m: None,
    )
    s.add_stage(cal)
    for _ in range(40):
        s.step()
    s.add_marker("observe", 1.0)
    s.add_marker("observe_end", 1.5)  # the video stopped after 0.5 s; tmax is 2.5 s
    for _ in range(40):
        s.step()
    assert cal.n_missed == 1 and cal.X == []


def test_bad_specs_are_refused():
    run = simulate_run("imagery-left-right", trials_per_class=1, seed=2)
    s = DecodingSession("1", ArraySource(run.data, run.sfreq, run.ch_names), None)
    with pytest.raises(ConfigError, match=r"trial_s \(1.0\) must be at least the epoch end"):
        Calibration(s.ctx, CalibrationSpec(trial_s=1.0), on_model=lambda m: None)
    # An epoch the fit cannot use is refused before any trial runs (it failed in the fit, at
    # the end, when schemathesis sent tmin=0, tmax=0.001).
    with pytest.raises(ConfigError, match=r"holds 0 sample\(s\) at 250 Hz; .* at least 2"):
        Calibration(s.ctx, CalibrationSpec(tmin=0.0, tmax=0.001), on_model=lambda m: None)
    with pytest.raises(ConfigError, match=r"holds 1 sample\(s\)"):
        Calibration(s.ctx, CalibrationSpec(tmin=0.0, tmax=1 / 250), on_model=lambda m: None)
    assert (
        Calibration(s.ctx, CalibrationSpec(tmin=0.0, tmax=2 / 250), on_model=lambda m: None).n_times
        == 2
    )
    with pytest.raises(ConfigError, match="cues must be 'service' or 'app'"):
        Calibration(s.ctx, CalibrationSpec(cues="psychic"), on_model=lambda m: None)
    with pytest.raises(Exception, match="Unknown pipeline 'nope'"):
        Calibration(s.ctx, CalibrationSpec(pipeline="nope"), on_model=lambda m: None)
    with pytest.raises(Exception, match="Unknown paradigm 'nope'"):
        Calibration(s.ctx, CalibrationSpec(paradigm="nope"), on_model=lambda m: None)


class SimClock:
    """The LSL clock of a simulation: whatever time the test says it is."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_cued_calibration_on_a_simulated_clock(tmp_path):
    """24 service-cued trials in seconds: the engine stepped by hand over a recording.

    The recording is a simulated run whose trials follow the schedule the calibration will
    cue (same paradigm, seed and start), and the clock is the recording's own time, so each
    cue falls on its trial's onset exactly, as with a headset that obeys the cues.
    """
    run = simulate_run("imagery-left-right", trials_per_class=12, seed=4, erd_depth=0.8)
    clock = SimClock()
    manager = SessionManager(load_settings(data_dir=tmp_path, record=False), clock=clock)
    try:
        src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=10)
        session = manager.create(src)
        msgs = []
        session.subscribe(msgs.append)
        spec = CalibrationSpec(trials_per_class=12, seed=4, start_s=2.0, folds=4)
        progress = manager.start_calibration(session.id, spec)
        assert progress["state"] == "running" and progress["n_trials"] == 24
        with pytest.raises(SessionStateError, match="already running"):
            manager.start_calibration(session.id, spec)
        cal = manager.calibration(session.id)
        while not src.done and cal.state == "running":
            clock.t = src.pos / run.sfreq  # the time of the next sample to arrive
            manager.engine.step()
        assert cal.state == "fitting", cal.progress()
        cal.wait(60)
        manager.engine.step()  # the step after the fit activates the model
        res = manager.calibration_progress(session.id)["result"]
        assert cal.state == "done", cal.error
        assert res["n_trials"] == 24 and res["n_missed"] == 0
        assert session.model is not None and session.model.model_id == res["model_id"]
        assert manager.get_model(res["model_id"]).model_id == res["model_id"]
        cues = [m for m in msgs if m.type == "cue" and m.phase == "cue"]
        # every cue at its trial's onset, in the recording's time
        assert [(round(c.t * run.sfreq), c.label) for c in cues] == sorted(run.events)
        assert [m.value for m in session.markers if m.source == "calibration"] == [
            c.label for c in cues
        ]
        # the trials are the offline epochs at those onsets, filtered causally the same way
        X_off, y_off = make_epochs(run.data, run.sfreq, sorted(run.events), 0.5, 2.5, (8.0, 30.0))
        np.testing.assert_allclose(np.stack(cal.X), X_off, rtol=0, atol=1e-9)
        assert cal.y == list(y_off)
        states = [m.state for m in msgs if m.type == "calibration"]
        assert states == ["running", "fitting", "done"]
        assert [m.model_id for m in msgs if m.type == "model"] == [res["model_id"]]
        assert res["cv_accuracy"] >= 0.8, res
        # decoding follows with the new model
        n = session.n_windows
        for _ in range(50):
            clock.t = src.pos / run.sfreq
            manager.engine.step()
        assert session.n_windows > n or src.done
    finally:
        manager.close()


@pytest.mark.network
@pytest.mark.slow
def test_short_cued_calibration_in_real_time_over_lsl(stream_name, tmp_path):
    """Cues on the session and on LSL; the hosted synthetic brain follows; fit, activate."""
    from bci.streams.lsl import get_pylsl
    from bci.streams.synthetic_outlet import SyntheticOutlet

    manager = SessionManager(load_settings(data_dir=tmp_path, resolve_timeout=5, record=False))
    outlet = SyntheticOutlet(
        "openbci-cyton",
        name=stream_name,
        seed=4,
        erd_depth=0.8,
        paradigm="imagery-left-right",
        auto_cues=True,
    )
    try:
        outlet.start()
        manager.hosted[stream_name] = outlet
        session = manager.create(manager.open_lsl_source(name=stream_name))
        msgs = []
        session.subscribe(msgs.append)
        manager.engine.start()
        spec = CalibrationSpec(
            trials_per_class=4,
            fixation_s=0.2,
            trial_s=2.5,
            rest_s=0.3,
            jitter_s=0.1,
            start_s=0.5,
            seed=1,
            folds=2,
        )
        manager.start_calibration(session.id, spec)
        cue_name = f"bci-session-{session.id}-cues-{manager.instance}"
        cue_inlet = get_pylsl().resolve_byprop("name", cue_name, timeout=5)
        assert cue_inlet, "the cue marker stream is on LSL"
        cal = manager.calibration(session.id)
        deadline = time.monotonic() + 60
        while cal.state in ("running", "fitting") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cal.state == "done", cal.progress()
        res = cal.result
        assert res["n_trials"] == 8 and res["n_missed"] == 0
        assert session.model is not None and session.model.model_id == res["model_id"]
        cues = [m for m in msgs if m.type == "cue" and m.phase == "cue"]
        assert sorted(c.label for c in cues) == ["left"] * 4 + ["right"] * 4
        # decoding resumes with the new model; the synthetic headset went back to auto cues
        n = session.n_windows
        time.sleep(0.5)
        assert session.n_windows > n and outlet.auto_cues
    finally:
        manager.close()
