"""The decoding session stepped by hand: no threads, no sleeps, no wall clock."""

import numpy as np
import pytest
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from bci.decoders.model import Model
from bci.errors import ModelMismatchError, SessionStateError
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource
from bci.signal import filter_continuous
from bci.types import Chunk

SFREQ = 100.0
CH = ["C3", "Cz", "C4", "Pz"]


def _model(rng, window_s=1.0, band=(8.0, 30.0), ch_names=CH, sfreq=SFREQ):
    n_t = int(window_s * sfreq)
    X = rng.standard_normal((20, len(ch_names), n_t))
    X[10:, 0] *= 2.0
    y = np.array(["left"] * 10 + ["right"] * 10)
    pipe = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()).fit(X, y)
    return Model(
        pipeline=pipe,
        pipeline_name="ts-lr",
        classes=list(pipe.classes_),
        ch_names=list(ch_names),
        sfreq=sfreq,
        band=band,
        window_s=window_s,
    )


def _run(session, source):
    msgs = []
    session.subscribe(msgs.append)
    while not source.done:
        session.step()
    return [m for m in msgs if m["type"] == "prediction"]


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_windows_at_exact_cadence_and_timestamps(rng):
    data = rng.standard_normal((4, 1000))
    src = ArraySource(data, SFREQ, CH, chunk_size=7, t0=100.0)
    s = DecodingSession("1", src, _model(rng), SessionConfig(step_s=0.25), clock=Clock())
    preds = _run(s, src)
    # window 100 samples, step 25: ends at 100, 125, ..., 1000
    assert len(preds) == (1000 - 100) // 25 + 1
    np.testing.assert_allclose(
        [p["t"] for p in preds], 100.0 + (np.arange(100, 1001, 25) - 1) / SFREQ
    )
    assert [p["index"] for p in preds] == list(range(1, len(preds) + 1))
    for p in preds:
        assert set(p["probabilities"]) == {"left", "right"}
        assert abs(sum(p["probabilities"].values()) - 1) < 1e-9
        assert p["label"] == max(p["probabilities"], key=p["probabilities"].get)


@pytest.mark.parametrize("chunk_size", [1, 13, 64, 500])
def test_online_equals_offline_for_any_chunking(rng, chunk_size):
    """The same filter, windows and pipeline offline and online give the same decisions."""
    model = _model(rng)
    data = rng.standard_normal((4, 800)) * 10
    src = ArraySource(data, SFREQ, CH, chunk_size=chunk_size)
    s = DecodingSession("1", src, model, SessionConfig(step_s=0.1), clock=Clock())
    online = np.array([[p["probabilities"][c] for c in model.classes] for p in _run(s, src)])
    filt = filter_continuous(data, SFREQ, 8.0, 30.0)
    ends = np.arange(100, 801, 10)
    X = np.stack([filt[:, e - 100 : e] for e in ends])
    offline = model.pipeline.predict_proba(X)
    np.testing.assert_allclose(online, offline, rtol=0, atol=1e-9)


def test_nan_windows_are_rejected_and_decoding_goes_on(rng):
    data = rng.standard_normal((4, 1000))
    data[2, 400:405] = np.nan
    src = ArraySource(data, SFREQ, CH, chunk_size=10)
    s = DecodingSession("1", src, _model(rng), SessionConfig(step_s=0.25), clock=Clock())
    preds = _run(s, src)
    st = s.status()
    assert st["counts"]["rejected_windows"] > 0
    assert len(preds) + st["counts"]["rejected_windows"] == (1000 - 100) // 25 + 1
    assert any("NaN" in w and "C4" in w for w in st["warnings"])
    assert all(np.isfinite(list(p["probabilities"].values())).all() for p in preds)
    assert preds[-1]["t"] == pytest.approx((1000 - 1) / SFREQ)


def test_gap_restarts_windows(rng):
    data = rng.standard_normal((4, 600))
    t = np.arange(600) / SFREQ
    t[300:] += 5.0  # the stream vanished for 5 s
    src = ArraySource(data, SFREQ, CH, chunk_size=10, timestamps=t)
    s = DecodingSession("1", src, _model(rng), SessionConfig(step_s=0.5), clock=Clock())
    preds = _run(s, src)
    ts = np.array([p["t"] for p in preds])
    # before the gap: ends 100..300 step 50 (5 windows); after: a full window first
    assert len(ts[ts < 5]) == 5
    assert ts[ts > 5].min() == pytest.approx(t[300 + 100 - 1])


class _Silent:
    """A source that delivers data only when told to."""

    def __init__(self, description, data):
        self.description = description
        self.data = data
        self.n_gaps = self.n_dropped = 0
        self.give = False

    def pull(self):
        if not self.give:
            return Chunk(np.empty((0, 4)), np.empty(0))
        self.give = False
        return Chunk(self.data, np.arange(len(self.data)) / SFREQ)

    def close(self):
        pass


def test_stalled_then_running_again(rng):
    clock = Clock()
    src0 = ArraySource(rng.standard_normal((4, 10)), SFREQ, CH)
    src = _Silent(src0.description, rng.standard_normal((10, 4)))
    s = DecodingSession("1", src, None, SessionConfig(stall_timeout_s=1.0), clock=clock)
    states = []
    s.subscribe(lambda m: states.append(m["state"]) if m["type"] == "status" else None)
    src.give = True
    s.step()
    assert s.state == "running"
    clock.t = 0.5
    s.step()
    assert s.state == "running"
    clock.t = 1.6
    s.step()
    assert s.state == "stalled"
    src.give = True
    clock.t = 2.0
    s.step()
    assert states == ["running", "stalled", "running"]


def test_model_mismatch_is_refused(rng):
    src = ArraySource(rng.standard_normal((4, 10)), SFREQ, CH)
    s = DecodingSession("7", src, None, clock=Clock())
    msg = r"channels .* sampling rate 100 Hz \(model: 250 Hz\)"
    with pytest.raises(ModelMismatchError, match=msg):
        s.set_model(_model(rng, ch_names=["C3", "C4", "Cz", "Pz"], sfreq=250.0))
    msg = "No model is active for session 7: run a calibration"
    with pytest.raises(SessionStateError, match=msg):
        s.require_model()


def test_broken_subscriber_does_not_stop_decoding(rng):
    data = rng.standard_normal((4, 300))
    src = ArraySource(data, SFREQ, CH, chunk_size=50)
    s = DecodingSession("1", src, _model(rng), SessionConfig(step_s=0.5), clock=Clock())

    def broken(msg):
        raise RuntimeError("client went away")

    s.subscribe(broken)
    preds = _run(s, src)
    assert len(preds) == 5


def test_acquires_without_model(rng):
    src = ArraySource(rng.standard_normal((4, 300)), SFREQ, CH, chunk_size=50)
    s = DecodingSession("1", src, None, clock=Clock())
    assert _run(s, src) == []
    assert s.status()["counts"]["samples"] == 300
