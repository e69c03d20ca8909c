"""Online re-centring in a session stepped by hand: follows a shift; online equals offline."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from bci.decoders import make_pipeline
from bci.decoders.adaptation import AdaptiveDecoder, ReferenceTracker, riemann_distance
from bci.decoders.model import Model
from bci.decoders.recentering import Recentering
from bci.online.adaptation import AdaptationStage
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


def _session(pipe: object, data: np.ndarray, chunk_size: int = 5) -> tuple:
    """A session stepped by hand over ``data`` with ``pipe`` as its model."""
    model = Model(
        pipeline=pipe,
        pipeline_name="ts-lr",
        classes=["left", "right"],
        ch_names=CH,
        sfreq=SFREQ,
        band=BAND,
        window_s=WIN / SFREQ,
    )
    src = ArraySource(data, SFREQ, CH, chunk_size=chunk_size)
    session = DecodingSession("s1", src, model, SessionConfig(step_s=STEP_S), clock=lambda: 0.0)
    return session, src, model


def _noise(rng: np.random.Generator, n_s: int) -> np.ndarray:
    return rng.standard_normal((len(CH), n_s * int(SFREQ)))


def test_session_tracks_a_shift_and_matches_the_offline_replay(rng: np.random.Generator) -> None:
    pipe = _pipeline(rng)
    n = 60 * int(SFREQ)
    data = rng.standard_normal((len(CH), n))
    A = expm(0.4 * (lambda S: (S + S.T) / 2)(rng.standard_normal((len(CH), len(CH)))))
    data[:, n // 2 :] = A @ data[:, n // 2 :]  # the headset moved half-way through
    dec = _adaptive(pipe)
    session, src, model = _session(dec, data, chunk_size=7)
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


def test_recenter_option_wraps_the_model_and_reports_its_state(rng: np.random.Generator) -> None:
    session, src, model = _session(_pipeline(rng), _noise(rng, 20))
    session.add_stage(
        AdaptationStage(session.decoder, STEP_S, "recenter", update_s=0.5, init_s=2.0)
    )
    msgs: list[dict] = []
    session.subscribe(msgs.append)
    while not src.done:
        session.step()
    preds = [m for m in msgs if m["type"] == "prediction"]
    assert len(preds) == (20 * int(SFREQ) - WIN) // 25 + 1
    assert {m["model_id"] for m in preds} == {model.model_id}  # same model, moving reference
    st = session.status()["adaptation"]
    assert st["mode"] == "recenter" and st["active"] and st["guard"] == "weighted"
    assert st["update_every_windows"] == 2
    assert st["n_updates"] == -(-len(preds) // 2)
    assert st["warming_up"] is False and st["drift"] > 0


def test_a_model_without_recentering_is_decoded_unadapted_with_a_warning(
    rng: np.random.Generator,
) -> None:
    X = rng.standard_normal((20, len(CH), WIN))
    y = np.array(["left", "right"] * 10)
    pipe = make_pipeline("ts-lr").fit(X, y)
    session, src, _ = _session(pipe, _noise(rng, 5))
    session.add_stage(AdaptationStage(session.decoder, STEP_S, "recenter"))
    while not src.done:
        session.step()
    assert session.n_windows > 0
    st = session.status()["adaptation"]
    assert not st["active"] and "not adapted" in st["error"]
    assert any("needs a pipeline with a Recentering step" in w for w in session.warnings)


def test_supervised_refits_are_new_versions_in_the_registry(
    rng: np.random.Generator, tmp_path: object
) -> None:
    from bci.decoders.store import ModelStore

    store = ModelStore(tmp_path)
    session, src, model = _session(_pipeline(rng), _noise(rng, 40))
    adapt = AdaptationStage(
        session.decoder,
        STEP_S,
        "supervised",
        store=store,
        init_s=2.0,
        refit_every=4,
        min_per_class=2,
    )
    session.add_stage(adapt)
    msgs: list[dict] = []
    session.subscribe(msgs.append)
    cue_every = 3 * int(SFREQ)  # a labelled trial every 3 s, left and right in turn
    n_cues = 0
    while not src.done:
        if src.pos >= (n_cues + 1) * cue_every and src.pos < 30 * int(SFREQ):
            session.add_marker(["left", "right"][n_cues % 2], t=src.pos / SFREQ, source="app")
            n_cues += 1
        session.step()
        adapt.wait_refit()  # the refit thread, waited for here so the test is stepped
    st = session.status()["adaptation"]
    assert st["labelled_trials"] == n_cues == 9 and st["missed_trials"] == 0
    assert len(st["versions"]) == 2 and st["error"] is None  # after trials 4 and 8
    ids = [m["model_id"] for m in msgs if m["type"] == "prediction"]
    assert ids[0] == model.model_id and ids[-1] == st["versions"][-1]
    assert ids.index(st["versions"][0]) < ids.index(st["versions"][1])
    card = store.card(st["versions"][1])
    assert card["params"]["adaptation"]["parent"] == st["versions"][0]
    assert card["params"]["adaptation"]["session_trials"] == 8
    assert session.model is not None and session.model.model_id == st["versions"][1]
    assert st["refit_paused"] is None


def test_supervised_refits_wait_while_trials_come_in_blocks(rng: np.random.Generator) -> None:
    session, src, model = _session(_pipeline(rng), _noise(rng, 56))
    adapt = AdaptationStage(
        session.decoder, STEP_S, "supervised", init_s=2.0, refit_every=4, min_per_class=2
    )
    session.add_stage(adapt)
    msgs: list[dict] = []
    session.subscribe(msgs.append)
    cue_every = 3 * int(SFREQ)  # 8 left, then 8 right: a block design
    n_cues = 0
    while not src.done:
        if src.pos >= (n_cues + 1) * cue_every and n_cues < 16:
            session.add_marker("left" if n_cues < 8 else "right", t=src.pos / SFREQ)
            n_cues += 1
        session.step()
        adapt.wait_refit()
    st = session.status()["adaptation"]
    assert st["labelled_trials"] == 16 and st["versions"] == [] and st["error"] is None
    assert "the 16 labelled trials came in blocks of one class (2 runs" in st["refit_paused"]
    assert {m["model_id"] for m in msgs if m["type"] == "prediction"} == {model.model_id}
    assert st["n_updates"] > 0  # the reference still adapts without labels
    said = [w for w in session.warnings if w.startswith("adaptation refits paused: ")]
    assert len(said) == 1 and "came in blocks of one class" in said[0]


def _dead_c3_every_4s(rng: np.random.Generator, n_s: int) -> np.ndarray:
    """Noise with C3 dead (0.001 µV, under the gate's flat threshold) 1.5 s in every 4 s."""
    data = _noise(rng, n_s)
    sf = int(SFREQ)
    for start in range(5 * sf // 2, n_s * sf, 4 * sf):
        data[0, start : start + 3 * sf // 2] *= 1e-3
    return data


@pytest.mark.parametrize("mode", ["recenter", "supervised"])
def test_withheld_windows_do_not_move_the_reference(rng: np.random.Generator, mode: str) -> None:
    data = _dead_c3_every_4s(rng, 40)
    session, src, _ = _session(_pipeline(rng), data)
    stage = AdaptationStage(session.decoder, STEP_S, mode, update_s=0.5, init_s=2.0, horizon_s=10.0)
    session.add_stage(stage)
    msgs: list[dict] = []
    session.subscribe(msgs.append)
    while not src.done:
        session.step()
    decided = [m for m in msgs if m["type"] in ("prediction", "withheld")]
    passed = [m for m in decided if m["type"] == "prediction"]
    held = [m for m in decided if m["type"] == "withheld"]
    assert len(held) > 40 and len(passed) > 40
    assert all("flat" in m["reason"] and "C3" in m["reason"] for m in held)
    # what the passed windows alone give: the same tracker fed their covariances in order,
    # the first seeding it, then every 2nd (update_s / step_s) with its probabilities
    ends = np.arange(WIN, data.shape[1] + 1, round(STEP_S * SFREQ))
    assert [m["index"] for m in decided] == list(range(1, len(ends) + 1))
    filt = filter_continuous(data, SFREQ, *BAND)
    X = np.stack([filt[:, ends[m["index"] - 1] - WIN : ends[m["index"] - 1]] for m in passed])
    covs = session.model.pipeline.pipeline.named_steps["cov"].transform(X)
    P = np.array([[m["probabilities"]["left"], m["probabilities"]["right"]] for m in passed])
    good = ReferenceTracker(stage.tracker.guard, alpha=stage.tracker.alpha, n_init=4)
    assert stage.tracker.n_init == 4
    for j in range(len(passed)):
        if j == 0:
            good.update(covs[:1])
        elif j % 2 == 0:
            good.update(covs[j : j + 1], P[j : j + 1])
    st = session.status()["adaptation"]
    assert st["n_updates"] == good.n_updates_ == -(-len(passed) // 2)
    np.testing.assert_allclose(stage.tracker.reference_, good.reference_, atol=1e-9)
    # and the dead channel would have pulled it: the same windows with the withheld ones
    every = ReferenceTracker(stage.tracker.guard, alpha=stage.tracker.alpha, n_init=4)
    Xall = np.stack([filt[:, e - WIN : e] for e in ends])
    call = session.model.pipeline.pipeline.named_steps["cov"].transform(Xall)
    every.update(call[:1])
    for j in range(2, len(ends), 2):
        every.update(call[j : j + 1], np.array([[0.5, 0.5]]))
    assert riemann_distance(every.reference_, good.reference_) > 0.3  # 0.49 measured
    # the decision the session shows is a published one
    assert session.last_prediction is not None
    assert session.last_prediction.index == passed[-1]["index"]


def test_batched_engine_keeps_each_sessions_reference_its_own(rng: np.random.Generator) -> None:
    """Two sessions adapting the same stored model in one batched engine: each tracks its
    own stream (the adaptive decoder of one session never decides the other's windows)."""
    from bci.online.engine import Engine

    _, _, model = _session(_pipeline(rng), _noise(rng, 1))  # one stored model, one id
    A = expm(0.5 * (lambda S: (S + S.T) / 2)(rng.standard_normal((len(CH), len(CH)))))
    streams = [_noise(rng, 12), A @ _noise(rng, 12)]

    def run(batch: bool, which: list[int]) -> list[np.ndarray]:
        engine = Engine(batch=batch)
        made = []
        for i in which:
            src = ArraySource(streams[i], SFREQ, CH, chunk_size=5)
            session = DecodingSession(
                str(i + 1), src, model, SessionConfig(step_s=STEP_S), clock=lambda: 0.0
            )
            stage = AdaptationStage(session.decoder, STEP_S, "recenter", init_s=1.0)
            session.add_stage(stage)
            engine.add(session)
            made.append((src, stage))
        while not all(src.done for src, _ in made):
            engine.step()
        return [stage.tracker.reference_ for _, stage in made]

    together = run(True, [0, 1])
    alone = [run(False, [i])[0] for i in (0, 1)]
    for got, want in zip(together, alone, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-9)
    assert riemann_distance(together[0], together[1]) > 0.5
