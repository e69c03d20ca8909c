"""Online re-centring in a session stepped by hand: follows a shift; online equals offline."""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm

from bci.decoders import make_pipeline
from bci.decoders.adaptation import AdaptiveDecoder, ReferenceTracker, riemann_distance
from bci.decoders.model import Model
from bci.decoders.recentering import Recentering
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource
from bci.signal import filter_continuous

SFREQ = 100.0
CH = ["C3", "Cz", "C4", "CP3", "CP4"]
BAND = (8.0, 30.0)
WIN = 100  # 1 s windows
STEP_S = 0.25


def _pipeline(rng: np.random.Generator) -> object:
    X = filter_continuous(rng.standard_normal((len(CH), 40 * WIN)), SFREQ, *BAND)
    X = X.reshape(len(CH), 40, WIN).transpose(1, 0, 2).copy()
    y = np.array(["left", "right"] * 20)
    X[y == "right", 0] *= 1.5
    return make_pipeline("ts-lr", recentering=True).fit(X, y)


def _adaptive(pipe: object) -> AdaptiveDecoder:
    return AdaptiveDecoder(pipe, ReferenceTracker("balanced", alpha=0.1, n_init=8), 4)


def test_session_tracks_a_shift_and_matches_the_offline_replay(rng: np.random.Generator) -> None:
    pipe = _pipeline(rng)
    n = 60 * int(SFREQ)
    data = rng.standard_normal((len(CH), n))
    A = expm(0.4 * (lambda S: (S + S.T) / 2)(rng.standard_normal((len(CH), len(CH)))))
    data[:, n // 2 :] = A @ data[:, n // 2 :]  # the headset moved half-way through
    dec = _adaptive(pipe)
    model = Model(
        pipeline=dec,
        pipeline_name="ts-lr",
        classes=["left", "right"],
        ch_names=CH,
        sfreq=SFREQ,
        band=BAND,
        window_s=WIN / SFREQ,
    )
    src = ArraySource(data, SFREQ, CH, chunk_size=7)
    session = DecodingSession("a1", src, model, SessionConfig(step_s=STEP_S), clock=lambda: 0.0)
    msgs: list[dict] = []
    session.subscribe(msgs.append)
    while not src.done:
        session.step()
    preds = [m for m in msgs if m["type"] == "prediction"]
    ends = np.arange(WIN, n + 1, round(STEP_S * SFREQ))
    assert len(preds) == len(ends) == dec.n_windows_
    assert {m["model_id"] for m in preds} == {model.model_id}
    state = dec.state()
    assert state["n_updates"] == -(-len(ends) // 4)  # every 4th window, the first included
    # offline: the same windows, cut from the causally filtered recording, through a fresh
    # adaptive decoder in one call, give the same decisions and the same reference
    filt = filter_continuous(data, SFREQ, *BAND)
    X = np.stack([filt[:, e - WIN : e] for e in ends])
    offline = _adaptive(pipe)
    P = offline.predict_proba(X)
    online = np.array([[m["probabilities"]["left"], m["probabilities"]["right"]] for m in preds])
    np.testing.assert_allclose(online, P, atol=1e-9)
    np.testing.assert_allclose(dec.tracker.reference_, offline.tracker.reference_, atol=1e-9)
    # and the reference has followed the shift: close to the second half's own mean
    covs = pipe.named_steps["cov"].transform(X)
    late = Recentering().fit(covs[len(ends) * 3 // 4 :]).reference_
    assert dec.tracker.initial_ is not None
    before = riemann_distance(dec.tracker.initial_, late)
    after = riemann_distance(dec.tracker.reference_, late)
    assert after < 0.5 * before, (before, after)
    assert state["drift"] > 0.5 * before
