"""Fast decode path: a fitted scikit-learn/pyRiemann pipeline compiled to plain numpy.

The online engine decodes one window at a time, many times a second, for many sessions. The
pyRiemann/scikit-learn objects spend most of that time validating input and looping in Python;
:func:`compile_pipeline` reads the fitted parameters once and returns a :class:`FastPipeline`
that applies the same mathematics with a few batched numpy calls, giving the same probabilities
(max abs difference well below 1e-9 on float64 input). Every named pipeline of
:mod:`bci.decoders.pipelines` compiles.

Supported steps (exact classes; subclasses fall back to the sklearn path):

- ``pyriemann.estimation.Covariances`` with estimator ``"scm"``, ``"cov"``, ``"oas"``, ``"lwf"``
  (keyword ``assume_centered`` for scm/oas/lwf, ``block_size`` for lwf);
- ``bci.decoders.Recentering`` (``C -> R^-1/2 C R^-1/2``) and
  ``bci.decoders.FilterBankTangentSpace``;
- ``pyriemann.tangentspace.TangentSpace`` (map metric ``"riemann"``, ``tsupdate=False``) and
  ``pyriemann.tangentspace.FGDA`` (and ``bci.decoders.fgda.CholeskyFGDA``);
- ``mne.decoding.CSP`` (``transform_into="average_power"``);
- ``sklearn.preprocessing.StandardScaler``;
- classifiers ``sklearn.linear_model.LogisticRegression`` (binary, multinomial, one-vs-rest),
  ``sklearn.discriminant_analysis.LinearDiscriminantAnalysis``,
  ``pyriemann.classification.MDM`` and ``FgMDM`` (distance metric ``"riemann"``; also
  ``bci.decoders.fgda.CholeskyFgMDM``), and
  ``sklearn.calibration.CalibratedClassifierCV`` (``method="sigmoid"``) around a linear
  ``SVC``, ``LinearSVC``, ``LogisticRegression`` or LDA.

Anything else raises :class:`~bci.errors.DecoderError` naming the step; :func:`fast_or_slow`
turns that into a thin wrapper around the sklearn pipeline with the same interface, so callers
never branch. A bare ``sklearn.svm.SVC`` is refused: its probabilities come from libsvm's
iterative pairwise coupling, and ``probability=True`` is deprecated from scikit-learn 1.9.

A :class:`FastPipeline` is a snapshot of the fitted parameters: after refitting or adapting
the pipeline (``partial_fit``, a new recentring reference), compile it again.

The step compilers live in :mod:`bci.decoders._compile_riemann` (covariances, re-centring,
tangent space, FGDA, MDM, FgMDM, filter bank) and :mod:`bci.decoders._compile_linear` (CSP,
scaler, linear heads, Platt calibration); the stage type and input checks in
:mod:`bci.decoders._stages`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from bci.decoders._compile_linear import (
    _compile_calibrated,
    _compile_csp,
    _compile_lda,
    _compile_logistic,
    _compile_scaler,
    _compile_svc,
    _fuse_tangent_linear,
)
from bci.decoders._compile_riemann import (
    _compile_covariances,
    _compile_fgda,
    _compile_fgmdm,
    _compile_filterbank,
    _compile_mdm,
    _compile_recentering,
    _compile_tangent_space,
)
from bci.decoders._stages import (
    _PROBA,
    _WINDOWS,
    _check_epochs,
    _check_window,
    _Stage,
)
from bci.errors import (
    DecoderError,
    NotCalibratedError,
    SignalError,
)

__all__ = [
    "FastPipeline",
    "SklearnDecoder",
    "WindowDecoder",
    "compile_pipeline",
    "fast_or_slow",
]

logger = logging.getLogger(__name__)

#: Tolerance of :func:`fast_or_slow`'s self-check against the sklearn pipeline.
VERIFY_ATOL = 1e-9


@runtime_checkable
class WindowDecoder(Protocol):
    """What the online engine calls: a fast compiled pipeline or the sklearn one."""

    classes_: np.ndarray
    is_fast: bool

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...

    def predict_proba_one(self, window: np.ndarray) -> np.ndarray: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...


def _compilers() -> dict[type, Callable[[str, Any], list[_Stage]]]:
    """Exact step class -> compiler. Imports are local so a missing library only drops its row."""
    table: dict[type, Callable[[str, Any], list[_Stage]]] = {}
    from pyriemann.classification import MDM, FgMDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import FGDA, TangentSpace
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    table.update(
        {
            Covariances: _compile_covariances,
            TangentSpace: _compile_tangent_space,
            FGDA: _compile_fgda,
            MDM: _compile_mdm,
            FgMDM: _compile_fgmdm,
            LogisticRegression: _compile_logistic,
            LinearDiscriminantAnalysis: _compile_lda,
            StandardScaler: _compile_scaler,
            SVC: _compile_svc,
            CalibratedClassifierCV: _compile_calibrated,
        }
    )
    try:
        from mne.decoding import CSP

        table[CSP] = _compile_csp
    except ImportError:  # pragma: no cover - mne is a dependency
        pass
    try:
        from bci.decoders.fgda import CholeskyFGDA, CholeskyFgMDM
        from bci.decoders.filterbank import FilterBankTangentSpace
        from bci.decoders.recentering import Recentering

        table[Recentering] = _compile_recentering
        table[CholeskyFGDA] = _compile_fgda  # pyRiemann's fitted attributes, another solver
        table[CholeskyFgMDM] = _compile_fgmdm
        table[FilterBankTangentSpace] = _compile_filterbank
    except ImportError:  # pragma: no cover - both ship with bci
        pass
    return table


# --------------------------------------------------------------------------------------------
# compile


def _flatten_steps(pipeline: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, step in pipeline.steps:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        if hasattr(step, "steps"):  # nested Pipeline
            out.extend(_flatten_steps(step, prefix=f"{prefix}{name}__"))
        else:
            out.append((f"{prefix}{name}", step))
    return out


def compile_pipeline(pipeline: Any) -> FastPipeline:
    """Compile a fitted scikit-learn ``Pipeline`` into a :class:`FastPipeline`.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted on windows (n_windows, n_channels, n_times); supported steps are listed in
        this module's docstring.

    Returns
    -------
    fast : FastPipeline

    Raises
    ------
    NotCalibratedError
        A step is not fitted.
    DecoderError
        ``pipeline`` is not a Pipeline, or a step (named in the message) is not supported;
        use :func:`fast_or_slow` to fall back to the sklearn pipeline instead.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(pipeline, "steps"):
        raise DecoderError(
            f"compile_pipeline expects a fitted sklearn Pipeline, got {type(pipeline).__name__}"
        )
    steps = _flatten_steps(pipeline)
    if not steps:
        raise DecoderError("compile_pipeline got a Pipeline with no step")
    table = _compilers()
    stages: list[_Stage] = []
    for name, step in steps:
        label = f"Step {name!r} ({type(step).__module__}.{type(step).__name__})"
        compiler = table.get(type(step))
        if compiler is None:
            raise DecoderError(
                f"{label} is not supported by the fast path; supported steps: "
                f"{', '.join(sorted(t.__name__ for t in table if table[t] is not _compile_svc))}"
            )
        try:
            check_is_fitted(step)
        except NotFittedError as exc:
            raise NotCalibratedError(f"{label} is not fitted: fit the pipeline first") from exc
        try:
            stages.extend(compiler(name, step))
        except (DecoderError, SignalError):
            raise
        except (AttributeError, ValueError, TypeError, np.linalg.LinAlgError) as exc:
            raise DecoderError(f"{label} cannot be compiled: {exc}") from exc

    kind = _WINDOWS
    for stage in stages:
        if stage.kind_in != kind:
            raise DecoderError(
                f"Step {stage.name!r} expects {stage.kind_in} but receives {kind}; the fast path "
                "needs windows -> covariances or features -> probabilities"
            )
        kind = stage.kind_out
    if kind != _PROBA:
        raise DecoderError(
            f"The last step {stages[-1].name!r} outputs {kind}, not class probabilities"
        )

    n_channels_set = {s.n_channels for s in stages if s.n_channels is not None}
    if len(n_channels_set) != 1:
        raise DecoderError(
            "Cannot tell the number of channels the pipeline was fitted on "
            f"(steps disagree or none says: {sorted(n_channels_set)})"
        )
    n_channels = n_channels_set.pop()
    for prev, stage in itertools.pairwise(stages):
        if (
            prev.n_features_out is not None
            and stage.n_features_in is not None
            and prev.n_features_out != stage.n_features_in
        ):
            raise DecoderError(
                f"Step {stage.name!r} was fitted on {stage.n_features_in} features, step "
                f"{prev.name!r} produces {prev.n_features_out}"
            )
    classes = stages[-1].classes
    if classes is None:  # pragma: no cover - every head sets classes
        raise DecoderError(f"The last step {stages[-1].name!r} has no classes_")
    pipeline_classes = getattr(pipeline, "classes_", classes)
    if not np.array_equal(np.asarray(pipeline_classes), classes):
        raise DecoderError(
            f"The pipeline's classes_ {list(pipeline_classes)} differ from its last step's "
            f"{list(classes)}"
        )
    step_names = tuple(s.name for s in stages)
    return FastPipeline(_fuse(stages), classes, n_channels, step_names)


def _fuse(stages: list[_Stage]) -> list[_Stage]:
    """Merge a tangent-space stage with the linear head right after it."""
    out: list[_Stage] = []
    for stage in stages:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.parts is not None
            and "isqrt" in prev.parts
            and stage.parts is not None
            and "coef_t" in stage.parts
        ):
            out[-1] = _fuse_tangent_linear(prev, stage)
        else:
            out.append(stage)
    return out


# --------------------------------------------------------------------------------------------
# the two decoders


class FastPipeline:
    """A compiled pipeline: the same probabilities as the sklearn pipeline, in plain numpy.

    Build it with :func:`compile_pipeline`; do not instantiate directly.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        Class labels in the order of the probability columns.
    n_channels : int
        Channels the pipeline was fitted on.
    step_names : tuple of str
        The pipeline steps compiled, in order (flattened names of nested pipelines).
    is_fast : bool
        Always True (False on :class:`SklearnDecoder`).

    Notes
    -----
    Windows are converted to float64. Results equal the sklearn pipeline's given float64
    input; with float32 input pyRiemann's ``scm`` computes in float32 and the two differ by
    float32 rounding.
    """

    is_fast = True

    def __init__(
        self,
        stages: Sequence[_Stage],
        classes: np.ndarray,
        n_channels: int,
        step_names: Sequence[str] | None = None,
    ) -> None:
        self._stages = tuple(stages)
        self._funcs = tuple(s.apply for s in stages)
        self.classes_ = np.asarray(classes)
        self.n_channels = int(n_channels)
        self.step_names = tuple(step_names or (s.name for s in stages))
        self._mixing = next((s.mixing for s in stages if s.mixing is not None), None)

    def __repr__(self) -> str:
        return (
            f"FastPipeline(steps={list(self.step_names)}, n_channels={self.n_channels}, "
            f"classes={list(self.classes_)})"
        )

    def _run(self, X: np.ndarray) -> np.ndarray:
        for func in self._funcs:
            X = func(X)
        return X

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of a batch of windows.

        Parameters
        ----------
        X : ndarray, shape (n_windows, n_channels, n_times)

        Returns
        -------
        proba : ndarray, shape (n_windows, n_classes)
        """
        return self._run(_check_epochs(X, self.n_channels))

    def predict_proba_one(self, window: np.ndarray) -> np.ndarray:
        """Class probabilities of one window, with minimal overhead.

        Parameters
        ----------
        window : ndarray, shape (n_channels, n_times)

        Returns
        -------
        proba : ndarray, shape (n_classes,)
        """
        x = window
        if type(x) is not np.ndarray or x.dtype != np.float64:
            x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.n_channels or x.shape[1] < 2:
            x = _check_window(x, self.n_channels)  # raises with a precise message
        Y = x[None]
        for func in self._funcs:
            Y = func(Y)
        out: np.ndarray = Y[0]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of each window.

        Parameters
        ----------
        X : ndarray, shape (n_windows, n_channels, n_times)

        Returns
        -------
        labels : ndarray, shape (n_windows,)
        """
        labels: np.ndarray = self.classes_[self.predict_proba(X).argmax(axis=1)]
        return labels


class SklearnDecoder:
    """The sklearn pipeline behind the :class:`FastPipeline` interface (the slow fallback).

    Parameters
    ----------
    pipeline : fitted sklearn estimator with ``predict_proba``
    reason : str
        Why the fast path was not used (logged and kept for status pages).
    n_channels : int or None
        Channel count to check windows against, if known.
    """

    is_fast = False

    def __init__(self, pipeline: Any, reason: str = "", n_channels: int | None = None) -> None:
        if not hasattr(pipeline, "predict_proba"):
            raise DecoderError(
                f"{type(pipeline).__name__} has no predict_proba: a decoder must give class "
                "probabilities"
            )
        self.pipeline = pipeline
        self.reason = reason
        self.n_channels = n_channels if n_channels is not None else _guess_n_channels(pipeline)
        try:
            self.classes_ = np.asarray(pipeline.classes_)
        except AttributeError as exc:
            raise NotCalibratedError(
                f"{type(pipeline).__name__} has no classes_: fit the pipeline first"
            ) from exc

    def __repr__(self) -> str:
        return f"SklearnDecoder({self.pipeline!r}, reason={self.reason!r})"

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities from the sklearn pipeline, shape (n_windows, n_classes)."""
        return np.asarray(self.pipeline.predict_proba(_check_epochs(X, self.n_channels)))

    def predict_proba_one(self, window: np.ndarray) -> np.ndarray:
        """Class probabilities of one (n_channels, n_times) window, shape (n_classes,)."""
        x = _check_window(window, self.n_channels)
        proba: np.ndarray = np.asarray(self.pipeline.predict_proba(x[None]))[0]
        return proba

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The sklearn pipeline's ``predict``, shape (n_windows,)."""
        return np.asarray(self.pipeline.predict(_check_epochs(X, self.n_channels)))


def _guess_n_channels(pipeline: Any) -> int | None:
    """Channel count from the fitted attributes we know, or None."""
    for _, step in _flatten_steps(pipeline) if hasattr(pipeline, "steps") else []:
        for attr in ("reference_", "covmeans_", "filters_"):
            value = getattr(step, attr, None)
            if isinstance(value, np.ndarray) and value.ndim >= 2:
                return int(value.shape[-1])
    return None


def fast_or_slow(
    pipeline: Any, *, verify: bool = True, n_times: int | None = None
) -> FastPipeline | SklearnDecoder:
    """The fast compiled pipeline if possible, else the sklearn pipeline behind the same API.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted.
    verify : bool
        Check the compiled pipeline against ``pipeline`` on a few random windows and fall
        back if any probability differs by more than ``1e-9`` (guards against a library
        version whose formulas moved).
    n_times : int or None
        Window length for the check (default: ``max(4 * n_channels, 64)``).

    Returns
    -------
    decoder : FastPipeline or SklearnDecoder
        Both have ``classes_``, ``is_fast``, ``predict_proba``, ``predict_proba_one`` and
        ``predict``.

    Raises
    ------
    NotCalibratedError
        The pipeline is not fitted.
    """
    try:
        fast = compile_pipeline(pipeline)
    except NotCalibratedError:
        raise
    except DecoderError as exc:
        logger.info("Fast decode path unavailable (%s); using the sklearn pipeline", exc)
        return SklearnDecoder(pipeline, reason=str(exc))
    if verify:
        n_t = n_times or max(4 * fast.n_channels, 64)
        rng = np.random.default_rng(0)
        X = rng.standard_normal((4, fast.n_channels, n_t))
        if fast._mixing is not None:  # windows on the scale of the training data
            X = fast._mixing @ X
        try:
            diff = float(np.max(np.abs(fast.predict_proba(X) - pipeline.predict_proba(X))))
        except Exception as exc:  # the sklearn side failing is not the fast path's fault
            logger.warning("Could not verify the fast decode path (%s); using it anyway", exc)
            return fast
        if not diff <= VERIFY_ATOL:
            reason = (
                f"compiled probabilities differ from the sklearn pipeline by {diff:.3g} "
                f"(> {VERIFY_ATOL:g})"
            )
            logger.warning("Fast decode path rejected: %s; using the sklearn pipeline", reason)
            return SklearnDecoder(pipeline, reason=reason, n_channels=fast.n_channels)
    return fast
