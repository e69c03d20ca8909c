"""Online adaptation: track a session's reference covariance without labels; refit with labels.

A decoder trained on re-centred covariances (each training subject or session whitened by its
own Riemannian mean, Zanini et al. 2018) needs the new session's own mean ``R`` to whiten
its windows. :class:`ReferenceTracker` estimates ``R`` from the session's windows as they are
decoded, with a forgetting factor: each update moves ``R`` along the geodesic towards the new
covariance, ``R <- R^1/2 (R^-1/2 C R^-1/2)^alpha R^1/2`` (Kumar et al. 2019;
:meth:`bci.decoders.Recentering.partial_fit` does the step).

The trap (pyRiemann issue 490): the unlabelled mean of a buffer is pulled towards whichever
class dominates it. A long run of one class then rotates the target instead of correcting it,
and re-centring can score worse than not adapting at all. The guards, by name:

``none``
    One running mean of every window (the naive tracker, for comparison).
``slow``
    The same with a ``slow_factor`` times longer horizon: a run of one class must last
    longer to pull the mean as far.
``balanced``
    One running mean per *predicted* class; the reference is the Riemannian mean (for two
    classes the geodesic midpoint) of the class means, so a run of one class moves only its
    own mean and the reference by half as much, and a class mean left alone is remembered.
``weighted``
    The soft version of ``balanced``: every class mean moves towards each window with a step
    ``alpha * p_k`` weighted by the window's predicted probability of that class.

Which guard a session uses by default was decided by measurement, see :data:`DEFAULT_GUARD`.

Supervised adaptation (:func:`refit_with_trials`) adds the session's labelled trials to the
training data and refits the pipeline; the online stage runs it off the decoding thread and
stores every refit as a new model version.
"""

# Long module: the tracker, the decoder that decides with its reference and feeds it (in-call
# or deferred until a window is accepted) and the supervised refit are one algorithm whose
# parts share the reference's conventions; split, each would reach into the others' state.

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from bci.decoders.recentering import Recentering, _check_covariances
from bci.errors import DecoderError, SignalError

__all__ = [
    "DEFAULT_GUARD",
    "GUARDS",
    "AdaptiveDecoder",
    "ReferenceTracker",
    "alpha_for_horizon",
    "inv_sqrt",
    "labels_in_blocks",
    "refit_with_trials",
    "riemann_distance",
]

logger = logging.getLogger(__name__)

#: Guard names, in the order reports list them.
GUARDS = ("none", "slow", "balanced", "weighted")

#: The guard sessions use unless told otherwise. Chosen by measurement: on synthetic SPD
#: data with a long run of one class, ``balanced`` and ``weighted`` keep the reference near the
#: truth where ``none`` walks to the class mean (tests/decoders/test_adaptation.py). On
#: eegmmidb S001-S010 replayed with long runs of one class (bench/results/adaptation_*.txt),
#: the hard class split of ``balanced`` helps nothing (cross-subject predictions are too
#: uncertain to split windows by class), while ``weighted`` and ``slow`` lose the least to
#: the runs (all-trials ROC-AUC vs ``none``: +0.002 / +0.006 at a 60 s horizon, +0.009 /
#: +0.013 at 20 s); in time order all guards tie (within 0.005). ``weighted`` is chosen: it
#: acts like ``slow`` while predictions are unsure and like ``balanced`` once they are sure.
DEFAULT_GUARD = "weighted"


def alpha_for_horizon(horizon_s: float, update_s: float) -> float:
    """Geodesic step that forgets with time constant ``horizon_s`` at one update per ``update_s``.

    After ``n`` updates an old window weighs ``(1 - alpha)^n ~ exp(-n alpha)``, so
    ``alpha = update_s / horizon_s`` forgets a window ``horizon_s`` seconds old by ``1/e``.
    """
    if not horizon_s > 0 or not update_s > 0:
        raise SignalError(
            f"horizon_s and update_s must be > 0, got horizon_s={horizon_s}, update_s={update_s}"
        )
    return float(min(1.0, update_s / horizon_s))


def riemann_distance(A: np.ndarray, B: np.ndarray) -> float:
    """Affine-invariant Riemannian distance ``||log(A^-1/2 B A^-1/2)||_F``."""
    from scipy.linalg import eigvalsh

    w = eigvalsh(B, A)  # generalised eigenvalues of (B, A) = eigenvalues of A^-1 B
    return float(np.sqrt(np.sum(np.log(w) ** 2)))


def _mean_of(means: list[np.ndarray]) -> np.ndarray:
    """Riemannian mean of class means; for two, the geodesic midpoint (closed form)."""
    from pyriemann.geometry.mean import geodesic_riemann, mean_riemann

    if len(means) == 2:
        return np.asarray(geodesic_riemann(means[0], means[1], 0.5))
    return np.asarray(mean_riemann(np.stack(means)))


class ReferenceTracker:
    """Unlabelled running estimate of a session's reference covariance.

    Parameters
    ----------
    guard : {"none", "slow", "balanced", "weighted"}
        How class imbalance is kept out of the reference (see the module docstring).
    alpha : float in (0, 1]
        Geodesic step per update after the warm-up (the forgetting factor); see
        :func:`alpha_for_horizon`.
    n_init : int
        Warm-up updates: the reference is the running Riemannian mean of every window so far
        (step ``1 / n``, no forgetting, no class split) until ``n_init`` updates are done.
    n_classes : int
        Number of classes of the decoder's probabilities (``balanced`` / ``weighted``).
    slow_factor : float
        How many times longer the ``slow`` guard's horizon is.

    Attributes
    ----------
    reference_ : ndarray, shape (n_channels, n_channels)
        The current reference (after the first update).
    n_updates_ : int
        Windows seen.
    initial_ : ndarray, shape (n_channels, n_channels)
        The reference at the end of the warm-up; :meth:`state` reports the drift from it.
    """

    def __init__(
        self,
        guard: str = DEFAULT_GUARD,
        alpha: float = 0.02,
        n_init: int = 16,
        n_classes: int = 2,
        slow_factor: float = 4.0,
    ) -> None:
        if guard not in GUARDS:
            raise DecoderError(
                f"Unknown adaptation guard {guard!r}. Must be one of: {', '.join(GUARDS)}"
            )
        if not 0.0 < alpha <= 1.0:
            raise SignalError(f"alpha must be in (0, 1], got {alpha}")
        if int(n_init) < 1:
            raise SignalError(f"n_init must be >= 1, got {n_init}")
        if int(n_classes) < 2:
            raise SignalError(f"n_classes must be >= 2, got {n_classes}")
        if not slow_factor >= 1.0:
            raise SignalError(f"slow_factor must be >= 1, got {slow_factor}")
        self.guard = guard
        self.alpha = float(alpha)
        self.n_init = int(n_init)
        self.n_classes = int(n_classes)
        self.slow_factor = float(slow_factor)
        self.n_updates_ = 0
        self._pooled = Recentering()
        self._class: list[Recentering] = []
        self.reference_: np.ndarray | None = None
        self.initial_: np.ndarray | None = None

    @property
    def warming_up(self) -> bool:
        """True until ``n_init`` windows have been seen."""
        return self.n_updates_ < self.n_init

    def update(self, covs: Any, proba: Any = None) -> np.ndarray:
        """Move the reference towards new window covariances, in order.

        Parameters
        ----------
        covs : ndarray, shape (n_windows, n_channels, n_channels)
            SPD covariances of the windows (the decoder's own covariance estimate).
        proba : ndarray, shape (n_windows, n_classes), optional
            The decoder's probabilities for the same windows; required by the ``balanced``
            and ``weighted`` guards after the warm-up.

        Returns
        -------
        reference : ndarray, shape (n_channels, n_channels)
        """
        C = _check_covariances(covs, "covs")
        P = None
        if proba is not None:
            P = np.asarray(proba, dtype=np.float64)
            if P.shape != (C.shape[0], self.n_classes):
                raise SignalError(
                    f"proba must have shape ({C.shape[0]}, {self.n_classes}) for "
                    f"{C.shape[0]} covariance(s), got {P.shape}"
                )
        elif self.guard in ("balanced", "weighted") and C.shape[0] + self.n_updates_ > self.n_init:
            raise SignalError(
                f"The {self.guard!r} guard needs the decoder's probabilities (proba) of "
                "every window after the warm-up"
            )
        for i, c in enumerate(C):
            self._update_one(c, None if P is None else P[i])
        assert self.reference_ is not None
        return self.reference_

    def _update_one(self, c: np.ndarray, p: np.ndarray | None) -> None:
        c = c[None]
        if self.warming_up:
            # the incremental Riemannian mean: step 1/n gives every window equal weight
            self._pooled.partial_fit(c, alpha=1.0 / (self.n_updates_ + 1))
            self.n_updates_ += 1
            self.reference_ = self._pooled.reference_
            if not self.warming_up:
                self.initial_ = self.reference_.copy()
                self._class = []
                for _ in range(self.n_classes):
                    r = Recentering()
                    r.reference_, r.n_channels_ = self.reference_.copy(), self._pooled.n_channels_
                    self._class.append(r)
            return
        self.n_updates_ += 1
        if self.guard == "none":
            self.reference_ = self._pooled.partial_fit(c, alpha=self.alpha).reference_
        elif self.guard == "slow":
            step = self.alpha / self.slow_factor
            self.reference_ = self._pooled.partial_fit(c, alpha=step).reference_
        else:
            assert p is not None
            if self.guard == "balanced":
                self._class[int(np.argmax(p))].partial_fit(c, alpha=self.alpha)
            else:
                for k, pk in enumerate(p):
                    if self.alpha * pk > 1e-6:
                        self._class[k].partial_fit(c, alpha=float(self.alpha * pk))
            self.reference_ = _mean_of([r.reference_ for r in self._class])

    def state(self) -> dict[str, Any]:
        """JSON-ready state: guard, updates, drift from the warm-up reference, class spread.

        ``drift`` is the Riemannian distance from the reference at the end of the warm-up to
        the current one; ``class_spread`` (balanced/weighted) the distance between the first
        two class means.
        """
        out: dict[str, Any] = {
            "guard": self.guard,
            "alpha": self.alpha,
            "n_updates": int(self.n_updates_),
            "warming_up": self.warming_up,
            "drift": None,
            "class_spread": None,
        }
        if self.initial_ is not None and self.reference_ is not None:
            out["drift"] = riemann_distance(self.initial_, self.reference_)
        if len(self._class) >= 2 and self.guard in ("balanced", "weighted"):
            out["class_spread"] = riemann_distance(
                self._class[0].reference_, self._class[1].reference_
            )
        return out


def refit_with_trials(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    source: tuple[np.ndarray, np.ndarray] | None = None,
    source_weight: float = 1.0,
    balance: bool = False,
) -> Any:
    """Refit a clone of a pipeline on a session's labelled trials (plus source trials).

    Parameters
    ----------
    estimator : sklearn estimator
        The pipeline to refit (cloned; the one in use is not touched).
    X : ndarray, shape (n_trials, ...)
        The session's labelled trials, in the representation ``estimator`` takes.
    y : ndarray, shape (n_trials,)
    source : (X_source, y_source), optional
        Training data the model started from (e.g. re-centred source subjects); refitting on
        both keeps a few new trials from overriding the population.
    source_weight : float
        Weight of each source trial relative to a session trial (needs an estimator whose
        last step takes ``sample_weight``).
    balance : bool
        Weight the session's trials so that every class of them weighs the same in total
        (``n / (n_classes * n_class)`` each, as scikit-learn's ``class_weight="balanced"``):
        a session that labelled eleven trials of one class and five of the other does not
        get a decision pulled towards the first (needs ``sample_weight`` too).

    Returns
    -------
    fitted : sklearn estimator

    Raises
    ------
    DecoderError
        Fewer than two classes among the trials.
    """
    from sklearn.base import clone

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise DecoderError(f"X has {X.shape[0]} trials but y has {y.shape[0]} labels")
    weights = np.ones(len(y))
    if balance:
        _, inv, counts = np.unique(y, return_inverse=True, return_counts=True)
        weights = len(y) / (len(counts) * counts[inv])
    if source is not None:
        Xs, ys = np.asarray(source[0], dtype=np.float64), np.asarray(source[1])
        weights = np.r_[np.full(len(ys), float(source_weight)), weights]
        X, y = np.concatenate([Xs, X]), np.concatenate([ys, y])
    if len(np.unique(y)) < 2:
        raise DecoderError(
            f"A refit needs trials of at least two classes, got {sorted(set(y.tolist()))}"
        )
    est = clone(estimator)
    if balance or (source is not None and source_weight != 1.0):
        last = est.steps[-1][0] if hasattr(est, "steps") else None
        kw = {f"{last}__sample_weight" if last else "sample_weight": weights}
        return est.fit(X, y, **kw)
    return est.fit(X, y)


#: Significance of the runs test in :func:`labels_in_blocks` (one-sided; conventional, not tuned).
BLOCKS_ALPHA = 0.01


def labels_in_blocks(labels: Any, alpha: float = BLOCKS_ALPHA) -> str | None:
    """Say whether a session's labelled trials came in blocks of one class (else None).

    Supervised refits on trials labelled in blocks (eleven left, then eleven right, ...)
    can learn what changes slowly in a recording (electrode impedance, fatigue) as the
    class: every recent trial they saw belongs to the current block's class, so the next
    block is decided as the previous one. Replayed that way, eegmmidb S001-S010's refits
    scored 0.51 in the later half against 0.69 without them (README, "Online adaptation
    across subjects").

    The test is Wald and Wolfowitz's runs test on the class sequence in time order, one
    sided (too few runs), normal approximation; two classes only (with more, the classes
    are compared as "the most frequent" vs "the rest").

    Returns
    -------
    reason : str or None
        Why the labels look blocked (runs observed vs expected, p-value), or None.
    """
    from scipy.stats import norm

    seq = [str(v) for v in labels]
    if len(seq) < 4:
        return None
    first = max(set(seq), key=seq.count)
    b = np.array([v == first for v in seq])
    n1, n2 = int(b.sum()), int((~b).sum())
    if n1 == 0 or n2 == 0:
        return None
    n = n1 + n2
    runs = 1 + int(np.count_nonzero(b[1:] != b[:-1]))
    mean = 2.0 * n1 * n2 / n + 1.0
    var = 2.0 * n1 * n2 * (2.0 * n1 * n2 - n) / (n * n * (n - 1.0))
    if var <= 0:
        return None
    p = float(norm.cdf((runs - mean) / np.sqrt(var)))
    if p >= alpha:
        return None
    return (
        f"the {n} labelled trials came in blocks of one class ({runs} runs of one class, "
        f"{mean:.1f} expected for this many trials in random order, p = {p:.2g}): a refit "
        "could learn the recording's slow changes as the class; refits wait until cues are "
        "interleaved (the reference keeps adapting without labels)"
    )


def inv_sqrt(R: np.ndarray) -> np.ndarray:
    """``R^-1/2`` of an SPD matrix."""
    w, V = np.linalg.eigh(R)
    return np.asarray((V / np.sqrt(w)) @ V.T)


class AdaptiveDecoder:
    """A re-centring pipeline whose reference follows the session: decide, then update.

    Wraps a fitted pipeline ``covariances -> Recentering -> ... -> classifier`` (a pipeline
    built with ``recentering=True``, or a population model). Each window is decided with the
    tracker's reference as it stands (the first window of a session seeds it), then every
    ``update_every``-th window moves the reference (the ``balanced`` and ``weighted`` guards
    use the probabilities just computed). Windows must come in stream order, which is how the
    online engine calls :meth:`predict_proba`; the fitted pipeline is never modified.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted, with a :class:`~bci.decoders.recentering.Recentering` step.
    tracker : ReferenceTracker
    update_every : int
        Update the reference from one decided window in this many (with decisions every
        1/16 s, 8 means one update per 0.5 s of stream).
    freeze_after_warmup : bool
        Stop updating once the warm-up is over (the "no adaptation" control: re-centred by the
        session's first windows only).
    keep_covs : bool
        Keep every window's covariance of the last call in ``last_covs_`` (the supervised
        stage needs them; otherwise only updated windows' covariances are computed).
    use_fast : bool
        Decide with :func:`bci.decoders.fast.compile_pipeline`'s numpy path, recompiled at
        each reference update (about 10x cheaper per window than the sklearn steps); falls
        back to the sklearn steps when a step does not compile.
    defer_updates : bool
        Do not update inside :meth:`predict_proba`: the windows of the last call wait for
        :meth:`accept`, and only accepted windows seed, count towards ``update_every`` and
        move the reference (an online session accepts a window once its decision has passed
        the quality gate, so a flat or saturated window never moves it). The windows of one
        call are then all decided with the reference as it stood at the call.

    Attributes
    ----------
    classes_ : ndarray
    n_windows_ : int
        Windows decided.
    n_calls_ : int
        Calls of :meth:`predict_proba`.
    n_accepted_ : int
        With ``defer_updates``: windows accepted (:meth:`accept`).
    last_covs_ : ndarray, shape (n_windows, n_channels, n_channels)
        With ``keep_covs``: covariances of the windows of the last call (before
        re-centring), in order; empty otherwise.
    """

    #: Holds one session's state: never shared by sessions in a batched decoder call.
    per_session = True

    def __init__(
        self,
        pipeline: Any,
        tracker: ReferenceTracker,
        update_every: int = 8,
        freeze_after_warmup: bool = False,
        keep_covs: bool = False,
        use_fast: bool = True,
        defer_updates: bool = False,
    ) -> None:
        steps = list(getattr(pipeline, "steps", []))
        where = [i for i, (_, st) in enumerate(steps) if isinstance(st, Recentering)]
        if not where:
            raise DecoderError(
                "Online re-centring needs a pipeline with a Recentering step (built with "
                f"recentering=True); this one has steps {[n for n, _ in steps]}"
            )
        if int(update_every) < 1:
            raise SignalError(f"update_every must be >= 1, got {update_every}")
        self.pipeline = pipeline
        self._at = where[0]
        self._rec: Recentering = steps[self._at][1]
        self._head = pipeline[: self._at]
        self._tail = pipeline[self._at + 1 :]
        self.tracker = tracker
        self.update_every = int(update_every)
        self.freeze_after_warmup = bool(freeze_after_warmup)
        self.classes_ = np.asarray(pipeline.classes_)
        self.n_windows_ = 0
        self.n_calls_ = 0
        self.last_covs_: np.ndarray = np.empty((0, 0, 0))
        self.keep_covs = bool(keep_covs)
        self.use_fast = bool(use_fast)
        self.defer_updates = bool(defer_updates)
        self.n_accepted_ = 0
        # defer_updates: the last call's windows and probabilities, until accepted
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        self._isqrt: tuple[int, np.ndarray] | None = None
        self._fast: tuple[int, Any] | None = None

    def _whiten(self, c: np.ndarray, R: np.ndarray | None = None) -> np.ndarray:
        """``c`` whitened by the tracked reference (or by ``R``, not cached)."""
        if R is None:
            R = self.tracker.reference_
            assert R is not None
            key = id(R)  # the tracker makes a new array at every update
            if self._isqrt is None or self._isqrt[0] != key:
                self._isqrt = (key, inv_sqrt(R))
            isqrt = self._isqrt[1]
        else:
            isqrt = inv_sqrt(R)
        out = isqrt @ c @ isqrt
        return np.asarray((out + out.T) / 2.0)

    def _with_reference(self) -> Any:
        """The pipeline with its Recentering step holding the current reference (a copy)."""
        from sklearn.pipeline import Pipeline

        rec = Recentering(metric=self._rec.metric)
        rec.reference_, rec.n_channels_ = self.tracker.reference_, self._rec.n_channels_
        steps = list(self.pipeline.steps)
        steps[self._at] = (steps[self._at][0], rec)
        return Pipeline(steps)

    def _fast_decoder(self) -> Any:
        """The compiled pipeline for the current reference (recompiled after each update)."""
        key = id(self.tracker.reference_)
        if self._fast is not None and self._fast[0] == key:
            return self._fast[1]
        fast = None
        if self.use_fast:
            from bci.decoders.fast import compile_pipeline

            try:
                fast = compile_pipeline(self._with_reference())
            except DecoderError as exc:  # an unsupported step: the sklearn steps, same numbers
                logger.info("adaptive decoder: no fast path (%s)", exc)
                self.use_fast = False
        self._fast = (key, fast)
        return fast

    def _cov(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._head.transform(x[None]))[0]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Decide each window in order, updating the reference as configured.

        Parameters
        ----------
        X : ndarray, shape (n_windows, n_channels, n_times)
            Band-passed windows in stream order.

        Returns
        -------
        proba : ndarray, shape (n_windows, n_classes)
        """
        X = np.asarray(X, dtype=np.float64)
        covs = np.asarray(self._head.transform(X)) if self.keep_covs else None
        self.n_calls_ += 1
        self.last_covs_ = covs if covs is not None else np.empty((0, 0, 0))
        out = np.empty((len(X), len(self.classes_)))
        if self.defer_updates:
            self._last = None
            for i, x in enumerate(X):
                c = covs[i] if covs is not None else None
                out[i] = self._decide(x, c)
            self.n_windows_ += len(X)
            self._last = (X, out)
            return out
        for i, x in enumerate(X):
            c = covs[i] if covs is not None else None
            seeded = False
            if self.tracker.reference_ is None:
                c = self._cov(x) if c is None else c
                self.tracker.update(c[None])
                seeded = True
            fast = self._fast_decoder()
            if fast is not None:
                p = np.asarray(fast.predict_proba(x[None]))[0]
            else:
                c = self._cov(x) if c is None else c
                p = np.asarray(self._tail.predict_proba(self._whiten(c)[None]))[0]
            out[i] = p
            self.n_windows_ += 1
            due = (self.n_windows_ - 1) % self.update_every == 0
            frozen = self.freeze_after_warmup and not self.tracker.warming_up
            if due and not seeded and not frozen:
                c = self._cov(x) if c is None else c
                self.tracker.update(c[None], p[None])
        return out

    def _decide(self, x: np.ndarray, c: np.ndarray | None) -> np.ndarray:
        """Probabilities of one window with the reference as it stands, which is not moved.

        Before any window was accepted there is no reference: the window is whitened by its
        own covariance, the decision a window seeding the reference gets in-call.
        """
        if self.tracker.reference_ is None:
            c = self._cov(x) if c is None else c
            p = self._tail.predict_proba(self._whiten(c, c)[None])
        elif (fast := self._fast_decoder()) is not None:
            p = fast.predict_proba(x[None])
        else:
            c = self._cov(x) if c is None else c
            p = self._tail.predict_proba(self._whiten(c)[None])
        return np.asarray(p[0])

    def accept(self, k: int) -> bool:
        """Let window ``k`` of the last :meth:`predict_proba` call count (``defer_updates``).

        The first accepted window seeds the reference; then every ``update_every``-th
        accepted window moves it, with the probabilities it was decided with. Call it at
        most once per window, in order.

        Returns
        -------
        updated : bool
            Whether the reference changed (False also when the window is no longer held:
            a later call replaced the last one).
        """
        if self._last is None or not 0 <= k < len(self._last[0]):
            return False
        X, proba = self._last
        self.n_accepted_ += 1
        frozen = self.freeze_after_warmup and not self.tracker.warming_up
        due = (self.n_accepted_ - 1) % self.update_every == 0
        seeding = self.tracker.reference_ is None
        if not seeding and (frozen or not due):
            return False
        c = self.last_covs_[k] if len(self.last_covs_) > k else self._cov(X[k])
        self.tracker.update(c[None], None if seeding else proba[k][None])
        return True

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of each window (updates the reference like predict_proba)."""
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])

    def snapshot(self) -> Any:
        """A plain fitted pipeline re-centred by the current reference (storable, static)."""
        import copy

        pipe = copy.deepcopy(self.pipeline)
        for _, st in pipe.steps:
            if isinstance(st, Recentering) and self.tracker.reference_ is not None:
                st.reference_ = self.tracker.reference_.copy()
        return pipe

    def state(self) -> dict[str, Any]:
        """The tracker's :meth:`ReferenceTracker.state` plus windows decided and the stride."""
        return {
            **self.tracker.state(),
            "n_windows": int(self.n_windows_),
            "update_every": self.update_every,
            "frozen": self.freeze_after_warmup and not self.tracker.warming_up,
            **({"n_accepted": int(self.n_accepted_)} if self.defer_updates else {}),
        }
