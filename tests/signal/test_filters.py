import numpy as np
import pytest

from bci.errors import SignalError
from bci.signal import CausalFilter, design_bandpass, filter_continuous


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_chunked_equals_one_shot_for_random_chunk_sizes(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3000, 8)) * 20
    one = CausalFilter(250, 8, 30, notch=50).process(x)
    f = CausalFilter(250, 8, 30, notch=50)
    parts, i = [], 0
    while i < len(x):
        n = int(rng.integers(0, 97))  # zero-length chunks happen on a live stream too
        parts.append(f.process(x[i : i + n]))
        i += n
    np.testing.assert_allclose(np.vstack(parts), one, rtol=0, atol=1e-10)


def test_filter_continuous_matches_causal_filter(rng):
    x = rng.standard_normal((4, 1000))
    np.testing.assert_array_equal(
        filter_continuous(x, 160, 8, 32), CausalFilter(160, 8, 32).process(x.T).T
    )


def test_passband_kept_stopband_removed():
    sfreq = 250
    t = np.arange(10 * sfreq) / sfreq
    x = np.stack([np.sin(2 * np.pi * 12 * t), np.sin(2 * np.pi * 2 * t)], axis=1)
    y = CausalFilter(sfreq, 8, 30).process(x)[5 * sfreq :]
    assert 0.9 < y[:, 0].std() / x[:, 0].std() < 1.1
    assert y[:, 1].std() / x[:, 1].std() < 0.01


def test_notch_removes_line_noise():
    sfreq = 250
    t = np.arange(10 * sfreq) / sfreq
    x = np.sin(2 * np.pi * 50 * t)[:, None]
    y = CausalFilter(sfreq, 1, 100, notch=50).process(x)[5 * sfreq :]
    assert y.std() < 0.05


def test_channel_count_change_is_refused(rng):
    f = CausalFilter(250)
    f.process(rng.standard_normal((10, 4)))
    with pytest.raises(SignalError, match="chunk has 5 channels, the filter was started with 4"):
        f.process(rng.standard_normal((10, 5)))


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        ((250, 8, 130), r"h_freq must be in \(0, 125.0\)"),
        ((250, 30, 8), "l_freq .* must be below h_freq"),
        ((0, 8, 30), "sfreq must be positive"),
    ],
)
def test_bad_design_parameters(args, msg):
    with pytest.raises(SignalError, match=msg):
        design_bandpass(*args)


def test_wrong_ndim(rng):
    with pytest.raises(SignalError, match="2-D"):
        CausalFilter(250).process(rng.standard_normal(10))
