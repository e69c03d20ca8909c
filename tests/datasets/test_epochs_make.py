"""Epochs from continuous data: the same numbers the online engine's windows hold."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from bci.datasets import epochs_from_raw, make_epochs
from bci.errors import DataError, SignalError, UnknownNameError
from bci.signal import CausalFilter

SFREQ = 250.0


def test_epochs_equal_online_windows(rng: np.random.Generator) -> None:
    """Filter chunk by chunk like a live session; the window ending at each epoch's end matches."""
    data = rng.standard_normal((4, 5000)) * 20.0
    events = [(600, "left"), (1700, "right"), (2900, "left"), (4100, "right")]
    X, y = make_epochs(data, SFREQ, events, 0.5, 2.5, (8.0, 30.0))
    assert X.shape == (4, 4, 500) and X.dtype == np.float64
    assert list(y) == ["left", "right", "left", "right"]

    filt = CausalFilter(SFREQ, 8.0, 30.0)
    pos, chunks = 0, []
    while pos < data.shape[1]:
        n = int(rng.integers(1, 40))
        chunks.append(filt.process(data[:, pos : pos + n].T))
        pos += n
    online = np.concatenate(chunks).T
    for (cue, _), epoch in zip(events, X, strict=True):
        end = cue + round(2.5 * SFREQ)
        np.testing.assert_allclose(epoch, online[:, end - 500 : end], atol=1e-9)


def test_window_is_half_open_and_offsets_apply(rng: np.random.Generator) -> None:
    data = np.arange(2000, dtype=float)[None].repeat(2, axis=0)
    X, _ = make_epochs(data, 100.0, [(500, "a"), (800, "b")], -0.5, 1.0, None)
    assert X.shape == (2, 2, 150)
    assert X[0, 0, 0] == 450 and X[0, 0, -1] == 599
    assert X[1, 1, 0] == 750


def test_events_outside_the_data_are_dropped(rng: np.random.Generator) -> None:
    data = rng.standard_normal((2, 1000))
    _, y = make_epochs(data, 100.0, [(10, "a"), (300, "b"), (950, "a")], -0.2, 1.0, None)
    assert list(y) == ["b"]
    with pytest.raises(DataError, match=r"No epoch \[0.0, 3.0\) s fits in the 1000 samples"):
        make_epochs(data, 100.0, [(900, "a")], 0.0, 3.0, None)


@pytest.mark.parametrize(
    ("kwargs", "err", "msg"),
    [
        ({"tmin": 1.0, "tmax": 1.0}, DataError, r"tmax \(1.0\) must be greater than tmin \(1.0\)"),
        ({"events": []}, DataError, "No events given: nothing to epoch"),
        ({"data": np.zeros(100)}, SignalError, r"data must be 2-D \(n_channels, n_times\)"),
        ({"band": (8.0, 200.0)}, SignalError, r"h_freq must be in \(0, 125.0\) Hz"),
    ],
)
def test_bad_arguments(kwargs: dict, err: type, msg: str) -> None:
    args = {
        "data": np.zeros((2, 1000)),
        "sfreq": SFREQ,
        "events": [(100, "a")],
        "tmin": 0.0,
        "tmax": 1.0,
        "band": (8.0, 30.0),
    }
    args.update(kwargs)
    with pytest.raises(err, match=msg):
        make_epochs(**args)


def test_nan_in_continuous_data(rng: np.random.Generator) -> None:
    data = rng.standard_normal((2, 1000))
    data[1, 10] = np.nan
    with pytest.raises(SignalError, match="data holds 1 NaN/inf values"):
        make_epochs(data, SFREQ, [(300, "a")], 0.0, 1.0, (8.0, 30.0))


def _raw(rng: np.random.Generator) -> mne.io.RawArray:
    info = mne.create_info(["C3", "Cz", "C4", "EOG"], SFREQ, ["eeg", "eeg", "eeg", "eog"])
    raw = mne.io.RawArray(rng.standard_normal((4, 5000)) * 1e-5, info, verbose="error")
    raw.set_annotations(
        mne.Annotations([2.0, 6.0, 10.0, 14.0], [0, 0, 0, 0], ["T1", "T2", "T0", "T1"])
    )
    return raw


def test_epochs_from_raw_annotations_in_microvolts(rng: np.random.Generator) -> None:
    raw = _raw(rng)
    X, y, meta = epochs_from_raw(raw, {"T1": "left", "T2": "right"}, 0.0, 3.0, band=None)
    assert X.shape == (3, 3, 750)
    assert list(y) == ["left", "right", "left"]
    assert meta["ch_names"] == ["C3", "Cz", "C4"] and meta["sfreq"] == SFREQ
    assert meta["samples"] == [500, 1500, 3500]
    np.testing.assert_allclose(X[0], raw.get_data(picks="eeg")[:, 500:1250] * 1e6)


def test_epochs_from_raw_unknown_events_lists_what_exists(rng: np.random.Generator) -> None:
    with pytest.raises(DataError) as exc:
        epochs_from_raw(_raw(rng), {"left": "left"})
    assert str(exc.value) == (
        "None of the events ['left'] is in the recording; its annotations are ['T0', 'T1', 'T2']"
    )


def test_epochs_from_raw_stim_channel(rng: np.random.Generator) -> None:
    info = mne.create_info(["C3", "C4", "STI"], SFREQ, ["eeg", "eeg", "stim"])
    data = rng.standard_normal((3, 4000)) * 1e-5
    data[2] = 0
    data[2, 500:510] = 1
    data[2, 1500:1510] = 2
    raw = mne.io.RawArray(data, info, verbose="error")
    X, y, _ = epochs_from_raw(raw, {"1": "left", "2": "right"}, 0.0, 2.0, (8.0, 30.0))
    assert list(y) == ["left", "right"] and X.shape == (2, 2, 500)


def test_unknown_eegbci_paradigm() -> None:
    from bci.datasets import get_eegbci_paradigm, load_eegbci_epochs

    with pytest.raises(UnknownNameError) as exc:
        load_eegbci_epochs(1, "imagery-tongue")
    assert str(exc.value) == (
        "Unknown eegbci paradigm 'imagery-tongue'. Must be one of: executed-left-right, "
        "imagery-4class, imagery-hands-feet, imagery-left-right, movement-rest"
    )
    par = get_eegbci_paradigm("imagery-4class")
    assert par.runs == [4, 8, 12, 6, 10, 14] and par.labels == ["feet", "hands", "left", "right"]
