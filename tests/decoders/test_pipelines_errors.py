"""Bad input to the named pipelines gives clear errors from the bci error tree."""

from __future__ import annotations

import numpy as np
import pytest

from bci.decoders import (
    check_trials_per_fold,
    make_pipeline,
    pipeline_names,
    validate_epochs,
)
from bci.errors import BCIError, DecoderError, SignalError, UnknownNameError


def _xy(rng: np.random.Generator, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((n, 4, 100)), np.array(["left", "right"] * (n // 2))


def test_unknown_pipeline_names_the_choices() -> None:
    with pytest.raises(UnknownNameError) as exc:
        make_pipeline("riemann-magic")
    assert str(exc.value) == (
        f"Unknown pipeline 'riemann-magic'. Must be one of: {', '.join(pipeline_names())}"
    )


def test_unknown_parameter_lists_the_real_ones() -> None:
    with pytest.raises(DecoderError, match=r"Pipeline 'ts-lr' has no parameter 'alpha'") as exc:
        make_pipeline("ts-lr", alpha=3)
    assert "Its parameters are: cov_estimator, recentering, C" in str(exc.value)
    with pytest.raises(DecoderError, match="has no parameter 'recentering'"):
        make_pipeline("csp-lda", recentering=True)


def test_unknown_covariance_estimator() -> None:
    with pytest.raises(UnknownNameError) as exc:
        make_pipeline("mdm", cov_estimator="ledoit")
    assert str(exc.value) == (
        "Unknown covariance estimator 'ledoit'. Must be one of: lwf, oas, scm"
    )


def test_filter_bank_needs_sfreq() -> None:
    with pytest.raises(DecoderError) as exc:
        make_pipeline("fbts-lr")
    assert "needs the sampling rate: make_pipeline('fbts-lr', sfreq=...)" in str(exc.value)
    # passing sfreq to any pipeline is allowed (callers need not branch)
    make_pipeline("ts-lr", sfreq=250.0)


def test_filter_bank_band_above_nyquist(rng: np.random.Generator) -> None:
    X, y = _xy(rng)
    with pytest.raises(SignalError, match=r"h_freq must be in \(0, 30.0\) Hz for sfreq=60.0"):
        make_pipeline("fbts-lr", sfreq=60.0).fit(X, y)


def test_filter_bank_window_too_short(rng: np.random.Generator) -> None:
    X, y = _xy(rng)
    with pytest.raises(DecoderError, match="Windows of 20 samples are too short"):
        make_pipeline("fbts-lr", sfreq=128.0).fit(X[:, :, :20], y)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (
            (4, 100),
            r"X must be 3-D epochs \(n_epochs, n_channels, n_times\), got 2-D with shape "
            r"\(4, 100\)\. For one window use X\[np.newaxis\]\.",
        ),
        ((2, 3, 4, 5), r"X must be 3-D epochs .* got 4-D"),
        ((0, 4, 100), r"X has no epochs or no channels: shape \(0, 4, 100\)"),
        ((10, 4, 1), r"X epochs need at least 2 samples each, got n_times=1"),
    ],
)
def test_wrong_shapes(shape: tuple[int, ...], expected: str) -> None:
    with pytest.raises(SignalError, match=expected):
        validate_epochs(np.zeros(shape))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values(rng: np.random.Generator, bad: float) -> None:
    X, y = _xy(rng)
    X[3, 1, 7] = bad
    X[5, 0, 0] = bad
    with pytest.raises(SignalError) as exc:
        validate_epochs(X, y)
    assert str(exc.value) == (
        "X holds 2 non-finite values (NaN or inf) in 2 epoch(s), first at index 3; "
        "drop or repair those epochs"
    )


def test_single_class(rng: np.random.Generator) -> None:
    X, _ = _xy(rng)
    with pytest.raises(DecoderError) as exc:
        validate_epochs(X, ["left"] * 10)
    assert str(exc.value) == (
        "y must hold at least 2 classes to train a classifier, got 1 ('left' x10); "
        "record trials of every class"
    )


def test_labels_do_not_match_epochs(rng: np.random.Generator) -> None:
    X, y = _xy(rng)
    with pytest.raises(DecoderError, match="y has 9 labels for 10 epochs in X"):
        validate_epochs(X, y[:9])
    with pytest.raises(DecoderError, match=r"y must be 1-D \(n_epochs,\), got shape \(10, 1\)"):
        validate_epochs(X, y[:, None])


def test_channel_count_checked_against_the_model(rng: np.random.Generator) -> None:
    X, _ = _xy(rng)
    with pytest.raises(DecoderError, match="X has 4 channels, the decoder expects 8"):
        validate_epochs(X, n_channels=8)


def test_validate_returns_float64_and_str_labels(rng: np.random.Generator) -> None:
    X, _ = _xy(rng)
    Xv, yv = validate_epochs(X.astype(np.float32), [1, 2] * 5)
    assert Xv.dtype == np.float64
    assert yv is not None and yv.dtype.kind == "U" and set(yv) == {"1", "2"}


def test_too_few_trials_per_fold() -> None:
    y = ["left"] * 3 + ["right"] * 10
    with pytest.raises(DecoderError) as exc:
        check_trials_per_fold(y, 5)
    assert str(exc.value) == (
        "Too few trials per class for 5-fold cross-validation: 'left' has 3; need at least 5 "
        "per class (use fewer folds or record more trials)"
    )
    check_trials_per_fold(y, 3)
    with pytest.raises(DecoderError, match="at least 2 folds, got 1"):
        check_trials_per_fold(y, 1)


def test_errors_are_bci_errors() -> None:
    assert issubclass(SignalError, BCIError) and issubclass(DecoderError, BCIError)
