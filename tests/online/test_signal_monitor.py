"""The signal monitor (dashboard traces, quality flags, band power), stepped by hand."""

import numpy as np
import pytest

from bci.errors import SignalError
from bci.online.monitor import (
    QualityThresholds,
    SignalMonitor,
    channel_quality,
    signal_message,
)
from bci.online.session import DecodingSession
from bci.online.sources import ArraySource
from bci.signal.bandpower import band_powers

SFREQ = 250.0
CH = ["C3", "Cz", "C4", "Pz", "FC3"]


def _session(data, chunk_size=10, t0=100.0):
    src = ArraySource(data, SFREQ, CH[: data.shape[0]], chunk_size=chunk_size, t0=t0)
    return DecodingSession("7", src, clock=lambda: 0.0), src


def _feed(session, src, n_samples):
    while session.raw.n_written < n_samples and not src.done:
        session.step()


def test_block_means_timestamps_and_cursor(rng):
    data = rng.standard_normal((3, 1000)) * 10
    s, src = _session(data, chunk_size=10)
    _feed(s, src, 100)  # 100 samples = 33 blocks of 3, one sample left over
    msg = signal_message(s, 5.0, since=0)
    assert msg["type"] == "signal" and msg["session_id"] == "7"
    assert msg["index"] == 99
    assert msg["sfreq"] == pytest.approx(SFREQ / 3)
    assert msg["ch_names"] == ["C3", "Cz", "C4"]
    assert msg["t_emit"] == 5.0
    expected = data[:, :99].reshape(3, 33, 3).mean(axis=-1)
    np.testing.assert_allclose(msg["data"], expected, atol=0.005)
    t = 100.0 + np.arange(100) / SFREQ
    np.testing.assert_allclose(msg["t"], t[2:99:3], atol=1e-4)
    # The next message starts at the cursor: no sample twice, none lost.
    _feed(s, src, 160)
    nxt = signal_message(s, 5.1, since=msg["index"])
    assert nxt["index"] == 159
    np.testing.assert_allclose(nxt["data"], data[:, 99:159].reshape(3, 20, 3).mean(-1), atol=0.005)
    # Nothing new: empty rows, same cursor.
    again = signal_message(s, 5.2, since=nxt["index"])
    assert again["t"] == [] and again["data"] == [[], [], []] and again["index"] == 159


def test_rate_cap_and_backfill(rng):
    data = rng.standard_normal((2, 2500))
    s, src = _session(data, chunk_size=50)
    _feed(s, src, 2500)
    msg = signal_message(s, 0.0, max_rate=50.0, backfill_s=2.0)  # since=None: last 2 s
    assert msg["sfreq"] == pytest.approx(50.0)
    assert len(msg["t"]) == 100
    assert msg["index"] == 2500
    old = signal_message(s, 0.0, since=10, backfill_s=2.0)  # too old: clipped to 2 s
    assert len(old["t"]) == 2 * 250 // 3
    with pytest.raises(SignalError, match="max_rate must be a positive number"):
        signal_message(s, 0.0, max_rate=0)


def test_quality_flags_each_problem(rng):
    n = 500
    t = np.arange(n) / SFREQ
    x = rng.standard_normal((5, n)) * 10.0
    x[1] = 4.0 + 0.01 * rng.standard_normal(n)  # flat (disconnected)
    x[2] = np.clip(x[2] * 30, -150.0, 150.0)  # clipped at a rail
    x[3] += 60.0 * np.sin(2 * np.pi * 50.0 * t)  # mains
    x[4] = rng.standard_normal(n) * 200.0  # muscle / bad contact
    powers = band_powers(x, SFREQ, {"broad": (2.0, 40.0), "line50": (48.0, 52.0)})
    flags = channel_quality(x, SFREQ, powers=powers)
    assert flags == ["ok", "flat", "saturated", "line_noise", "noisy"]
    # Without band powers the line-noise check is skipped; thresholds are parameters.
    assert channel_quality(x, SFREQ)[3] == "ok"
    assert channel_quality(x, SFREQ, QualityThresholds(noisy_uv=5.0))[0] == "noisy"
    assert channel_quality(x * 0 + 1e5, SFREQ, QualityThresholds(saturation_uv=9e4))[0] == "flat"
    assert channel_quality(x, SFREQ, QualityThresholds(saturation_uv=100.0))[4] == "saturated"
    with pytest.raises(SignalError, match=r"window must have shape \(n_channels, n_times >= 2\)"):
        channel_quality(np.zeros(10), SFREQ)


def test_a_blink_does_not_flag_noisy(rng):
    x = rng.standard_normal((1, 500)) * 10.0
    x[0, 200:250] += 150.0 * np.hanning(50)
    assert channel_quality(x, SFREQ) == ["ok"]


def test_band_power_and_quality_in_the_message(rng):
    data = rng.standard_normal((2, 1000)) * 10
    data[1] = 0.0
    s, src = _session(data)
    _feed(s, src, 1000)
    msg = signal_message(s, 0.0, quality_s=2.0)
    assert msg["quality"] == {"C3": "ok", "Cz": "flat"}
    ref = band_powers(data[:, -500:], SFREQ)
    assert msg["band_power"]["C3"]["mu"] == pytest.approx(ref["mu"][0], abs=1e-3)
    assert msg["band_power"]["C3"]["beta"] == pytest.approx(ref["beta"][0], abs=1e-3)
    assert msg["band_power"]["Cz"] == {"mu": 0.0, "beta": 0.0}
    # Under one second of signal: flags, but no band power yet.
    s2, src2 = _session(data)
    _feed(s2, src2, 100)
    early = signal_message(s2, 0.0)
    assert early["band_power"] == {}
    assert set(early["quality"]) == {"C3", "Cz"}
    assert signal_message(s, 0.0, with_quality=False)["quality"] == {}


def test_monitor_publishes_at_its_rate(rng):
    data = rng.standard_normal((3, 2500)) * 10  # 10 s
    s, src = _session(data, chunk_size=5)
    got = []
    s.subscribe(lambda m: m["type"] == "signal" and got.append(m))
    mon = s.stage(SignalMonitor)  # every session has one, stepped with the session
    assert (mon.rate_hz, mon.quality_period_s) == (10.0, 0.5)
    assert mon.tick(s.ctx, 0.0) == []  # no samples yet
    s.clock = lambda: 100.0 + s.raw.n_written / SFREQ  # stream time as the clock
    while not src.done:
        s.step()
    assert 98 <= len(got) <= 101
    assert mon.n_sent == len(got)
    t = np.concatenate([m["t"] for m in got])
    np.testing.assert_allclose(np.diff(t), 3 / SFREQ, atol=1e-3)  # continuous, no repeats
    assert all(m["quality"] == {"C3": "ok", "Cz": "ok", "C4": "ok"} for m in got[10:])
    # Band power needs one second of signal; quality is refreshed every 0.5 s.
    assert all(set(m["band_power"]) == {"C3", "Cz", "C4"} for m in got[15:])
    with pytest.raises(SignalError, match=r"rate_hz must be a number in \(0, 100\], got 0"):
        SignalMonitor(rate_hz=0)


def test_monitor_idle_when_no_subscriber_wants_signal(rng):
    data = rng.standard_normal((3, 1500)) * 10  # 6 s
    s, src = _session(data, chunk_size=5)
    s.clock = lambda: 100.0 + s.raw.n_written / SFREQ
    mon = s.stage(SignalMonitor)

    class NoSignal:
        wants_signal = False

        def __init__(self):
            self.types = []

        def __call__(self, msg):
            self.types.append(msg["type"])

    plain = NoSignal()
    unsubscribe_plain = s.subscribe(plain)
    assert s.wants_signal() is False
    _feed(s, src, 500)
    assert mon.n_sent == 0 and "signal" not in plain.types
    # A subscriber without the attribute (or with it true) gets signal frames again.
    got = []
    s.subscribe(lambda m: m["type"] == "signal" and got.append(m))
    assert s.wants_signal() is True
    _feed(s, src, 1000)
    assert 15 <= mon.n_sent == len(got) <= 21
    unsubscribe_plain()
    assert s.wants_signal() is True
