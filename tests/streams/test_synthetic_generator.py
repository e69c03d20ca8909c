"""The synthetic EEG generator: reproducibility, chunking, physiology, nuisances, presets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from bci.errors import ConfigError, UnknownNameError
from bci.headsets import get_headset, headset_names
from bci.paradigms import CONDITIONS
from bci.streams.synthetic import SyntheticEEG, _Envelope, condition_effect

# Physiology tests look at the condition itself: no per-trial variability or lapses, no blinks.
CLEAN = {"trial_variability": 0.0, "lapse_rate": 0.0, "blink_rate": 0.0}


def _band_db(x: np.ndarray, sfreq: float, lo: float, hi: float) -> np.ndarray:
    """Mean Welch power in [lo, hi] Hz per channel, in dB; x (n_samples, n_channels)."""
    f, p = welch(x, sfreq, nperseg=int(2 * sfreq), axis=0)
    band = (f >= lo) & (f <= hi)
    return 10 * np.log10(p[band].mean(axis=0))


def _condition_run(cond: str, seconds: float = 60.0, headset: str = "openbci-cyton") -> np.ndarray:
    gen = SyntheticEEG(headset, seed=7, **CLEAN)
    gen.set_condition(cond)
    gen.generate(int(gen.sfreq))  # past the onset ramp
    return gen.generate(int(seconds * gen.sfreq))


@pytest.fixture(scope="module")
def erd_db() -> dict[str, dict[str, dict[str, float]]]:
    """8-13 Hz and 13-30 Hz power change (dB) from rest, per condition and Cyton channel.

    Every condition uses the same seed, so the noise is identical and only the condition
    differs.
    """
    ch = list(get_headset("openbci-cyton").ch_names)
    rest = _condition_run("rest")
    out: dict[str, dict[str, dict[str, float]]] = {}
    for cond in CONDITIONS:
        x = _condition_run(cond)
        out[cond] = {
            band: dict(zip(ch, _band_db(x, 250, lo, hi) - _band_db(rest, 250, lo, hi), strict=True))
            for band, (lo, hi) in {"mu": (8, 13), "beta": (13, 30)}.items()
        }
    return out


# --- API, reproducibility, chunking ---------------------------------------------------------


def test_attributes_shape_dtype_and_magnitude() -> None:
    gen = SyntheticEEG("openbci-cyton", seed=0)
    assert gen.ch_names == ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
    assert gen.sfreq == 250.0
    assert gen.n_channels == 8
    assert gen.condition == "rest"
    x = gen.generate(2500)
    assert x.shape == (2500, 8)
    assert x.dtype == np.float32
    assert gen.n_generated == 2500
    sd = x.std(axis=0)
    assert np.all((sd > 5) & (sd < 60)), sd  # tens of microvolts, like scalp EEG
    assert gen.generate(0).shape == (0, 8)


def test_same_seed_same_output_other_seed_differs() -> None:
    a = SyntheticEEG(seed=3).generate(500)
    b = SyntheticEEG(seed=3).generate(500)
    c = SyntheticEEG(seed=4).generate(500)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 1.0


@pytest.mark.parametrize("headset", ["openbci-cyton", "standard-1020-19"])
def test_chunking_does_not_change_output(headset: str) -> None:
    def run(chunks: list[int]) -> np.ndarray:
        gen = SyntheticEEG(headset, seed=11, blink_rate=1.0)
        out = []
        for i, n in enumerate(chunks):
            if i == len(chunks) // 2:
                gen.set_condition("imagine_left")
            out.append(gen.generate(n))
        return np.concatenate(out)

    once = SyntheticEEG(headset, seed=11, blink_rate=1.0)
    first = once.generate(500)
    once.set_condition("imagine_left")
    whole = np.concatenate([first, once.generate(500)])
    # 10 x 100 (condition change after 5 chunks = sample 500), and ragged chunks.
    np.testing.assert_allclose(run([100] * 10), whole, rtol=0, atol=1e-4)
    rng = np.random.default_rng(0)
    ragged_a = list(rng.integers(1, 30, size=15))  # sums to < 500
    ragged_a.append(500 - sum(ragged_a))
    ragged = [int(n) for n in ragged_a] + [250, 1, 249]
    gen = SyntheticEEG(headset, seed=11, blink_rate=1.0)
    parts = [gen.generate(n) for n in ragged[:-3]]
    gen.set_condition("imagine_left")
    parts += [gen.generate(n) for n in ragged[-3:]]
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-4)


def test_rest_changes_nothing() -> None:
    a = SyntheticEEG(seed=2)
    b = SyntheticEEG(seed=2)
    b.set_condition("rest")
    np.testing.assert_array_equal(a.generate(1000), b.generate(1000))


def test_unknown_condition_error_text() -> None:
    gen = SyntheticEEG(seed=0)
    with pytest.raises(UnknownNameError) as err:
        gen.set_condition("jump")
    assert str(err.value) == (
        "Unknown condition 'jump'. Must be one of: " + ", ".join(sorted(CONDITIONS))
    )
    assert gen.condition == "rest"


def test_every_condition_is_known() -> None:
    for cond in CONDITIONS:
        assert condition_effect(cond) is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"erd_depth": 1.0}, "erd_depth must be a number in [0, 1), got 1.0"),
        ({"erd_depth": "deep"}, "erd_depth must be a number in [0, 1), got 'deep'"),
        ({"snr": -1}, "snr must be a number in [0, inf), got -1"),
        ({"line_freq": 0}, "line_freq must be a positive frequency in Hz or None, got 0"),
    ],
)
def test_bad_parameters_name_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        SyntheticEEG(seed=0, **kwargs)  # type: ignore[arg-type]
    assert str(err.value) == message


def test_generate_rejects_negative_count() -> None:
    with pytest.raises(ValueError, match="n_samples must be >= 0, got -1"):
        SyntheticEEG(seed=0).generate(-1)


@pytest.mark.parametrize("headset", headset_names())
def test_every_headset_preset_generates(headset: str) -> None:
    h = get_headset(headset)
    gen = SyntheticEEG(headset, seed=1)
    gen.set_condition("imagine_right")
    x = gen.generate(int(2 * h.sfreq))
    assert x.shape == (int(2 * h.sfreq), h.n_channels)
    assert gen.ch_names == list(h.ch_names)
    assert gen.sfreq == h.sfreq
    assert np.isfinite(x).all()
    sd = x.std(axis=0)
    assert np.all((sd > 3) & (sd < 150)), dict(zip(h.ch_names, sd.round(1), strict=True))


# --- physiology: ERD at the right channels --------------------------------------------------


def test_left_hand_imagery_suppresses_the_right_hemisphere(erd_db: dict) -> None:
    mu = erd_db["imagine_left"]["mu"]
    assert mu["C4"] < -3.0
    assert mu["C4"] < mu["C3"] - 2.0
    assert erd_db["imagine_left"]["beta"]["C4"] < -0.8
    assert erd_db["imagine_left"]["beta"]["C4"] < erd_db["imagine_left"]["beta"]["C3"]


def test_right_hand_imagery_suppresses_the_left_hemisphere(erd_db: dict) -> None:
    mu = erd_db["imagine_right"]["mu"]
    assert mu["C3"] < -3.0
    assert mu["C3"] < mu["C4"] - 2.0


def test_feet_imagery_suppresses_the_midline(erd_db: dict) -> None:
    mu = erd_db["imagine_feet"]["mu"]
    assert mu["Cz"] < -3.0
    assert mu["Cz"] < min(mu["C3"], mu["C4"]) - 3.0
    assert mu["C3"] > -0.5 and mu["C4"] > -0.5  # hand areas not suppressed (slight ERS)


def test_both_hands_suppress_both_hemispheres(erd_db: dict) -> None:
    mu = erd_db["imagine_hands"]["mu"]
    assert mu["C3"] < -3.0 and mu["C4"] < -3.0
    assert abs(mu["C3"] - mu["C4"]) < 1.0


def test_observation_is_bilateral_and_weaker_than_imagery(erd_db: dict) -> None:
    obs = erd_db["observe"]["mu"]
    assert obs["C3"] < -1.0 and obs["C4"] < -1.0
    assert abs(obs["C3"] - obs["C4"]) < 0.5
    assert obs["C4"] > erd_db["imagine_left"]["mu"]["C4"] + 1.5
    assert obs["C3"] > erd_db["imagine_right"]["mu"]["C3"] + 1.5


def test_observation_plus_imagery_is_stronger_than_observation(erd_db: dict) -> None:
    both = erd_db["observe_imagine"]["mu"]
    for ch in ("C3", "Cz", "C4"):
        assert both[ch] < erd_db["observe"]["mu"][ch] - 0.5
    assert both["C3"] <= erd_db["imagine_hands"]["mu"]["C3"]


def test_execution_is_stronger_than_imagery(erd_db: dict) -> None:
    assert erd_db["execute_left"]["mu"]["C4"] < erd_db["imagine_left"]["mu"]["C4"] - 1.0
    assert erd_db["execute_right"]["mu"]["C3"] < erd_db["imagine_right"]["mu"]["C3"] - 1.0
    assert erd_db["execute_feet"]["mu"]["Cz"] < erd_db["imagine_feet"]["mu"]["Cz"] - 1.0


def test_erd_depth_zero_gives_no_suppression() -> None:
    gen = SyntheticEEG(seed=7, erd_depth=0.0, **CLEAN)
    ref = SyntheticEEG(seed=7, erd_depth=0.0, **CLEAN)
    gen.set_condition("imagine_left")
    np.testing.assert_array_equal(gen.generate(1000), ref.generate(1000))


def test_alpha_is_strongest_over_the_occipital_cortex() -> None:
    gen = SyntheticEEG("standard-1020-19", seed=5, **CLEAN)
    x = gen.generate(int(60 * gen.sfreq))
    alpha = dict(zip(gen.ch_names, _band_db(x, gen.sfreq, 9, 11), strict=True))
    top3 = sorted(alpha, key=alpha.get, reverse=True)[:3]  # type: ignore[arg-type]
    assert set(top3) <= {"O1", "O2", "P3", "P4", "Pz", "P7", "P8"}
    assert alpha["O1"] > alpha["F3"] + 6.0


def test_rhythms_are_not_constant_sines() -> None:
    # The mu envelope at C3 waxes and wanes: a sine would have a flat Hilbert envelope.
    from scipy.signal import hilbert

    from bci.signal.filters import filter_continuous

    gen = SyntheticEEG(seed=8, **CLEAN)
    x = gen.generate(250 * 30)[:, gen.ch_names.index("C3")]
    mu = filter_continuous(x[None, :], 250, 9, 12)[0, 500:]
    env = np.abs(hilbert(mu))
    assert env.std() / env.mean() > 0.3


def test_envelope_ramps_smoothly_and_chunk_independently() -> None:
    env = _Envelope(2)
    env.set(100, np.array([0.4, 1.0]), 100)
    env.schedule(300, np.array([1.0, 1.0]), 50)
    whole = env.values(0, 400)
    assert np.all(whole[:101, 0] == 1.0)
    assert whole[150, 0] == pytest.approx(0.7)  # raised cosine half way
    assert np.all(whole[200:301, 0] == pytest.approx(0.4))
    assert whole[-1, 0] == pytest.approx(1.0)
    assert np.abs(np.diff(whole[:, 0])).max() < 0.02  # no jump anywhere
    env2 = _Envelope(2)
    env2.set(100, np.array([0.4, 1.0]), 100)
    env2.schedule(300, np.array([1.0, 1.0]), 50)
    parts = np.concatenate([env2.values(i, 37) for i in range(0, 370, 37)] + [env2.values(370, 30)])
    np.testing.assert_array_equal(parts, whole)


# --- nuisances -----------------------------------------------------------------------------


def test_blinks_are_frontal_and_decay_with_distance() -> None:
    kw = {"seed": 4, "trial_variability": 0.0, "lapse_rate": 0.0}
    gen = SyntheticEEG("standard-1020-19", blink_rate=0.5, **kw)
    ref = SyntheticEEG("standard-1020-19", blink_rate=0.0, **kw)
    n = int(60 * gen.sfreq)
    blink = gen.generate(n).astype(float) - ref.generate(n)  # all other streams are identical
    peak = dict(zip(gen.ch_names, np.abs(blink).max(axis=0), strict=True))
    assert peak["Fp1"] > 80 and peak["Fp2"] > 80
    assert peak["Fp1"] > peak["F3"] > peak["C3"] > peak["O1"]
    assert peak["O1"] < 5
    # About 0.5 blinks per second: count the excursions over half the Fp1 peak.
    above = blink[:, gen.ch_names.index("Fp1")] > 0.5 * peak["Fp1"] / 1.5
    onsets = int(np.sum(above[1:] & ~above[:-1]))
    assert 15 <= onsets <= 45


def test_line_noise_peak_at_mains_frequency() -> None:
    for line in (50.0, 60.0):
        gen = SyntheticEEG(seed=6, line_freq=line)
        f, p = welch(gen.generate(250 * 20), 250, nperseg=500, axis=0)
        at = p[np.argmin(np.abs(f - line))]
        beside = p[(np.abs(f - line) > 3) & (np.abs(f - line) < 8)].mean(axis=0)
        assert np.all(at > 4 * beside)  # every channel, the weakest line pickup included
        assert np.median(at / beside) > 10
    gen = SyntheticEEG(seed=6, line_freq=None)
    f, p = welch(gen.generate(250 * 20), 250, nperseg=500, axis=0)
    at = p[np.argmin(np.abs(f - 50))]
    beside = p[(np.abs(f - 50) > 3) & (np.abs(f - 50) < 8)].mean(axis=0)
    assert np.all(at < 3 * beside)


def test_spectrum_falls_like_one_over_f() -> None:
    gen = SyntheticEEG(seed=9, snr=0.0, line_freq=None, **CLEAN)
    f, p = welch(gen.generate(250 * 60), 250, nperseg=1000, axis=0)
    low = p[(f >= 2) & (f <= 4)].mean()
    high = p[(f >= 20) & (f <= 40)].mean()
    assert 3 < low / high < 30  # ~1/f over a decade, flattened at the top by sensor noise
