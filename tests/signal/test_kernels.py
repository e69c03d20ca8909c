"""The compiled loops equal the NumPy/SciPy computations they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from bci.signal.filters import CausalFilter, design_bandpass
from bci.signal.quality import FLAG_CODES, GateThresholds, _line_ratio, channel_flags


def _numpy_flags(x, sfreq, th, line=True):
    """The gate's codes written plainly with NumPy (np.median, np.diff, np.mean): the oracle."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x).all(axis=-1)
    x = np.where(np.isfinite(x), x, 0.0)
    xc = x - x.mean(axis=-1, keepdims=True)
    sd = x.std(axis=-1)
    d = np.diff(x, axis=-1)
    step_sd = np.sqrt((d**2).mean(axis=-1) / 2.0)
    hi = x.max(axis=-1, keepdims=True)
    lo = x.min(axis=-1, keepdims=True)
    tol = 1e-6 * np.maximum(1.0, np.maximum(np.abs(hi), np.abs(lo)))
    at_rail = (x >= hi - tol) | (x <= lo + tol)
    same = np.abs(d) <= tol
    held = at_rail[..., 2:] & at_rail[..., :-2] & same[..., 1:] & same[..., :-1]
    if held.shape[-1]:
        saturated = held.mean(axis=-1) >= th.saturation_fraction
    else:  # two samples: no run of three to be held
        saturated = np.zeros(held.shape[:-1], bool)
    if th.saturation_uv is not None:
        saturated |= np.abs(x).max(axis=-1) >= th.saturation_uv
    ref = np.median(sd, axis=-1, keepdims=True)
    loose = (sd > th.disconnected_uv) | (
        (sd > th.disconnected_floor_uv) & (sd > th.disconnected_ratio * ref)
    )
    mains = _line_ratio(xc, sfreq) > th.line_ratio if line else np.zeros(sd.shape, bool)
    codes = np.zeros(sd.shape, dtype=np.int8)
    for flag, mask in (
        ("line_noise", mains),
        ("disconnected", loose),
        ("saturated", saturated),
        ("flat", np.minimum(sd, step_sd) < th.flat_uv),
        ("non_finite", ~finite),
    ):
        codes[mask] = FLAG_CODES[flag]
    return codes


def _cases(rng, n):
    """(name, segment of 8 channels x n samples): clean EEG and every flag, alone and mixed."""
    eeg = rng.normal(0, 10, (8, n))
    t = np.arange(n) / 250.0
    out = {"clean": eeg}
    bad = eeg.copy()
    bad[1, n // 2] = np.nan
    bad[2, 0] = np.inf
    out["non_finite"] = bad
    flat = eeg.copy()
    flat[3] = 0.0
    flat[4] = 5.0 + 1e-4 * np.arange(n)  # drifts, but no sample-to-sample spread
    out["flat"] = flat
    clip = eeg.copy()
    clip[5] = np.minimum(eeg[5] * 20 + 300, 200.0)  # held at the upper rail
    out["clipped"] = clip
    loose = eeg.copy()
    loose[6] *= 80
    out["disconnected"] = loose
    hum = eeg.copy()
    hum[:] = 100 * np.sin(2 * np.pi * 50 * t)
    out["mains"] = hum
    mixed = eeg.copy()
    mixed[0] = np.nan
    mixed[7] = 0.0
    mixed[6] *= 80
    out["mixed"] = mixed
    out["all_zero"] = np.zeros((8, n))
    return out


@pytest.mark.parametrize("n", [2, 3, 8, 17, 62, 250])
@pytest.mark.parametrize("rail", [None, 150.0])
def test_gate_codes_equal_numpy(n, rail):
    rng = np.random.default_rng(n)
    th = GateThresholds(saturation_uv=rail)
    seen = set()
    for name, x in _cases(rng, n).items():
        for line in (False, True) if n >= 8 else (False,):
            want = _numpy_flags(x, 250.0, th, line=line)
            got = channel_flags(x, 250.0, th, line=line)
            np.testing.assert_array_equal(got, want, err_msg=f"{name}, line={line}")
            seen.update(got.tolist())
    if n >= 62 and rail is None:  # every flag shows up (a rail turns the loud channel saturated)
        assert seen == {0, *FLAG_CODES.values()}, seen


def test_gate_codes_of_stacked_blocks_are_each_blocks_own():
    rng = np.random.default_rng(1)
    cases = list(_cases(rng, 62).values())
    blocks = np.stack(cases)  # (n_blocks, 8, 62)
    got = channel_flags(blocks, 250.0)
    assert got.shape == (len(cases), 8)
    for i, x in enumerate(cases):
        np.testing.assert_array_equal(got[i], channel_flags(x, 250.0))
    np.testing.assert_array_equal(got, _numpy_flags(blocks, 250.0, GateThresholds()))


def test_gate_codes_refuse_a_single_sample():
    from bci.errors import SignalError

    with pytest.raises(SignalError, match="at least 2 samples"):
        channel_flags(np.zeros((8, 1)), 250.0)


@pytest.mark.parametrize("notch", [None, 50.0])
@pytest.mark.parametrize("sizes", [[1], [10], [7, 1, 33, 10, 0, 64], [500]])
def test_causal_filter_equals_scipy_sosfilt(notch, sizes):
    rng = np.random.default_rng(7)
    x = rng.normal(0, 20, (sum(sizes) * 6, 8))
    f = CausalFilter(250.0, 8.0, 30.0, notch=notch)
    out, i, k = [], 0, 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        out.append(f.process(x[i : i + n]))
        i, k = i + n, k + 1
    got = np.concatenate(out)
    want = sps.sosfilt(design_bandpass(250.0, 8.0, 30.0, 4, notch), x, axis=0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


def test_causal_filter_keeps_its_input_and_takes_any_layout():
    rng = np.random.default_rng(3)
    x = np.asfortranarray(rng.normal(0, 5, (40, 4)).astype(np.float32))
    before = x.copy()
    y = CausalFilter(250.0, 8.0, 30.0).process(x)
    np.testing.assert_array_equal(x, before)
    want = sps.sosfilt(design_bandpass(250.0, 8.0, 30.0, 4, None), x.astype(np.float64), axis=0)
    np.testing.assert_allclose(y, want, atol=1e-12 * np.abs(want).max())
