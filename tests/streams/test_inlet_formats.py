"""Real pylsl outlets of every channel format and unit, read by our inlets on loopback."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import StreamError
from bci.streams.inlets import NUMERIC_DTYPES, Inlet, MarkerInlet, open_inlet
from bci.streams.lsl import get_pylsl, local_clock, make_eeg_info, resolve_stream
from tests._helpers import wait_until

pytestmark = pytest.mark.network

CH = ["C3..", "Cz..", "Fc4."]  # EDF-style labels: standardised by the inlet


def _pull_all(inlet: Inlet, n: int) -> tuple[np.ndarray, np.ndarray]:
    parts, times = [], []

    def got() -> bool:
        c = inlet.pull()
        if c.n_samples:
            parts.append(c.data)
            times.append(c.timestamps)
        return sum(len(p) for p in parts) >= n

    wait_until(got, timeout=10)
    return np.concatenate(parts), np.concatenate(times)


@pytest.mark.parametrize(
    ("fmt", "unit", "values", "expected_uv"),
    [
        ("float32", "microvolts", [1.5, -2.0, 3.25], [1.5, -2.0, 3.25]),
        ("double64", "V", [1.5e-6, -2e-5, 1e-4], [1.5, -20.0, 100.0]),
        ("double64", "0", [1.5e-6, -2e-5, 1e-4], [1.5, -20.0, 100.0]),  # mne-lsl: 10^0 V
        ("float32", "mV", [0.001, -0.5, 2.0], [1.0, -500.0, 2000.0]),
        ("int8", "µV", [-128, 0, 127], [-128.0, 0.0, 127.0]),
        ("int16", "nV", [-32768, 1000, 32767], [-32.768, 1.0, 32.767]),
        ("int32", "uV", [-(2**31), 7, 2**31 - 1], [-(2.0**31), 7.0, 2.0**31 - 1]),
        ("int64", "microvolts", [-(2**40), 5, 2**40], [-(2.0**40), 5.0, 2.0**40]),
    ],
)
def test_every_numeric_format_arrives_in_microvolts(stream_name, fmt, unit, values, expected_uv):
    pylsl = get_pylsl()
    info = make_eeg_info(stream_name, CH, 250.0, f"src-{stream_name}", units=unit, fmt=fmt)
    outlet = pylsl.StreamOutlet(info)
    inlet = open_inlet(resolve_stream(name=stream_name))
    try:
        assert isinstance(inlet, Inlet)
        d = inlet.description
        assert d.channel_format == fmt
        assert d.ch_names == ["C3", "Cz", "FC4"]
        assert d.source_ch_names == CH
        assert d.units == [unit] * 3
        assert inlet.drain_warnings() == []  # every unit here is known
        wait_until(lambda: outlet.have_consumers(), timeout=5)
        dtype = NUMERIC_DTYPES[fmt]
        block = np.tile(np.array(values, dtype=dtype), (20, 1))
        t0 = local_clock()
        outlet.push_chunk(block, t0)
        data, _ = _pull_all(inlet, 20)
        assert data.dtype == np.float64 and data.shape == (20, 3)
        np.testing.assert_allclose(data, np.tile(expected_uv, (20, 1)), rtol=1e-6)
        assert inlet.n_timestamp_errors == 0
    finally:
        inlet.close()


def test_unknown_unit_is_taken_as_microvolts_with_a_warning(stream_name):
    pylsl = get_pylsl()
    info = make_eeg_info(stream_name, ["C3", "C4"], 250.0, "src", units="furlongs")
    outlet = pylsl.StreamOutlet(info)  # noqa: F841 (kept alive while the inlet opens)
    inlet = Inlet(resolve_stream(name=stream_name))
    try:
        warnings = inlet.drain_warnings()
        assert len(warnings) == 1
        assert "unknown or missing unit on 2 channel(s)" in warnings[0]
        assert "'furlongs'" in warnings[0] and "taken as microvolts" in warnings[0]
        assert list(inlet.scales) == [1.0, 1.0]
    finally:
        inlet.close()


def test_repeated_and_backward_timestamps_are_counted_not_flattened(stream_name):
    pylsl = get_pylsl()
    outlet = pylsl.StreamOutlet(make_eeg_info(stream_name, ["C3", "C4"], 100.0, "src"))
    inlet = Inlet(resolve_stream(name=stream_name))
    try:
        wait_until(lambda: outlet.have_consumers(), timeout=5)
        inlet.drain_warnings()
        t0 = local_clock()
        ts = t0 + np.arange(10) / 100.0
        ts[5:] -= 2.0  # the source re-sends back-dated samples: 1 backward step...
        ts[8] = ts[7]  # ...and one repeated timestamp
        for i in range(10):
            outlet.push_sample([float(i), 0.0], ts[i])
        _, got_ts = _pull_all(inlet, 10)
        # Kept as sent (no proc_monotonize): the clock offset is the same for every sample.
        np.testing.assert_allclose(np.diff(got_ts), np.diff(ts), atol=1e-6)
        assert inlet.n_timestamp_errors == 2
        warnings = inlet.drain_warnings()
        assert warnings and "repeated or backward timestamp" in warnings[-1]
        assert "2 so far" in warnings[-1] or "2 so far" in " ".join(warnings)
    finally:
        inlet.close()


def test_string_stream_is_refused_as_eeg(stream_name):
    pylsl = get_pylsl()
    info = pylsl.StreamInfo(stream_name, "EEG", 2, 250.0, pylsl.cf_string, "src")
    outlet = pylsl.StreamOutlet(info)  # noqa: F841 (kept alive while the inlet opens)
    with pytest.raises(StreamError, match=r"needs a numeric channel_format .* got 'string'"):
        Inlet(resolve_stream(name=stream_name))


@pytest.mark.parametrize("kind", ["string", "code", "one-hot"])
def test_marker_streams_of_every_encoding(stream_name, kind):
    pylsl = get_pylsl()
    if kind == "string":
        info = pylsl.StreamInfo(stream_name, "Markers", 1, 0.0, pylsl.cf_string, "m")
        samples = [["T1"], ["T2"]]
        expected = ["T1", "T2"]
    elif kind == "code":
        info = pylsl.StreamInfo(stream_name, "Markers", 1, 0.0, pylsl.cf_int32, "m")
        samples = [[1], [2]]
        expected = ["1", "2"]
    else:  # mne-lsl's one-hot annotations: one channel per description, the duration in it
        info = pylsl.StreamInfo(stream_name, "annotations", 3, 0.0, pylsl.cf_double64, "m")
        info.set_channel_labels(["T0", "T1", "T2"])
        samples = [[0.0, 4.1, 0.0], [0.0, 0.0, -1.0]]
        expected = ["T1", "T2"]
    outlet = pylsl.StreamOutlet(info)
    inlet = open_inlet(resolve_stream(name=stream_name))
    try:
        assert isinstance(inlet, MarkerInlet)
        wait_until(lambda: outlet.have_consumers(), timeout=5)
        t0 = local_clock()
        for i, s in enumerate(samples):
            outlet.push_sample(s, t0 + i)
        got: list[tuple[float, str]] = []
        wait_until(lambda: got.extend(inlet.pull()) or len(got) >= 2, timeout=5)
        assert [v for _, v in got] == expected
        np.testing.assert_allclose([t for t, _ in got], [t0, t0 + 1], atol=1e-3)
    finally:
        inlet.close()


def test_gil_keeping_calls_agree_with_pylsl(stream_name):
    """The engine's two per-round liblsl calls, made without releasing the GIL (PyDLL), give
    pylsl's answers: the clock, and the count of samples waiting on a real stream."""
    import ctypes
    import threading

    from bci.streams.lsl import held_call

    pylsl = get_pylsl()
    clock = held_call("lsl_local_clock", ctypes.c_double, [])
    assert clock is not None
    a, b, c = pylsl.local_clock(), clock(), pylsl.local_clock()
    assert a <= b <= c and local_clock() >= c
    outlet = pylsl.StreamOutlet(make_eeg_info(stream_name, ["C3", "C4"], 250.0, "src"))
    inlet = Inlet(resolve_stream(name=stream_name))
    try:
        assert inlet._available is not inlet._inlet.samples_available  # the held path
        wait_until(lambda: outlet.have_consumers(), timeout=5)
        assert inlet._available() == inlet._inlet.samples_available() == 0
        outlet.push_chunk(np.zeros((25, 2), np.float32), local_clock())
        wait_until(lambda: inlet._available() == 25, timeout=5)
        assert inlet._inlet.samples_available() == 25
        # An empty poll returns the inlet's one empty chunk; a poll with data, fresh arrays.
        data, _ = _pull_all(inlet, 25)
        assert data.shape == (25, 2) and inlet._available() == 0
        assert inlet.pull() is inlet.pull() and inlet.pull().n_samples == 0
        # Another thread keeps running Python while this one polls (the GIL is held per
        # call, not across calls).
        ticks = [0]
        stop = threading.Event()

        def spin() -> None:
            while not stop.is_set():
                ticks[0] += 1

        th = threading.Thread(target=spin)
        th.start()
        for _ in range(20000):
            inlet.pull()
        stop.set()
        th.join()
        assert ticks[0] > 0
    finally:
        inlet.close()
