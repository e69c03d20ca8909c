"""Online reference tracking recovers a known shift; guards keep a run of one class out."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from bci.decoders.adaptation import (
    GUARDS,
    ReferenceTracker,
    alpha_for_horizon,
    labels_in_blocks,
    refit_with_trials,
    riemann_distance,
)
from bci.decoders.recentering import Recentering
from bci.errors import DecoderError, SignalError

N_CH = 6


def _sym(rng: np.random.Generator, scale: float) -> np.ndarray:
    S = rng.standard_normal((N_CH, N_CH))
    return scale * (S + S.T) / 2


class _World:
    """Two classes at exp(+D) and exp(-D) around the identity, seen through a mixing A.

    The balanced Riemannian mean of the unshifted classes is the identity, so the target's
    true reference (the class-balanced mean) is ``A A^T``.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.D = _sym(rng, 0.35)
        self.means = [expm(self.D), expm(-self.D)]
        self.A = expm(_sym(rng, 0.4))  # the session shift (SPD, so A A^T = A^2)
        self.true_ref = self.A @ self.A.T

    def window(self, k: int) -> np.ndarray:
        half = expm(self.D / 2) if k == 0 else expm(-self.D / 2)
        noise = expm(_sym(self.rng, 0.08))
        C = half @ noise @ half
        return self.A @ C @ self.A.T

    def proba(self, C: np.ndarray, R: np.ndarray) -> np.ndarray:
        """Minimum-distance-to-mean probabilities after whitening by the tracker's ``R``."""
        rec = Recentering()
        rec.reference_, rec.n_channels_ = R, N_CH
        w = rec.transform(C[None])[0]
        d = np.array([riemann_distance(m, w) for m in self.means])
        e = np.exp(-(d**2) * 4)
        return e / e.sum()


def _run(world: _World, tracker: ReferenceTracker, labels: list[int]) -> np.ndarray:
    for k in labels:
        C = world.window(k)
        R = tracker.reference_ if tracker.reference_ is not None else np.eye(N_CH)
        tracker.update(C[None], world.proba(C, R)[None])
    assert tracker.reference_ is not None
    return tracker.reference_


@pytest.mark.parametrize("guard", GUARDS)
def test_balanced_stream_recovers_a_known_shift(rng: np.random.Generator, guard: str) -> None:
    world = _World(rng)
    labels = [i % 2 for i in range(200)]
    R = _run(world, ReferenceTracker(guard, alpha=0.05, n_init=10), labels)
    before = riemann_distance(np.eye(N_CH), world.true_ref)
    after = riemann_distance(R, world.true_ref)
    assert before > 1.0
    assert after < 0.15 * before, (guard, before, after)


def test_long_run_of_one_class_biases_the_naive_tracker_not_the_balanced_one(
    rng: np.random.Generator,
) -> None:
    world = _World(rng)
    # a balanced start (the warm-up and a little more), then 150 windows of class 0 only
    labels = [i % 2 for i in range(40)] + [0] * 150
    bias = {}
    for guard in ("none", "balanced", "weighted"):
        world.rng = np.random.default_rng(7)  # identical windows for every guard
        R = _run(world, ReferenceTracker(guard, alpha=0.05, n_init=10), labels)
        bias[guard] = riemann_distance(R, world.true_ref)
    # the naive reference has walked to the class-0 mean (distance |D|_F from the truth)
    class_dist = riemann_distance(world.means[0], np.eye(N_CH))
    assert bias["none"] > 0.7 * class_dist, bias
    assert bias["balanced"] < 0.35 * bias["none"], bias
    assert bias["weighted"] < 0.7 * bias["none"], bias


def test_state_reports_updates_drift_and_guard(rng: np.random.Generator) -> None:
    world = _World(rng)
    tr = ReferenceTracker("balanced", alpha=0.1, n_init=4)
    assert tr.state()["n_updates"] == 0 and tr.state()["drift"] is None
    _run(world, tr, [0, 1, 0, 1])
    s = tr.state()
    assert s["warming_up"] is False and s["drift"] == pytest.approx(0.0, abs=1e-12)
    _run(world, tr, [0] * 20)
    s = tr.state()
    assert s["n_updates"] == 24 and s["guard"] == "balanced"
    assert s["drift"] > 0.05 and s["class_spread"] > 0.05


def test_warm_up_is_the_running_riemannian_mean(rng: np.random.Generator) -> None:
    from pyriemann.geometry.mean import mean_riemann

    world = _World(rng)
    C = np.stack([world.window(i % 2) for i in range(2)])
    tr = ReferenceTracker("none", n_init=8)
    tr.update(C)
    # two points: the step-1/2 geodesic point is their Riemannian mean exactly
    np.testing.assert_allclose(tr.reference_, mean_riemann(C), atol=1e-8)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(DecoderError, match=r"Unknown adaptation guard 'x'\. Must be one of: none"):
        ReferenceTracker("x")
    with pytest.raises(SignalError, match=r"alpha must be in \(0, 1\], got 0"):
        ReferenceTracker(alpha=0)
    tr = ReferenceTracker("balanced", n_init=1)
    eye = np.eye(3)[None]
    with pytest.raises(SignalError, match=r"proba must have shape \(1, 2\) .* got \(1, 3\)"):
        tr.update(eye, np.ones((1, 3)) / 3)
    tr.update(eye)  # the warm-up needs no probabilities
    with pytest.raises(SignalError, match="'balanced' guard needs the decoder's probabilities"):
        tr.update(eye)
    with pytest.raises(SignalError, match="covs holds NaN"):
        tr.update(np.full((1, 3, 3), np.nan), np.ones((1, 2)) / 2)
    assert tr.n_updates_ == 1  # nothing half-applied
    with pytest.raises(SignalError, match="horizon_s and update_s must be > 0"):
        alpha_for_horizon(0, 1)
    assert alpha_for_horizon(60, 0.5) == pytest.approx(0.5 / 60)


def test_refit_with_trials_adds_source_trials(rng: np.random.Generator) -> None:
    from sklearn.linear_model import LogisticRegression

    Xs = rng.standard_normal((40, 3)) + np.repeat([[1, 0, 0], [-1, 0, 0]], 20, axis=0)
    ys = np.repeat(["left", "right"], 20)
    Xt = rng.standard_normal((4, 3)) + np.repeat([[0, 2, 0], [0, -2, 0]], 2, axis=0)
    yt = np.array(["left", "left", "right", "right"])
    base = LogisticRegression()
    alone = refit_with_trials(base, Xt, yt)
    both = refit_with_trials(base, Xt, yt, source=(Xs, ys))
    assert not hasattr(base, "coef_")  # the estimator in use is untouched
    assert abs(both.coef_[0, 0]) > abs(alone.coef_[0, 0])  # the sources' axis is learnt
    with pytest.raises(DecoderError, match=r"at least two classes, got \['left'\]"):
        refit_with_trials(base, Xt[:2], yt[:2])


def test_balanced_refit_weighs_each_class_the_same(rng: np.random.Generator) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = rng.standard_normal((16, 3)) + np.r_[np.zeros((11, 3)), np.full((5, 3), 0.5)]
    y = np.array(["left"] * 11 + ["right"] * 5)
    base = make_pipeline(StandardScaler(), LogisticRegression())
    plain = refit_with_trials(base, X, y)
    balanced = refit_with_trials(base, X, y, balance=True)
    ref = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced")).fit(X, y)
    np.testing.assert_allclose(balanced[-1].coef_, ref[-1].coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(balanced[-1].intercept_, ref[-1].intercept_, rtol=1e-6)
    # the unweighted refit leans to the class labelled 11 times
    assert plain.predict_proba(X)[:, 0].mean() > balanced.predict_proba(X)[:, 0].mean()
    # with sources, only the session's trials are re-weighted (the sources weigh 1 each)
    Xs, ys = rng.standard_normal((40, 3)), np.repeat(["left", "right"], 20)
    both = refit_with_trials(base, X, y, source=(Xs, ys), balance=True)
    w = np.r_[np.ones(40), np.where(y == "left", 16 / 22, 16 / 10)]
    ref = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        np.r_[Xs, X], np.r_[ys, y], logisticregression__sample_weight=w
    )
    np.testing.assert_allclose(both[-1].coef_, ref[-1].coef_, rtol=1e-6, atol=1e-8)


def test_labels_in_blocks_flags_a_block_design_not_a_random_order() -> None:
    blocks = ["left"] * 11 + ["right"] * 11 + ["left"] * 11 + ["right"] * 11
    for n in (13, 22, 44):  # from the second block's first trials on
        why = labels_in_blocks(blocks[:n])
        assert why is not None and f"the {n} labelled trials came in blocks" in why
    assert "4 runs of one class, 23.0 expected" in labels_in_blocks(blocks)
    assert labels_in_blocks(["left", "right"] * 10) is None  # alternating: too many runs
    assert labels_in_blocks(["left"] * 10) is None  # one class: nothing to refit anyway
    assert labels_in_blocks(blocks[:3]) is None  # too few to say
    # a random balanced order (what calibration cues use) is flagged about 1% of the time
    rng = np.random.default_rng(0)
    flagged = sum(
        labels_in_blocks(rng.permutation(["left", "right"] * 20)) is not None for _ in range(2000)
    )
    assert flagged < 60, flagged


def _epochs(rng: np.random.Generator, n: int, mix: np.ndarray, n_t: int = 200) -> tuple:
    """Two classes: channel 0 1.5x as strong for 'right'; every window mixed by ``mix``."""
    X = rng.standard_normal((n, N_CH, n_t))
    y = np.array(["left", "right"] * (n // 2))
    X[y == "right", 0] *= 1.5
    return mix @ X, y


def test_adaptive_decoder_recovers_a_shifted_session(rng: np.random.Generator) -> None:
    from bci.decoders import make_pipeline
    from bci.decoders.adaptation import AdaptiveDecoder

    Xs, ys = _epochs(rng, 80, np.eye(N_CH))
    pipe = make_pipeline("ts-lr", recentering=True).fit(Xs, ys)
    # the new session: another mixing, and channel 0 60% stronger for every class
    A = expm(_sym(rng, 0.3))
    A[0] *= 1.6
    Xt, yt = _epochs(rng, 120, A)
    static = np.mean(pipe.predict(Xt)[60:] == yt[60:])  # re-centred by the training reference
    dec = AdaptiveDecoder(pipe, ReferenceTracker("balanced", alpha=0.1, n_init=8), update_every=1)
    adaptive = np.mean(dec.predict(Xt)[60:] == yt[60:])
    assert static < 0.6  # everything looks like 'right'
    assert adaptive > 0.85, (static, adaptive)
    assert dec.state()["n_windows"] == 120 and dec.state()["n_updates"] == 120
    # the pipeline in use is not modified; a snapshot carries the tracked reference
    assert np.allclose(
        pipe.named_steps["recenter"].reference_,
        Recentering().fit(pipe.named_steps["cov"].transform(Xs)).reference_,
    )
    snap = dec.snapshot()
    np.testing.assert_allclose(snap.named_steps["recenter"].reference_, dec.tracker.reference_)


def test_adaptive_decoder_needs_a_recentering_step(rng: np.random.Generator) -> None:
    from bci.decoders import make_pipeline
    from bci.decoders.adaptation import AdaptiveDecoder

    Xs, ys = _epochs(rng, 20, np.eye(N_CH))
    pipe = make_pipeline("ts-lr").fit(Xs, ys)
    with pytest.raises(DecoderError, match=r"needs a pipeline with a Recentering step .*'cov'"):
        AdaptiveDecoder(pipe, ReferenceTracker())


def test_fast_path_gives_the_sklearn_steps_numbers(rng: np.random.Generator) -> None:
    from bci.decoders import make_pipeline
    from bci.decoders.adaptation import AdaptiveDecoder

    Xs, ys = _epochs(rng, 40, np.eye(N_CH))
    pipe = make_pipeline("ts-lr", recentering=True).fit(Xs, ys)
    Xt, _ = _epochs(rng, 40, expm(_sym(rng, 0.3)))
    runs = {}
    for fast in (True, False):
        dec = AdaptiveDecoder(
            pipe, ReferenceTracker("weighted", alpha=0.1, n_init=4), 3, use_fast=fast
        )
        P = np.concatenate([dec.predict_proba(Xt[i : i + 3]) for i in range(0, 40, 3)])
        runs[fast] = (P, dec.tracker.reference_, dec._fast)
    np.testing.assert_allclose(runs[True][0], runs[False][0], atol=1e-9)
    np.testing.assert_allclose(runs[True][1], runs[False][1], atol=1e-9)
    assert runs[True][2][1] is not None and runs[False][2][1] is None  # both paths were used


def test_deferred_updates_accepting_every_window_equal_in_call_updates(
    rng: np.random.Generator,
) -> None:
    from bci.decoders import make_pipeline
    from bci.decoders.adaptation import AdaptiveDecoder

    Xs, ys = _epochs(rng, 40, np.eye(N_CH))
    pipe = make_pipeline("ts-lr", recentering=True).fit(Xs, ys)
    Xt, _ = _epochs(rng, 30, expm(_sym(rng, 0.3)))
    runs = {}
    for defer in (False, True):
        dec = AdaptiveDecoder(
            pipe, ReferenceTracker("weighted", alpha=0.1, n_init=4), 3, defer_updates=defer
        )
        P = []
        for x in Xt:  # one window per call, as a session decides
            P.append(dec.predict_proba(x[None])[0])
            if defer:
                assert dec.tracker.n_updates_ == dec.n_accepted_ // 3 + (dec.n_accepted_ % 3 > 0)
                dec.accept(0)
        runs[defer] = (np.array(P), dec.tracker.reference_, dec.tracker.n_updates_)
    np.testing.assert_allclose(runs[True][0], runs[False][0], atol=1e-9)
    np.testing.assert_allclose(runs[True][1], runs[False][1], atol=1e-9)
    assert runs[True][2] == runs[False][2] == 10


def test_deferred_updates_skip_windows_not_accepted(rng: np.random.Generator) -> None:
    from bci.decoders import make_pipeline
    from bci.decoders.adaptation import AdaptiveDecoder

    Xs, ys = _epochs(rng, 40, np.eye(N_CH))
    pipe = make_pipeline("ts-lr", recentering=True).fit(Xs, ys)
    Xt, _ = _epochs(rng, 20, expm(_sym(rng, 0.3)))
    dec = AdaptiveDecoder(pipe, ReferenceTracker("none", n_init=50), 1, defer_updates=True)
    dec.predict_proba(Xt[:4])
    assert dec.tracker.reference_ is None  # nothing accepted: no reference yet
    for k in (0, 2):
        assert dec.accept(k)
    assert not dec.accept(7)  # not a window of the last call
    dec.predict_proba(Xt[4:6])
    assert dec.accept(1)
    # the warm-up running mean of exactly the accepted windows
    alone = ReferenceTracker("none", n_init=50)
    alone.update(pipe.named_steps["cov"].transform(Xt[[0, 2, 5]]))
    np.testing.assert_allclose(dec.tracker.reference_, alone.reference_, atol=1e-12)
    assert dec.n_accepted_ == 3 and dec.n_windows_ == 6
