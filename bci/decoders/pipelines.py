"""Named decoding pipelines: scikit-learn estimators on band-passed epochs.

Every pipeline takes epochs ``X`` of shape (n_epochs, n_channels, n_times), float64, already
causally band-passed in :attr:`PipelineSpec.band` (the online engine filters with
:class:`bci.signal.CausalFilter`, then windows), and string labels ``y``. The same fitted
object decodes offline epochs and live windows.

========  ==========================================================================
name      steps
========  ==========================================================================
ts-lr     covariances (OAS) -> tangent space -> logistic regression (the default)
ts-svm    covariances -> tangent space -> linear SVM (Platt-calibrated probabilities)
mdm       covariances -> minimum distance to Riemannian mean
fgmdm     covariances -> geodesic filtering (FGDA) -> MDM
csp-lda   MNE's CSP (log-variance of 6 components) -> LDA, the classic baseline
fbts-lr   filter bank 4-40 Hz (9 x 4 Hz) -> tangent space per band -> logistic regression
fbts-svm  filter bank 4-40 Hz (9 x 4 Hz) -> tangent space per band -> linear SVM
auto      nested selection among ts-lr, ts-svm, mdm, fgmdm, csp-lda (inner 3-fold CV)
ensemble  soft vote of ts-lr, ts-svm, mdm, fgmdm, csp-lda
========  ==========================================================================

The covariance estimator is a parameter of every pipeline (``cov_estimator``: ``"oas"``
default, ``"lwf"``, ``"scm"``); the Riemannian ones take ``recentering=True`` to insert a
:class:`~bci.decoders.recentering.Recentering` step after the covariances.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn.pipeline import Pipeline

from bci.decoders.covariance import COVARIANCE_ESTIMATORS
from bci.decoders.filterbank import FBCSP_BANDS
from bci.errors import DecoderError
from bci.registry import Registry

__all__ = [
    "COVARIANCE_ESTIMATORS",
    "DEFAULT_PIPELINE",
    "PipelineSpec",
    "get_pipeline",
    "make_pipeline",
    "pipeline_names",
    "register_pipeline",
]

DEFAULT_PIPELINE = "ts-lr"


@dataclass(frozen=True)
class PipelineSpec:
    """A named pipeline: what it is, which band its input needs, how to build it.

    Attributes
    ----------
    name : str
        Registry name (``"ts-lr"``).
    description : str
        One line for listings and model cards.
    band : tuple of float
        Band-pass (Hz) the input epochs must be filtered in, causally, before the pipeline.
    factory : callable
        ``factory(**params) -> sklearn.pipeline.Pipeline`` (unfitted).
    fixed_band : bool
        True when the pipeline needs exactly ``band`` (filter banks split it themselves);
        False when any motor band works, so an evaluation protocol may impose its own
        (MOABB's 8-32 Hz).
    needs_sfreq : bool
        The factory needs the sampling rate (``make_pipeline(name, sfreq=...)``).
    moabb_name : str or None
        The MOABB benchmark pipeline it corresponds to, for reference scores.
    """

    name: str
    description: str
    factory: Callable[..., Pipeline]
    band: tuple[float, float] = (8.0, 30.0)
    fixed_band: bool = False
    needs_sfreq: bool = False
    moabb_name: str | None = None

    def parameters(self) -> list[str]:
        """Names of the keyword parameters the factory accepts."""
        return [p for p in inspect.signature(self.factory).parameters if p != "sfreq"]


_REGISTRY: Registry[PipelineSpec] = Registry("pipeline")


def register_pipeline(spec: PipelineSpec) -> PipelineSpec:
    """Add a pipeline to the registry (name clashes raise ``ValueError``)."""
    return _REGISTRY.register(spec.name, spec)


def get_pipeline(name: str | PipelineSpec) -> PipelineSpec:
    """Resolve a pipeline by name; a :class:`PipelineSpec` passes through.

    Raises
    ------
    UnknownNameError
        "Unknown pipeline 'x'. Must be one of: ..."
    """
    if isinstance(name, PipelineSpec):
        return name
    return _REGISTRY.resolve(name)


def pipeline_names() -> list[str]:
    """Registered pipeline names, sorted."""
    return _REGISTRY.names()


def make_pipeline(
    name: str | PipelineSpec, *, sfreq: float | None = None, **params: Any
) -> Pipeline:
    """Build an unfitted pipeline by name.

    Parameters
    ----------
    name : str or PipelineSpec
    sfreq : float, optional
        Sampling rate in Hz; required by filter-bank pipelines (``spec.needs_sfreq``),
        ignored by the others, so callers may always pass it.
    **params
        Factory parameters, e.g. ``cov_estimator="lwf"``, ``recentering=True``, ``C=0.1``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline

    Raises
    ------
    UnknownNameError
        The pipeline or the covariance estimator is unknown.
    DecoderError
        A parameter is not one of the pipeline's, or ``sfreq`` is missing where needed.
    """
    spec = get_pipeline(name)
    allowed = spec.parameters()
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise DecoderError(
            f"Pipeline {spec.name!r} has no parameter {', '.join(repr(u) for u in unknown)}. "
            f"Its parameters are: {', '.join(allowed) or 'none'}"
        )
    if "cov_estimator" in params:
        COVARIANCE_ESTIMATORS.resolve(params["cov_estimator"])
    if spec.needs_sfreq:
        if sfreq is None or not float(sfreq) > 0:
            raise DecoderError(
                f"Pipeline {spec.name!r} filters each window into sub-bands and needs the "
                f"sampling rate: make_pipeline({spec.name!r}, sfreq=...) (got {sfreq})"
            )
        return spec.factory(sfreq=float(sfreq), **params)
    return spec.factory(**params)


# ------------------------------------------------------------------------------ factories


def _covariance_steps(cov_estimator: str, recentering: bool) -> list[tuple[str, Any]]:
    from pyriemann.estimation import Covariances

    from bci.decoders.recentering import Recentering

    est = COVARIANCE_ESTIMATORS.resolve(cov_estimator).name
    steps: list[tuple[str, Any]] = [("cov", Covariances(estimator=est))]
    if recentering:
        steps.append(("recenter", Recentering()))
    return steps


def _logistic(C: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    # L2-penalised (sklearn's default), MOABB's TS+LR uses C=1.0.
    return LogisticRegression(C=C, max_iter=1000)


def _linear_svm(C: float) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    # Platt scaling fitted on cross-validated decision values, then one SVM on all trials
    # (what libsvm's probability=True did; deprecated in scikit-learn 1.9).
    return CalibratedClassifierCV(SVC(kernel="linear", C=C), method="sigmoid", cv=3, ensemble=False)


def _ts_lr(cov_estimator: str = "oas", recentering: bool = False, C: float = 1.0) -> Pipeline:
    from pyriemann.tangentspace import TangentSpace

    return Pipeline(
        [
            *_covariance_steps(cov_estimator, recentering),
            ("ts", TangentSpace(metric="riemann")),
            ("clf", _logistic(C)),
        ]
    )


def _ts_svm(cov_estimator: str = "oas", recentering: bool = False, C: float = 1.0) -> Pipeline:
    from pyriemann.tangentspace import TangentSpace

    return Pipeline(
        [
            *_covariance_steps(cov_estimator, recentering),
            ("ts", TangentSpace(metric="riemann")),
            ("clf", _linear_svm(C)),
        ]
    )


def _mdm(cov_estimator: str = "oas", recentering: bool = False) -> Pipeline:
    from pyriemann.classification import MDM

    return Pipeline(
        [*_covariance_steps(cov_estimator, recentering), ("clf", MDM(metric="riemann"))]
    )


def _fgmdm(cov_estimator: str = "oas", recentering: bool = False) -> Pipeline:
    from bci.decoders.fgda import CholeskyFgMDM  # pyRiemann's FgMDM, faster to fit

    return Pipeline(
        [*_covariance_steps(cov_estimator, recentering), ("clf", CholeskyFgMDM(metric="riemann"))]
    )


def _csp_lda(cov_estimator: str = "oas", n_components: int = 6) -> Pipeline:
    from mne.decoding import CSP
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    reg = COVARIANCE_ESTIMATORS.resolve(cov_estimator).csp_reg
    return Pipeline(
        [
            ("csp", CSP(n_components=n_components, reg=reg, log=True)),
            ("clf", LinearDiscriminantAnalysis()),
        ]
    )


def _fbts(
    clf: Any,
    sfreq: float,
    bands: tuple[tuple[float, float], ...],
    cov_estimator: str,
    recentering: bool,
) -> Pipeline:
    from bci.decoders.filterbank import FilterBankTangentSpace

    est = COVARIANCE_ESTIMATORS.resolve(cov_estimator).name
    return Pipeline(
        [
            (
                "fbts",
                FilterBankTangentSpace(
                    sfreq=sfreq, bands=tuple(bands), cov_estimator=est, recentering=recentering
                ),
            ),
            ("clf", clf),
        ]
    )


def _fbts_lr(
    sfreq: float,
    bands: tuple[tuple[float, float], ...] = FBCSP_BANDS,
    cov_estimator: str = "oas",
    recentering: bool = False,
    C: float = 1.0,
) -> Pipeline:
    return _fbts(_logistic(C), sfreq, bands, cov_estimator, recentering)


def _fbts_svm(
    sfreq: float,
    bands: tuple[tuple[float, float], ...] = FBCSP_BANDS,
    cov_estimator: str = "oas",
    recentering: bool = False,
    C: float = 1.0,
) -> Pipeline:
    return _fbts(_linear_svm(C), sfreq, bands, cov_estimator, recentering)


_FB_BAND = (4.0, 40.0)

for _spec in (
    PipelineSpec(
        "ts-lr",
        "Covariances (OAS) + tangent space + logistic regression",
        _ts_lr,
        moabb_name="TS+LR",
    ),
    PipelineSpec(
        "ts-svm",
        "Covariances (OAS) + tangent space + linear SVM (Platt-calibrated)",
        _ts_svm,
        moabb_name="TS+SVM",
    ),
    PipelineSpec(
        "mdm", "Covariances (OAS) + minimum distance to Riemannian mean", _mdm, moabb_name="MDM"
    ),
    PipelineSpec(
        "fgmdm",
        "Covariances (OAS) + geodesic filtering + minimum distance to mean",
        _fgmdm,
        moabb_name="FgMDM",
    ),
    PipelineSpec("csp-lda", "CSP (6 components, OAS) + LDA", _csp_lda, moabb_name="CSP+LDA"),
    PipelineSpec(
        "fbts-lr",
        "Filter bank 4-40 Hz (9 x 4 Hz) + tangent space per band + logistic regression",
        _fbts_lr,
        band=_FB_BAND,
        fixed_band=True,
        needs_sfreq=True,
        moabb_name="FilterBank+SVM",
    ),
    PipelineSpec(
        "fbts-svm",
        "Filter bank 4-40 Hz (9 x 4 Hz) + tangent space per band + linear SVM",
        _fbts_svm,
        band=_FB_BAND,
        fixed_band=True,
        needs_sfreq=True,
        moabb_name="FilterBank+SVM",
    ),
):
    register_pipeline(_spec)
