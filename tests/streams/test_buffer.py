import numpy as np
import pytest

from bci.errors import SignalError
from bci.streams.buffer import RingBuffer


def test_wraparound_keeps_last_samples_in_order(rng):
    buf = RingBuffer(100, 3)
    data = rng.standard_normal((357, 3))
    t = np.arange(357) / 10.0
    i = 0
    for n in (7, 50, 0, 99, 101, 100):
        buf.write(data[i : i + n], t[i : i + n])
        i += n
    assert buf.n_written == 357
    w, ts = buf.latest(100)
    np.testing.assert_array_equal(w, data[-100:].T)
    np.testing.assert_array_equal(ts, t[-100:])
    w, ts = buf.window_ending_at(300, 40)
    np.testing.assert_array_equal(w, data[260:300].T)
    assert w.shape == (3, 40)


def test_chunk_larger_than_capacity(rng):
    buf = RingBuffer(10, 2)
    data = rng.standard_normal((25, 2))
    buf.write(data, np.arange(25.0))
    assert buf.n_written == 25
    np.testing.assert_array_equal(buf.latest(10)[0], data[-10:].T)


def test_window_outside_buffer_is_refused(rng):
    buf = RingBuffer(10, 2)
    buf.write(rng.standard_normal((25, 2)), np.arange(25.0))
    with pytest.raises(SignalError, match=r"samples \[5, 15\) are not in the buffer"):
        buf.window_ending_at(15, 10)
    with pytest.raises(SignalError, match="not in the buffer"):
        buf.window_ending_at(26, 2)


def test_shape_checks(rng):
    buf = RingBuffer(10, 2)
    with pytest.raises(SignalError, match=r"shape \(n_samples, 2\)"):
        buf.write(rng.standard_normal((5, 3)), np.arange(5.0))
    with pytest.raises(SignalError, match="timestamps must have shape"):
        buf.write(rng.standard_normal((5, 2)), np.arange(4.0))


def test_index_after_finds_the_newest_sample_stamped_t(rng):
    buf = RingBuffer(50, 2)
    assert buf.index_after(0.0, 10) is None  # empty
    # Timestamps repeat in pairs (a source stamping two samples alike): the newest wins.
    t = np.repeat(np.arange(60.0), 2)
    data = rng.standard_normal((120, 2))
    for i in range(0, 120, 7):  # wraps around the 50-sample array several times
        buf.write(data[i : i + 7], t[i : i + 7])
        n = buf.n_written
        oldest = n - buf.n_available
        for want_end in range(oldest + 1, n + 1):
            stamp = t[want_end - 1]
            got = buf.index_after(stamp, buf.n_available)
            newest = max(j + 1 for j in range(oldest, n) if t[j] == stamp)
            assert got == newest
            # Search only the last few samples: older stamps are not found.
            recent = buf.index_after(stamp, 3)
            assert recent == (newest if newest > n - 3 else None)
        assert buf.index_after(-1.0, buf.n_available) is None
        assert buf.index_after(t[oldest - 1] if oldest else -5.0, buf.n_available) in (
            None,
            oldest + 1,  # its pair is still held
        )
