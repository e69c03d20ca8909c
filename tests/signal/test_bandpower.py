"""Band power: known values, the fast Welch path, the filter path, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from bci.errors import SignalError
from bci.signal.bandpower import (
    DEFAULT_BANDS,
    WelchBandPower,
    band_power,
    band_powers,
    default_nperseg,
    min_samples,
)

SF = 250.0


def _sine(freq: float, amp: float, n: int, sfreq: float = SF, phase: float = 0.0) -> np.ndarray:
    t = np.arange(n) / sfreq
    return amp * np.sin(2 * np.pi * freq * t + phase)


def test_sine_power_is_half_amplitude_squared(rng: np.random.Generator) -> None:
    # A 10 Hz sine of amplitude a has power a^2 / 2, all of it inside 8-13 Hz.
    amps = np.array([1.0, 2.0, 5.0])
    x = np.stack([_sine(10.0, a, 1000, phase=rng.uniform(0, 6)) for a in amps])
    p = band_power(x, SF, (8.0, 13.0))
    assert p.shape == (3,)
    np.testing.assert_allclose(p, amps**2 / 2, rtol=0.02)
    # And nothing of it in beta.
    assert np.all(band_power(x, SF, (13.0, 30.0)) < 0.01 * amps**2)


def test_white_noise_density(rng: np.random.Generator) -> None:
    # White noise of variance s^2 has a one-sided density 2 s^2 / sfreq; 8-13 Hz at 1 Hz
    # resolution (edges included) covers 6 bins of 1 Hz.
    x = rng.normal(0, 3.0, size=(20, 4, 5000))
    p = band_power(x, SF, (8.0, 13.0))
    assert p.shape == (20, 4)
    assert p.mean() == pytest.approx(2 * 9.0 / SF * 6.0, rel=0.05)


def test_fast_welch_equals_scipy(rng: np.random.Generator) -> None:
    for n_times, nperseg in [(500, 250), (777, 200), (250, 250), (333, 100)]:
        x = rng.standard_normal((3, 5, n_times))
        ref = band_powers(x, SF, DEFAULT_BANDS, nperseg=nperseg)
        fast = WelchBandPower(SF, DEFAULT_BANDS, nperseg)(x)
        np.testing.assert_allclose(fast[..., 0], ref["mu"], rtol=1e-10)
        np.testing.assert_allclose(fast[..., 1], ref["beta"], rtol=1e-10)
        # and scipy itself, integrated by hand
        f, pxx = sps.welch(x, fs=SF, nperseg=nperseg, axis=-1)
        m = (f >= 8) & (f <= 13)
        np.testing.assert_allclose(fast[..., 0], pxx[..., m].sum(-1) * (f[1] - f[0]), rtol=1e-10)


def test_filter_method_agrees_with_welch_on_a_sine() -> None:
    x = _sine(11.0, 4.0, 2000)[None, None, :]
    w = band_power(x, SF, (8.0, 13.0))
    f = band_power(x, SF, (8.0, 13.0), method="filter")
    assert f.shape == w.shape == (1, 1)
    assert float(f[0, 0]) == pytest.approx(8.0, rel=0.05)
    assert float(w[0, 0]) == pytest.approx(8.0, rel=0.02)


def test_min_samples_and_default_segment() -> None:
    assert min_samples(250.0, (8.0, 13.0)) == 100  # 2 / 5 Hz resolution -> 0.4 s
    assert min_samples(160.0, (13.0, 30.0)) == 25  # two cycles of 13 Hz
    assert default_nperseg(250.0, 1000) == 250
    assert default_nperseg(250.0, 120) == 120


def test_too_short_window_states_the_minimum(rng: np.random.Generator) -> None:
    with pytest.raises(
        SignalError,
        match=r"window of 50 samples .* too short for band 'mu' "
        r"8-13 Hz at 250 Hz: need at least 100 samples \(0.4 s\)",
    ):
        band_powers(rng.standard_normal((2, 50)), SF, {"mu": (8.0, 13.0)})


def test_bad_input_messages(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3, 500))
    with pytest.raises(
        SignalError,
        match=r"must be a window \(n_channels, n_times\) or epochs .* "
        r"got an array of shape \(500,\)",
    ):
        band_power(x[0, 0], SF)
    with pytest.raises(SignalError, match="shape \\(1, 2, 3, 500\\)"):
        band_power(x[None], SF)
    y = x.copy()
    y[0, 1, 7] = np.nan
    with pytest.raises(SignalError, match="contains 1 NaN or infinite values"):
        band_power(y, SF)
    with pytest.raises(SignalError, match=r"band must satisfy 0 < low < high <= Nyquist \(125 Hz"):
        band_power(x, SF, (13.0, 8.0))
    with pytest.raises(SignalError, match="must be a pair"):
        band_power(x, SF, (8.0,))  # type: ignore[arg-type]
    with pytest.raises(SignalError, match=r"Unknown band power method 'fft'\. Must be one of"):
        band_power(x, SF, method="fft")
    with pytest.raises(SignalError, match=r"nperseg must be in 1\.\.500"):
        band_power(x, SF, nperseg=600)
    with pytest.raises(SignalError, match="is empty"):
        band_power(np.zeros((0, 3, 500)), SF)
    with pytest.raises(SignalError, match="shorter than one Welch segment \\(250 samples"):
        WelchBandPower(SF, DEFAULT_BANDS, 250)(x[..., :200])
