"""Batched decoding across sessions: one decoder call per model per engine round."""

import dataclasses

import numpy as np
import pytest
from test_session import CH, SFREQ
from test_session import _model as _session_model

from bci.online.engine import Engine
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource


def _model(seed, model_id):
    # the session tests' ts-lr model (1 s windows at 100 Hz), under a chosen id
    return dataclasses.replace(_session_model(np.random.default_rng(seed)), model_id=model_id)


class Counting:
    """Wraps a model's predict_proba to count calls and windows."""

    def __init__(self, model, fail_above=None):
        self.inner, self.calls, self.sizes = model.predict_proba, 0, []
        self.fail_above = fail_above
        model.predict_proba = self

    def __call__(self, X):
        self.calls += 1
        self.sizes.append(len(X))
        if self.fail_above is not None and len(X) > self.fail_above:
            raise RuntimeError("batch too large for this test")
        return self.inner(X)


def _sessions(models, rng, chunk_sizes):
    out = []
    for i, (model, chunk) in enumerate(zip(models, chunk_sizes, strict=True)):
        src = ArraySource(rng.standard_normal((4, 600)) * 10, SFREQ, CH, chunk, t0=50.0 + i)
        s = DecodingSession(str(i + 1), src, model, SessionConfig(step_s=0.1), clock=lambda: 0.0)
        got = []
        s.subscribe(lambda m, got=got: m["type"] == "prediction" and got.append(m))
        out.append((s, src, got))
    return out


def _predictions(batch, models, chunk_sizes):
    rng = np.random.default_rng(3)
    sessions = _sessions(models, rng, chunk_sizes)
    engine = Engine(batch=batch)
    for s, _, _ in sessions:
        engine.add(s)
    n = 0
    while not all(src.done for _, src, _ in sessions):
        n += engine.step()
    return n, [got for _, _, got in sessions]


@pytest.mark.parametrize("chunk_sizes", [(10, 10, 10, 10), (7, 10, 13, 25)])
def test_batched_rounds_equal_one_call_per_session(chunk_sizes):
    shared, other = _model(1, "shared"), _model(2, "other")
    models = [shared, shared, shared, other]
    n_alone, alone = _predictions(False, models, chunk_sizes)
    calls_shared, calls_other = Counting(shared), Counting(other)
    n_batched, batched = _predictions(True, models, chunk_sizes)
    assert n_batched == n_alone == sum(len(g) for g in alone) > 4 * 40
    for a, b in zip(alone, batched, strict=True):
        assert [(m["index"], m["t"], m["label"]) for m in a] == [
            (m["index"], m["t"], m["label"]) for m in b
        ]
        for ma, mb in zip(a, b, strict=True):
            for c in ma["probabilities"]:
                assert mb["probabilities"][c] == pytest.approx(ma["probabilities"][c], abs=1e-9)
    # One call per round for the three sessions sharing a model, however many were due.
    per_round_shared = sum(len(g) for g in alone[:3])
    assert calls_shared.calls < per_round_shared / 2
    assert max(calls_shared.sizes) >= 3
    assert sum(calls_other.sizes) == len(alone[3])


def test_a_failing_batch_falls_back_to_one_session_at_a_time():
    shared = _model(1, "shared")
    n_alone, alone = _predictions(False, [shared] * 3, (10, 10, 10))
    counting = Counting(shared, fail_above=1)  # the batched call fails, single windows pass
    n, batched = _predictions(True, [shared] * 3, (10, 10, 10))
    assert n == n_alone and [len(g) for g in batched] == [len(g) for g in alone]
    assert max(counting.sizes) >= 3 and 1 in counting.sizes
