"""CholeskyFgMDM == pyRiemann's FgMDM on real EEG (S001, 64 channels: 2,080 tangent features)."""

from __future__ import annotations

import numpy as np
import pytest
from pyriemann.classification import FgMDM
from pyriemann.estimation import Covariances
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from bci.decoders.fast import compile_pipeline
from bci.decoders.fgda import CholeskyFgMDM, shrunk_lda_coef
from bci.decoders.pipelines import make_pipeline

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def covs() -> tuple[np.ndarray, np.ndarray]:
    from tests.conftest import real_data_path

    path = real_data_path()
    if path is None:
        pytest.skip("PhysioNet eegmmidb subject 1 not found (BCI_DATA_PATH)")
    from bci.evaluation.taskdata import DataSpec, load_epochs

    X, y, _ = load_epochs(DataSpec(1, "imagery-left-right", str(path)), (8.0, 32.0))
    return Covariances("oas").fit_transform(np.asarray(X)), np.asarray(y)


def test_lda_coefficients_match_scikit_learn_lsqr(covs, rng):
    # a tangent-space-sized problem with fewer trials than features, 2 and 3 classes
    X = rng.standard_normal((40, 300)) + np.linspace(0, 1, 300)
    for y in (np.repeat(["a", "b"], 20), np.repeat(["a", "b", "c"], [10, 14, 16])):
        X[y == "b", :5] += 1.0
        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(X, y)
        np.testing.assert_allclose(shrunk_lda_coef(X, y), lda.coef_, rtol=1e-7, atol=1e-10)


def test_fgmdm_matches_pyriemann_on_64_channels(covs):
    C, y = covs
    train, test = slice(0, 36), slice(36, None)
    ours = CholeskyFgMDM().fit(C[train], y[train])
    theirs = FgMDM().fit(C[train], y[train])
    np.testing.assert_allclose(ours._fgda._W, theirs._fgda._W, atol=1e-8)
    np.testing.assert_allclose(
        ours.predict_proba(C[test]), theirs.predict_proba(C[test]), rtol=1e-6, atol=1e-9
    )
    assert list(ours.predict(C[test])) == list(theirs.predict(C[test]))


def test_registered_fgmdm_uses_it_and_compiles(covs, rng):
    pipe = make_pipeline("fgmdm")
    assert isinstance(pipe.steps[-1][1], CholeskyFgMDM)
    X = rng.standard_normal((30, 8, 250))
    X[:15, 2] *= 2.0
    y = np.repeat(["left", "right"], 15)
    pipe.fit(X, y)
    fast = compile_pipeline(pipe)
    np.testing.assert_allclose(fast.predict_proba(X), pipe.predict_proba(X), atol=1e-9)
