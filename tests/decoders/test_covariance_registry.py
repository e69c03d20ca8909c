"""One covariance-estimator registry serves the pipelines, the filter bank and the fast path."""

from __future__ import annotations

import numpy as np
import pytest
from pyriemann.estimation import Covariances

from bci.decoders import COVARIANCE_ESTIMATORS, FilterBankTangentSpace, make_pipeline
from bci.decoders.covariance import (
    NUMPY_COV,
    batch_covariances,
    fast_covariance_estimator,
    fast_covariance_names,
)
from bci.errors import DecoderError, UnknownNameError


def test_registry_names_and_fast_path_names() -> None:
    assert COVARIANCE_ESTIMATORS.names() == ["lwf", "oas", "scm"]
    assert fast_covariance_names() == ["lwf", "oas", "scm", "cov"]
    assert fast_covariance_estimator("cov") is NUMPY_COV


@pytest.mark.parametrize("name", ["lwf", "oas", "scm", "cov"])
def test_each_kernel_reproduces_pyriemann(name: str, rng: np.random.Generator) -> None:
    X = rng.standard_normal((5, 4, 200))
    expected = Covariances(estimator=name).fit_transform(X)
    np.testing.assert_allclose(batch_covariances(X, name), expected, rtol=1e-10, atol=1e-12)


def test_pipeline_steps_take_their_names_from_the_registry() -> None:
    assert make_pipeline("csp-lda", cov_estimator="lwf").named_steps["csp"].reg == "ledoit_wolf"
    assert make_pipeline("ts-lr", cov_estimator="scm").named_steps["cov"].estimator == "scm"


def test_unknown_estimator_same_message_everywhere(rng: np.random.Generator) -> None:
    msg = "Unknown covariance estimator 'ledoit'. Must be one of: lwf, oas, scm"
    with pytest.raises(UnknownNameError, match=msg):
        make_pipeline("ts-lr", cov_estimator="ledoit")
    fb = FilterBankTangentSpace(sfreq=160.0, cov_estimator="ledoit")
    with pytest.raises(DecoderError, match=msg):
        fb.fit(rng.standard_normal((4, 3, 320)), np.array(["a", "b", "a", "b"]))
    with pytest.raises(UnknownNameError, match="Must be one of: lwf, oas, scm, cov"):
        batch_covariances(rng.standard_normal((1, 2, 10)), "ledoit")
