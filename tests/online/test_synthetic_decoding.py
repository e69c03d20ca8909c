"""Calibrate on a synthetic run, then decode held-out synthetic trials through the engine."""

import numpy as np
import pytest

from bci.online.demo import calibrate_synthetic
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource
from bci.streams.synthetic import simulate_run


@pytest.mark.slow
def test_held_out_left_right_accuracy_through_the_engine():
    model = calibrate_synthetic("openbci-cyton", seed=11, trials_per_class=30)
    assert model.classes == ["left", "right"]
    assert model.cv_metric == "roc_auc" and model.cv_score > 0.8
    held_out = simulate_run("imagery-left-right", trials_per_class=20, seed=12345)
    src = ArraySource(held_out.data, held_out.sfreq, held_out.ch_names, chunk_size=8)
    session = DecodingSession(
        "1", src, model, SessionConfig(window_s=2.0, step_s=1 / 16), clock=lambda: 0.0
    )
    preds = []
    session.subscribe(lambda m: preds.append(m) if m["type"] == "prediction" else None)
    while not src.done:
        session.step()
    ends = np.array([round(p["t"] * held_out.sfreq) + 1 for p in preds])
    correct = []
    for sample, label in held_out.events:
        target = sample + int(2.5 * held_out.sfreq)  # window 0.5-2.5 s after the cue
        p = preds[int(np.abs(ends - target).argmin())]
        correct.append(p["label"] == label)
    acc = float(np.mean(correct))
    assert len(correct) == 40
    assert acc >= 0.8, f"held-out accuracy {acc:.2f}"
