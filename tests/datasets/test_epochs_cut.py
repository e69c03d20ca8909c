"""The one epoch cutter agrees with MNE's Epochs (bounds and reject_by_annotation)."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from bci.datasets.epochs import bad_spans, cut_epochs, find_events, fixed_length_epochs
from bci.errors import DataError

SFREQ = 160.0


def _raw(rng: np.random.Generator) -> mne.io.RawArray:
    data = rng.standard_normal((3, 4000)) * 1e-5
    info = mne.create_info(["C3", "Cz", "C4"], SFREQ, "eeg")
    # a non-zero first sample, as after a crop: onsets count from it
    raw = mne.io.RawArray(data, info, first_samp=320, verbose="error")
    grid = np.arange(0.2, raw.times[-1], 0.7)  # distinct samples; the first and last cues
    cues = grid + rng.uniform(0, 0.3, len(grid))  # have epochs that leave the data
    bad_onsets = [3.0, 10.0, 10.0 + 64 / SFREQ]  # a span, and zero-length boundaries
    raw.set_annotations(
        mne.Annotations(
            [*cues, *bad_onsets],
            [0.0] * len(cues) + [1.5, 0.0, 0.0],
            ["cue"] * len(cues) + ["BAD_artefact", "BAD boundary", "bad boundary"],
            orig_time=raw.annotations.orig_time,
        )
    )
    return raw


@pytest.mark.parametrize(("tmin", "tmax"), [(-1.0, 2.5), (0.0, 0.4), (0.5, 3.0)])
def test_same_epochs_and_data_as_mne(rng: np.random.Generator, tmin: float, tmax: float) -> None:
    raw = _raw(rng)
    events = find_events(raw, {"cue": "cue"})
    onsets = np.array([s for s, _ in events])
    first = round(tmin * SFREQ)
    n = round(tmax * SFREQ) - first + 1  # MNE's [tmin, tmax] includes both ends
    X, kept = cut_epochs(raw.get_data(), onsets, first, n, sfreq=SFREQ, bad=bad_spans(raw))

    mne_events, _ = mne.events_from_annotations(raw, {"cue": 1}, verbose="error")
    ep = mne.Epochs(
        raw, mne_events, tmin=tmin, tmax=tmax, baseline=None, preload=True,
        reject_by_annotation=True, on_missing="ignore", verbose="error",
    )  # fmt: skip
    assert 0 < len(kept) < len(onsets)  # the random cues put some epochs outside or across
    np.testing.assert_array_equal(onsets[kept] + raw.first_samp, ep.events[:, 0])
    np.testing.assert_array_equal(X, ep.get_data())


def test_bad_spans_and_fixed_length(rng: np.random.Generator) -> None:
    raw = _raw(rng)
    np.testing.assert_allclose(bad_spans(raw), [[3.0, 4.5], [10.0, 10.0], [10.4, 10.4]])
    data = np.arange(2 * 25).reshape(2, 25)
    X = fixed_length_epochs(data, 10)
    assert X.shape == (2, 2, 10)
    np.testing.assert_array_equal(X[1], data[:, 10:20])
    with pytest.raises(DataError, match=r"The baseline has 25 samples, shorter than one epoch"):
        fixed_length_epochs(data, 30, "The baseline")


def test_cut_epochs_errors() -> None:
    with pytest.raises(DataError, match="n_times must be >= 1 sample, got 0"):
        cut_epochs(np.zeros((1, 10)), [0], 0, 0)
    with pytest.raises(DataError, match="needs sfreq"):
        cut_epochs(np.zeros((1, 10)), [0], 0, 2, bad=np.array([[0.0, 1.0]]))
