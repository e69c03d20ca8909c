"""Filter-bank tangent space: a covariance and a tangent-space vector per sub-band, concatenated.

Each window is split into sub-bands by the transformer itself (a zero-phase Butterworth
band-pass applied to the window alone), so the same object decodes offline epochs and live
windows without any state between windows. The input windows should be band-passed in the
whole range first (``PipelineSpec.band``, e.g. 4-40 Hz), as the online engine does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import signal as sps
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from bci.decoders.covariance import COVARIANCE_ESTIMATORS
from bci.decoders.recentering import Recentering
from bci.decoders.validation import validate_epochs
from bci.errors import DecoderError, UnknownNameError
from bci.signal.filters import design_bandpass

__all__ = ["FBCSP_BANDS", "FilterBankTangentSpace"]

#: The filter bank of FBCSP (Ang et al. 2008, "Filter Bank Common Spatial Pattern (FBCSP) in
#: brain-computer interface", IJCNN): nine 4 Hz bands from 4 to 40 Hz.
FBCSP_BANDS: tuple[tuple[float, float], ...] = tuple(
    (float(f), float(f + 4)) for f in range(4, 40, 4)
)


class FilterBankTangentSpace(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Epochs -> one tangent-space vector per sub-band, concatenated.

    Parameters
    ----------
    sfreq : float
        Sampling rate of the windows in Hz (needed to design the sub-band filters).
    bands : sequence of (float, float)
        Sub-bands in Hz; each must lie below Nyquist.
    order : int
        Butterworth order of each sub-band filter (applied forward and backward).
    cov_estimator : {"oas", "lwf", "scm"}
        Covariance estimator of each sub-band (pyRiemann names).
    recentering : bool
        Re-centre each sub-band's covariances on the training mean before the tangent space
        (see :class:`~bci.decoders.recentering.Recentering`).

    Attributes
    ----------
    sos_ : list of ndarray, shape (n_sections, 6)
        The designed sub-band filters.
    covariances_ : list of pyriemann.estimation.Covariances
    recenterings_ : list of Recentering or None
    tangent_spaces_ : list of pyriemann.tangentspace.TangentSpace
        Fitted per sub-band.
    n_channels_ : int
    """

    def __init__(
        self,
        sfreq: float,
        bands: tuple[tuple[float, float], ...] = FBCSP_BANDS,
        order: int = 4,
        cov_estimator: str = "oas",
        recentering: bool = False,
    ) -> None:
        self.sfreq = sfreq
        self.bands = bands
        self.order = order
        self.cov_estimator = cov_estimator
        self.recentering = recentering

    def _design(self) -> list[np.ndarray]:
        if self.sfreq is None or not float(self.sfreq) > 0:
            raise DecoderError(f"FilterBankTangentSpace needs sfreq > 0 in Hz, got {self.sfreq}")
        try:
            COVARIANCE_ESTIMATORS.resolve(self.cov_estimator)
        except UnknownNameError as exc:
            raise DecoderError(str(exc)) from None
        bands = [tuple(b) for b in self.bands]
        if not bands or any(len(b) != 2 for b in bands):
            raise DecoderError(
                f"bands must be a non-empty list of (low, high) Hz, got {self.bands}"
            )
        return [design_bandpass(float(self.sfreq), lo, hi, self.order) for lo, hi in bands]

    def _sub_band(self, X: np.ndarray, sos: np.ndarray) -> np.ndarray:
        # scipy's default padding for sosfiltfilt; shorter windows cannot be filtered
        padlen = 3 * (
            2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
        )
        if X.shape[-1] <= padlen:
            raise DecoderError(
                f"Windows of {X.shape[-1]} samples are too short for the sub-band filters "
                f"(need more than {padlen} samples at {self.sfreq} Hz)"
            )
        return np.asarray(sps.sosfiltfilt(sos, X, axis=-1))

    def fit(self, X: Any, y: Any = None) -> FilterBankTangentSpace:
        """Design the filters and fit a tangent space per sub-band.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)
        y : ndarray, shape (n_epochs,), optional
        """
        from pyriemann.estimation import Covariances
        from pyriemann.tangentspace import TangentSpace

        X, _ = validate_epochs(X)
        self.sos_ = self._design()
        self.covariances_, self.recenterings_, self.tangent_spaces_ = [], [], []
        for sos in self.sos_:
            cov = Covariances(estimator=self.cov_estimator)
            C = cov.fit_transform(self._sub_band(X, sos))
            rec = None
            if self.recentering:
                rec = Recentering().fit(C)
                C = rec.transform(C)
            self.covariances_.append(cov)
            self.recenterings_.append(rec)
            self.tangent_spaces_.append(TangentSpace(metric="riemann").fit(C))
        self.n_channels_ = int(X.shape[1])
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Concatenated tangent vectors.

        Parameters
        ----------
        X : ndarray, shape (n_epochs, n_channels, n_times)

        Returns
        -------
        features : ndarray, shape (n_epochs, n_bands * n_channels * (n_channels + 1) / 2)
        """
        check_is_fitted(self, "tangent_spaces_")
        X, _ = validate_epochs(X, n_channels=self.n_channels_)
        feats = []
        for sos, cov, rec, ts in zip(
            self.sos_, self.covariances_, self.recenterings_, self.tangent_spaces_, strict=True
        ):
            C = cov.transform(self._sub_band(X, sos))
            if rec is not None:
                C = rec.transform(C)
            feats.append(ts.transform(C))
        return np.hstack(feats)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
