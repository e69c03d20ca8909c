"""OnlineMuSuppression: a neurofeedback value per window, smoothing, cost, errors."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from bci.errors import SignalError
from bci.signal.erd import OnlineMuSuppression, smoothing_from_time_constant

SF = 250.0
CH = ["FC3", "C3", "Cz", "C4", "CP3", "O1", "Oz", "O2"]


def signal(
    rng: np.random.Generator, n_times: int, amps: dict[str, float], noise: float = 1.0
) -> np.ndarray:
    """(n_channels, n_times): a 10 Hz sine per channel of the given amplitude, plus noise."""
    t = np.arange(n_times) / SF
    x = rng.normal(0.0, noise, size=(len(CH), n_times))
    for i, ch in enumerate(CH):
        a = amps.get(ch, 0.0)
        if a:
            x[i] += a * np.sin(2 * np.pi * 10.0 * t + rng.uniform(0, 6))
    return x


BASE = {"C3": 8.0, "Cz": 8.0, "C4": 8.0, "O1": 8.0, "Oz": 8.0, "O2": 8.0}


def test_process_before_baseline_says_what_to_do(rng: np.random.Generator) -> None:
    online = OnlineMuSuppression(SF, CH)
    assert not online.has_baseline
    with pytest.raises(SignalError, match=r"no baseline: call set_baseline\(data\)"):
        online.process(signal(rng, 500, BASE))


def test_known_erd_per_window(rng: np.random.Generator) -> None:
    online = OnlineMuSuppression(SF, CH, smoothing=0.0)
    online.set_baseline(signal(rng, 30 * 250, BASE))
    win = signal(rng, 500, {**BASE, "C3": 8.0 * math.sqrt(0.5), "O1": 8.0 * math.sqrt(0.1)})
    out = online.process(win)
    assert out["channels"]["C3"]["mu"] == pytest.approx(math.log10(0.5), abs=0.03)
    assert out["channels"]["Cz"]["mu"] == pytest.approx(0.0, abs=0.03)
    assert out["channels"]["C4"]["mu"] == pytest.approx(0.0, abs=0.03)
    mean_mu = np.mean([out["channels"][c]["mu"] for c in ("C3", "Cz", "C4")])
    assert out["index"] == pytest.approx(mean_mu)
    assert out["smoothed"] == out["index"]
    assert out["band"] == "mu"
    assert out["occipital"]["O1"] == pytest.approx(-1.0, abs=0.05)
    assert out["occipital_alpha"] == pytest.approx(np.mean(list(out["occipital"].values())))
    assert out["n_windows"] == 1
    json.dumps(out, allow_nan=False)  # JSON-ready


def test_exponential_smoothing(rng: np.random.Generator) -> None:
    online = OnlineMuSuppression(SF, CH, smoothing=0.8)
    online.set_baseline(signal(rng, 20 * 250, BASE))
    values, smoothed = [], []
    for k in range(6):
        amp = 8.0 * (math.sqrt(0.3) if k >= 2 else 1.0)  # suppression starts at window 2
        out = online.process(signal(rng, 500, {**BASE, "C3": amp, "C4": amp}))
        values.append(out["index"])
        smoothed.append(out["smoothed"])
    expected = values[0]
    assert smoothed[0] == pytest.approx(expected)
    for v, s in zip(values[1:], smoothed[1:], strict=True):
        expected = 0.8 * expected + 0.2 * v
        assert s == pytest.approx(expected)
    assert values[-1] < -0.25 and values[-1] < smoothed[-1] < values[0]
    online.reset()
    out = online.process(signal(rng, 500, BASE))
    assert out["smoothed"] == out["index"] and out["n_windows"] == 1


def test_time_constant_helper() -> None:
    assert smoothing_from_time_constant(0.0, 0.0625) == 0.0
    s = smoothing_from_time_constant(1.0, 0.0625)
    assert s == pytest.approx(math.exp(-0.0625))
    # After tau seconds of a step, the smoothed value has covered 1 - 1/e of it.
    assert 1 - s**16 == pytest.approx(1 - math.exp(-1))
    with pytest.raises(SignalError, match="tau_s must be >= 0 and step_s > 0"):
        smoothing_from_time_constant(1.0, 0.0)


def test_without_occipital_channels(rng: np.random.Generator) -> None:
    ch = ["C3", "Cz", "C4"]
    online = OnlineMuSuppression(SF, ch, window_s=1.0)
    online.set_baseline(rng.standard_normal((3, 2500)))
    out = online.process(rng.standard_normal((3, 250)))
    assert out["occipital_alpha"] is None and out["occipital"] == {}


def test_bad_input_messages(rng: np.random.Generator) -> None:
    with pytest.raises(SignalError, match="channel 'C5' not in the montage; available channels"):
        OnlineMuSuppression(SF, CH, channels=("C3", "C5"))
    with pytest.raises(SignalError, match=r"smoothing must be a factor in \[0, 1\)"):
        OnlineMuSuppression(SF, CH, smoothing=1.5)
    with pytest.raises(
        SignalError,
        match=r"window_s=0.2 s \(50 samples\) is too short .* need "
        r"at least 100 samples \(0.4 s\)",
    ):
        OnlineMuSuppression(SF, CH, window_s=0.2)
    with pytest.raises(SignalError, match="index_band 'alpha' is not one of the bands: mu, beta"):
        OnlineMuSuppression(SF, CH, index_band="alpha")
    online = OnlineMuSuppression(SF, CH)
    with pytest.raises(
        SignalError,
        match=r"baseline of 100 samples \(0.4 s\) is too short: need "
        r"at least 250 samples \(1 s\)",
    ):
        online.set_baseline(rng.standard_normal((8, 100)))
    online.set_baseline(signal(rng, 2500, BASE))
    with pytest.raises(
        SignalError,
        match=r"window must be \(n_channels=8, n_times\), got shape "
        r"\(3, 500\)",
    ):
        online.process(rng.standard_normal((3, 500)))
    with pytest.raises(SignalError, match=r"window of 200 samples .* too short"):
        online.process(rng.standard_normal((8, 200)))
    bad = rng.standard_normal((8, 500))
    bad[1, 5] = np.nan
    with pytest.raises(SignalError, match="window contains NaN"):
        online.process(bad)
    flat = rng.standard_normal((8, 500))
    flat[1] = 0.0
    with pytest.raises(SignalError, match=r"no power in a band at channels \['C3'\]"):
        online.process(flat)


def test_process_is_cheap(rng: np.random.Generator) -> None:
    online = OnlineMuSuppression(SF, CH)
    online.set_baseline(signal(rng, 5000, BASE))
    win = signal(rng, 500, BASE)  # 8 channels x 500 samples
    for _ in range(20):
        online.process(win)
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        online.process(win)
        times.append(time.perf_counter() - t0)
    assert float(np.median(times)) < 1e-3
