"""Mu-suppression neurofeedback on a session, stepped by hand over a synthetic recording."""

import numpy as np
import pytest

from bci.errors import SessionStateError, SignalError
from bci.online.neurofeedback import MuSuppressionFeed
from bci.online.session import DecodingSession
from bci.online.sources import ArraySource
from bci.streams.synthetic import simulate_run


def _session(run, chunk=16):
    src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=chunk)
    return src, DecodingSession("1", src, None, clock=lambda: 0.0)


def test_pre_cue_baseline_gives_suppression_during_observation():
    run = simulate_run("observation-rest", trials_per_class=8, seed=3)
    src, s = _session(run)
    feed = MuSuppressionFeed(
        s.ctx,
        window_s=1.0,
        step_s=0.25,
        baseline_markers=["observe", "rest"],
        baseline_s=1.0,
        smoothing=0.0,
    )
    s.add_stage(feed)
    msgs = []
    s.subscribe(lambda m: msgs.append(m) if m["type"] == "mu_suppression" else None)
    cues = sorted(run.events)
    i = 0
    while not src.done:
        # markers arrive with the data, as from an LSL marker stream
        while i < len(cues) and cues[i][0] <= src.pos:
            s.add_marker(cues[i][1], cues[i][0] / run.sfreq, source="lsl")
            i += 1
        s.step()
    assert feed.baseline_info is not None and feed.baseline_info["source"] == "pre-cue"
    t = np.array([m["t"] for m in msgs])
    idx = np.array([m["index"] for m in msgs])
    during = {"observe": [], "rest": []}
    for sample, label in cues:
        t0 = sample / run.sfreq
        sel = (t >= t0 + 1.5) & (t <= t0 + 3.5)
        during[label].extend(idx[sel])
    obs, rest = np.mean(during["observe"]), np.mean(during["rest"])
    assert obs < -0.05, obs
    assert abs(rest) < 0.05 and obs < rest - 0.05
    m = msgs[-1]
    assert set(m["channels"]) == {"C3", "Cz", "C4"}
    assert set(m["channels"]["C3"]) == {"mu", "beta"}
    assert s.status()["mu_suppression"]["n_values"] == len(msgs)


def test_baseline_on_request_and_errors():
    run = simulate_run("imagery-left-right", trials_per_class=2, seed=1)
    _, s = _session(run, chunk=250)
    feed = s.add_stage(MuSuppressionFeed(s.ctx))
    with pytest.raises(SessionStateError, match=r"holds 0\.0 s of signal; a 5 s baseline"):
        feed.set_baseline_now(s.ctx, 5)
    for _ in range(8):
        s.step()
    feed.set_baseline_now(s.ctx, 5)
    assert feed.baseline_info["source"] == "request"
    msgs = []
    s.subscribe(lambda m: msgs.append(m) if m["type"] == "mu_suppression" else None)
    s.step()
    assert msgs  # values flow once a baseline exists
    with pytest.raises(SignalError, match="C5"):
        MuSuppressionFeed(s.ctx, channels=["C3", "C5"])
    with pytest.raises(SignalError, match="too short"):
        MuSuppressionFeed(s.ctx, window_s=0.1)
