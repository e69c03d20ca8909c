"""The mu-suppression index on signals with a known ERD, its statistics and its errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bci.errors import SignalError
from bci.signal.erd import (
    MuSuppressionResult,
    bootstrap_ci,
    cohens_d,
    log_ratio,
    mu_suppression,
    pick_channels,
)

SF = 250.0
CH = ["F3", "C3", "Cz", "C4", "P3", "O1", "Oz", "O2"]


def make_epochs(
    rng: np.random.Generator,
    n_epochs: int,
    n_times: int,
    mu_amp: dict[str, float],
    beta_amp: dict[str, float] | None = None,
    noise: float = 1.0,
) -> np.ndarray:
    """Epochs with a 10 Hz (and optional 20 Hz) sine of a given amplitude per channel + noise."""
    t = np.arange(n_times) / SF
    x = rng.normal(0.0, noise, size=(n_epochs, len(CH), n_times))
    for i, ch in enumerate(CH):
        for amp, f in ((mu_amp.get(ch, 0.0), 10.0), ((beta_amp or {}).get(ch, 0.0), 20.0)):
            if amp:
                ph = rng.uniform(0, 2 * np.pi, size=(n_epochs, 1))
                x[:, i] += amp * np.sin(2 * np.pi * f * t + ph)
    return x


def expected_index(a: float, ratio: float, noise: float, n_bins: int = 6) -> float:
    """log10 of (r a^2/2 + N) / (a^2/2 + N), N = white-noise power in the band."""
    n = 2 * noise**2 / SF * n_bins  # density 2 s^2 / fs over n_bins 1-Hz bins
    return math.log10((ratio * a**2 / 2 + n) / (a**2 / 2 + n))


def test_known_erd_sign_and_size(rng: np.random.Generator) -> None:
    a, noise = 8.0, 1.0
    # C3 loses half its mu power, Cz keeps it, C4 doubles it (ERS); beta at C3 drops to 1/4.
    base = make_epochs(
        rng, 30, 500, {c: a for c in ("C3", "Cz", "C4", "O1", "O2")}, {"C3": a}, noise
    )
    cond_amp = {"C3": a * math.sqrt(0.5), "Cz": a, "C4": a * math.sqrt(2.0), "O1": a, "O2": a}
    cond = make_epochs(rng, 30, 500, cond_amp, {"C3": a * math.sqrt(0.25)}, noise)
    res = mu_suppression(cond, base, SF, CH, n_boot=500, seed=1)

    assert res.channels == ("C3", "Cz", "C4")
    assert list(res.bands) == ["mu", "beta"]
    assert res.value("C3", "mu") == pytest.approx(expected_index(a, 0.5, noise), abs=0.01)
    assert res.value("Cz", "mu") == pytest.approx(0.0, abs=0.01)
    assert res.value("C4", "mu") == pytest.approx(expected_index(a, 2.0, noise), abs=0.01)
    assert res.value("C3", "beta") == pytest.approx(expected_index(a, 0.25, noise, 18), abs=0.02)
    assert res.value("C3", "mu") == pytest.approx(-0.301, abs=0.01)  # log10(0.5)
    assert res.mean_index("mu") == pytest.approx(np.mean(res.index[:, 0]))
    # effect sizes: big and negative where power fell, positive where it rose
    assert res.effect_size[0, 0] < -3 and res.effect_size[2, 0] > 3
    # the CI brackets the index and excludes 0 for the real changes
    assert res.ci_low is not None and res.ci_high is not None
    assert np.all(res.ci_low <= res.index) and np.all(res.index <= res.ci_high)
    assert res.ci_high[0, 0] < 0 < res.ci_low[2, 0]
    assert res.ci_low[1, 0] < 0 < res.ci_high[1, 0]
    # the attention control: O1/Oz/O2 present, alpha unchanged (Oz has only noise)
    assert res.occipital_channels == ("O1", "Oz", "O2")
    assert res.occipital_index[0] == pytest.approx(0.0, abs=0.02)
    assert res.occipital_alpha is not None


def test_occipital_alpha_reports_an_attention_change(rng: np.random.Generator) -> None:
    base = make_epochs(rng, 20, 500, {"C3": 5.0, "O1": 10.0, "O2": 10.0})
    cond = make_epochs(rng, 20, 500, {"C3": 5.0, "O1": 10.0 * math.sqrt(0.1), "O2": 10.0})
    res = mu_suppression(cond, base, SF, CH, channels=["C3"])
    assert res.value("C3") == pytest.approx(0.0, abs=0.02)
    assert res.occipital_index[0] == pytest.approx(-1.0, abs=0.03)
    assert res.occipital_index[2] == pytest.approx(0.0, abs=0.02)


def test_no_occipital_channels_reports_none(rng: np.random.Generator) -> None:
    ch = ["C3", "Cz", "C4"]
    x = rng.standard_normal((5, 3, 500))
    res = mu_suppression(x, x, SF, ch)
    assert res.occipital_channels == ()
    assert res.occipital_alpha is None
    assert res.to_dict()["occipital_alpha"] is None
    np.testing.assert_allclose(res.index, 0.0, atol=1e-12)


def test_baseline_of_other_length_and_continuous(rng: np.random.Generator) -> None:
    # A baseline run as one long array, condition epochs of 2 s: same index.
    a = 6.0
    base = make_epochs(rng, 1, 15000, {"C3": a, "Cz": a, "C4": a})[0]
    cond = make_epochs(rng, 40, 500, {"C3": a * math.sqrt(0.5), "Cz": a, "C4": a})
    res = mu_suppression(cond, base, SF, CH)
    assert res.n_baseline == 1 and res.nperseg == 250
    assert res.value("C3") == pytest.approx(expected_index(a, 0.5, 1.0), abs=0.015)


def test_paired_precue_baseline(rng: np.random.Generator) -> None:
    pre = make_epochs(rng, 25, 250, {"C3": 5.0, "Cz": 5.0, "C4": 5.0})
    cond = make_epochs(rng, 25, 500, {"C3": 2.5, "Cz": 5.0, "C4": 5.0})
    res = mu_suppression(cond, pre, SF, CH, n_boot=300, paired=True)
    assert res.nperseg == 250
    assert res.value("C3") == pytest.approx(expected_index(5.0, 0.25, 1.0), abs=0.02)
    assert res.ci_high is not None and res.ci_high[0, 0] < -0.4


def test_bootstrap_is_seeded_and_reproducible(rng: np.random.Generator) -> None:
    c = rng.lognormal(0, 0.5, size=(30, 3, 2))
    b = rng.lognormal(0.3, 0.5, size=(25, 3, 2))
    lo1, hi1 = bootstrap_ci(c, b, n_boot=400, seed=3)
    lo2, hi2 = bootstrap_ci(c, b, n_boot=400, seed=3)
    lo3, _ = bootstrap_ci(c, b, n_boot=400, seed=4)
    np.testing.assert_array_equal(lo1, lo2)
    np.testing.assert_array_equal(hi1, hi2)
    assert not np.array_equal(lo1, lo3)
    idx = log_ratio(c, b)
    assert np.all(lo1 < idx) and np.all(idx < hi1)
    # a narrower coverage gives a narrower interval
    lo4, hi4 = bootstrap_ci(c, b, n_boot=400, seed=3, ci=0.5)
    assert np.all(hi4 - lo4 < hi1 - lo1)
    with pytest.raises(SignalError, match="paired bootstrap needs as many baseline as condition"):
        bootstrap_ci(c, b, paired=True)
    with pytest.raises(SignalError, match="n_boot must be a positive integer, got 0"):
        bootstrap_ci(c, b, n_boot=0)
    with pytest.raises(SignalError, match=r"ci must be in \(0, 1\), got 95"):
        bootstrap_ci(c, b, ci=95)


def test_cohens_d_matches_the_formula(rng: np.random.Generator) -> None:
    c = 10 ** rng.normal(-0.2, 0.1, size=(40, 1))
    b = 10 ** rng.normal(0.0, 0.1, size=(50, 1))
    lc, lb = np.log10(c[:, 0]), np.log10(b[:, 0])
    sp = math.sqrt((39 * lc.var(ddof=1) + 49 * lb.var(ddof=1)) / 88)
    assert cohens_d(c, b)[0] == pytest.approx((lc.mean() - lb.mean()) / sp)
    assert cohens_d(c, b)[0] < -1.0


def test_result_is_json_ready(rng: np.random.Generator) -> None:
    x = make_epochs(rng, 10, 500, {"C3": 3.0})
    res = mu_suppression(x[:5], x[5:], SF, CH, n_boot=50)
    assert isinstance(res, MuSuppressionResult)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert set(d["channels"]) == {"C3", "Cz", "C4"}
    assert set(d["channels"]["C3"]["mu"]) == {"index", "d", "ci_low", "ci_high"}
    assert d["n_condition"] == 5 and d["n_baseline"] == 5
    assert set(d["occipital"]) == {"O1", "Oz", "O2"}


def test_no_baseline_is_a_clear_error(rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, len(CH), 500))
    with pytest.raises(
        SignalError,
        match=r"no baseline: the baseline data are empty \(shape "
        r"\(0, 8, 500\)\); give a baseline recording, rest trials or pre-cue",
    ):
        mu_suppression(x, np.zeros((0, len(CH), 500)), SF, CH)
    with pytest.raises(SignalError, match="no baseline: got None"):
        mu_suppression(x, None, SF, CH)  # type: ignore[arg-type]


def test_missing_channel_names_it_and_lists_the_montage(rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, len(CH), 500))
    with pytest.raises(
        SignalError,
        match=r"channel 'C5' not in the montage; available channels: F3, C3, Cz, C4, P3, O1, "
        r"Oz, O2",
    ):
        mu_suppression(x, x, SF, CH, channels=("C3", "C5"))
    with pytest.raises(SignalError, match="channels 'CP1', 'CP2' not in the montage"):
        pick_channels(CH, ["CP1", "CP2"])
    assert pick_channels(CH, ["c3", "CZ"]) == [1, 2]  # case-insensitive


def test_too_short_window_is_a_clear_error(rng: np.random.Generator) -> None:
    base = rng.standard_normal((5, len(CH), 500))
    with pytest.raises(
        SignalError,
        match=r"condition window of 60 samples \(0.24 s\) is too short for band 'mu' 8-13 Hz "
        r"at 250 Hz: need at least 100 samples \(0.4 s\)",
    ):
        mu_suppression(base[..., :60], base, SF, CH)
    with pytest.raises(SignalError, match=r"baseline window of 80 samples .* need at least 100"):
        mu_suppression(base, base[..., :80], SF, CH)


def test_other_bad_inputs(rng: np.random.Generator) -> None:
    x = rng.standard_normal((5, len(CH), 500))
    with pytest.raises(SignalError, match="condition has 3 channels but ch_names lists 8"):
        mu_suppression(x[:, :3], x, SF, CH)
    y = x.copy()
    y[2, 3, 10] = np.inf
    with pytest.raises(SignalError, match="condition contains 1 NaN or infinite values"):
        mu_suppression(y, x, SF, CH)
    with pytest.raises(SignalError, match="bands must name at least one band"):
        mu_suppression(x, x, SF, CH, bands={})
    with pytest.raises(SignalError, match=r"band 'gamma' must satisfy 0 < low < high <= Nyquist"):
        mu_suppression(x, x, SF, CH, bands={"gamma": (30.0, 200.0)})
    res = mu_suppression(x, x, SF, CH)
    with pytest.raises(SignalError, match=r"Unknown band 'alpha'\. Must be one of: mu, beta"):
        res.value("C3", "alpha")
