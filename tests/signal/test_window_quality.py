"""The per-window quality gate: dead, railed, floating and hum-only inputs are never decoded."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import SignalError
from bci.signal.quality import GateThresholds, window_quality

SFREQ = 250.0
CH = ["C3", "Cz", "C4", "FC3", "FC4", "CP3", "CP4", "Pz"]


@pytest.fixture
def eeg(rng):
    """8 channels x 2 s of 1/f-ish noise with a 10 Hz rhythm, ~10-20 µV: passes the gate."""
    t = np.arange(int(2 * SFREQ)) / SFREQ
    x = np.cumsum(rng.standard_normal((len(CH), t.size)), axis=-1) * 0.5
    x += rng.standard_normal((len(CH), t.size)) * 8 + 10 * np.sin(2 * np.pi * 10 * t)
    return x


def test_clean_eeg_passes(eeg):
    q = window_quality(eeg, SFREQ, CH)
    assert q.ok and q.channels == {} and q.reason == ""


def test_flat_zeros_are_withheld(eeg):
    q = window_quality(np.zeros_like(eeg), SFREQ, CH)
    assert not q.ok
    assert set(q.channels.values()) == {"flat"} and list(q.channels) == CH
    assert q.reason == (
        "flat signal on C3, Cz, C4, FC3, FC4, CP3, CP4, Pz (standard deviation < 0.1 µV)"
    )


def test_one_flat_channel_is_enough(eeg):
    eeg[4] = 3.2  # a constant offset: the electrode's lead is off
    q = window_quality(eeg, SFREQ, CH)
    assert not q.ok and q.channels == {"FC4": "flat"}


def test_one_disconnected_channel(eeg, rng):
    t = np.arange(eeg.shape[1]) / SFREQ
    # A floating electrode: slow drift of hundreds of µV plus large broadband noise.
    eeg[1] = 400 * np.sin(2 * np.pi * 0.3 * t) + rng.standard_normal(t.size) * 300
    q = window_quality(eeg, SFREQ, CH)
    assert not q.ok and q.channels == {"Cz": "disconnected"}
    assert q.reason == "disconnected electrode on Cz (amplitude far above EEG)"


def test_saturation(eeg):
    eeg[0] = np.clip(eeg[0] * 10 + 400, -187.5, 187.5)  # railed at the amplifier's range
    q = window_quality(eeg, SFREQ, CH)
    assert not q.ok and q.channels == {"C3": "saturated"}
    assert "saturated signal on C3" in q.reason


def test_absolute_rail_threshold(eeg):
    rail = float(np.abs(eeg).max()) + 1.0
    th = GateThresholds(saturation_uv=rail)
    assert window_quality(eeg, SFREQ, CH, th).ok
    eeg[2, 100] = rail + 5.0
    q = window_quality(eeg, SFREQ, CH, th)
    assert q.channels == {"C4": "saturated"}


def test_50hz_only_is_withheld(rng):
    t = np.arange(int(2 * SFREQ)) / SFREQ
    hum = 40 * np.sin(2 * np.pi * 50 * t + rng.uniform(0, 6, (len(CH), 1)))
    q = window_quality(hum + rng.standard_normal(hum.shape) * 0.5, SFREQ, CH)
    assert not q.ok and set(q.channels.values()) == {"line_noise"}
    assert q.reason.startswith("only mains interference on C3, Cz")


def test_one_humming_channel_is_not_enough(eeg):
    t = np.arange(eeg.shape[1]) / SFREQ
    eeg[3] = 200 * np.sin(2 * np.pi * 50 * t) + eeg[3] * 0.01
    q = window_quality(eeg, SFREQ, CH)
    assert q.ok and q.channels == {"FC3": "line_noise"}  # reported, not blocking


def test_non_finite(eeg):
    eeg[5, 10] = np.nan
    q = window_quality(eeg, SFREQ, CH)
    assert not q.ok and q.channels == {"CP3": "non_finite"} and "NaN/inf" in q.reason


def test_bad_input_is_named():
    with pytest.raises(SignalError, match=r"n_times >= 2\), got an array of shape \(8,\)"):
        window_quality(np.zeros(8), SFREQ)
    with pytest.raises(SignalError, match="ch_names has 2 names for 3 channels"):
        window_quality(np.zeros((3, 10)), SFREQ, ["a", "b"])


@pytest.mark.realdata
def test_real_eeg_windows_pass(eegbci_path):
    from bci.recordings import read_recording

    base = eegbci_path / "MNE-eegbci-data/files/eegmmidb/1.0.0"
    # S001: clean; S005: strong 60 Hz hum (mains 5-17x the 2-40 Hz power), still EEG.
    for rel in ("S001/S001R04.edf", "S005/S005R08.edf"):
        rec = read_recording(base / rel)
        n = int(2 * rec.sfreq)
        verdicts = [
            window_quality(rec.data[:, s : s + n], rec.sfreq, rec.ch_names).ok
            for s in range(0, rec.n_times - n, 4 * n)
        ]
        assert all(verdicts), f"{rel}: {verdicts.count(False)} of {len(verdicts)} withheld"
