"""Trial schedules, offline simulated runs, and the decodability of the synthetic headset."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
from scipy.signal import welch

from bci.errors import ConfigError, UnknownNameError
from bci.paradigms import get_paradigm
from bci.signal.filters import filter_continuous
from bci.streams.synthetic import SimulatedRun, Trial, make_schedule, simulate_run


def test_schedule_is_balanced_randomised_and_timed() -> None:
    par = get_paradigm("imagery-left-right")
    trials = make_schedule(par, trials_per_class=15, seed=1)
    assert Counter(t.label for t in trials) == {"left": 15, "right": 15}
    assert {(t.label, t.condition, t.marker) for t in trials} == {
        ("left", "imagine_left", "left"),
        ("right", "imagine_right", "right"),
    }
    labels = [t.label for t in trials]
    assert labels != sorted(labels) and labels != ["left", "right"] * 15
    tm = par.timing
    assert trials[0].onset_s == pytest.approx(2.0 + tm.fixation_s)
    gaps = np.diff([t.onset_s for t in trials])
    base = tm.trial_s + tm.rest_s + tm.fixation_s
    assert np.all(gaps >= base - 1e-6)
    assert np.all(gaps <= base + tm.jitter_s + 1e-6)
    assert gaps.std() > 0.05  # jittered
    assert all(t.duration_s == tm.trial_s for t in trials)


def test_schedule_reproducible_and_defaults() -> None:
    a = make_schedule("imagery-hands-feet", seed=3)
    assert a == make_schedule("imagery-hands-feet", seed=3)
    assert a != make_schedule("imagery-hands-feet", seed=4)
    assert len(a) == 2 * get_paradigm("imagery-hands-feet").trials_per_class
    with pytest.raises(dataclasses.FrozenInstanceError):
        a[0].label = "x"  # type: ignore[misc]


def test_schedule_errors() -> None:
    with pytest.raises(ConfigError, match="trials_per_class must be a positive int, got 0"):
        make_schedule("imagery-left-right", trials_per_class=0)
    with pytest.raises(UnknownNameError, match=r"Unknown paradigm 'nope'\. Must be one of: "):
        make_schedule("nope")


def test_simulate_run_structure() -> None:
    run = simulate_run("imagery-left-right", trials_per_class=4, seed=2)
    assert isinstance(run, SimulatedRun)
    assert run.data.dtype == np.float64
    assert run.data.shape == (8, run.n_times)
    assert run.sfreq == 250.0
    assert run.ch_names == ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
    assert len(run.events) == len(run.trials) == 8
    for (sample, label), trial in zip(run.events, run.trials, strict=True):
        assert isinstance(trial, Trial)
        assert sample == round(trial.onset_s * 250)
        assert label == trial.label
    last = run.trials[-1]
    assert run.n_times == round((last.onset_s + last.duration_s + 2.0) * 250)
    np.testing.assert_array_equal(run.data, simulate_run(trials_per_class=4, seed=2).data)


def test_simulate_run_carries_lateralised_erd() -> None:
    run = simulate_run("imagery-left-right", trials_per_class=10, seed=5)
    c3, c4 = run.ch_names.index("C3"), run.ch_names.index("C4")

    def mu_power(ch: int, label: str) -> float:
        segs = [run.data[ch, s + 125 : s + 875] for s, lab in run.events if lab == label]
        f, p = welch(np.stack(segs), 250, nperseg=250, axis=-1)
        return float(p[:, (f >= 8) & (f <= 13)].mean())

    # Lateralisation index: right-minus-left hemisphere, higher for right-hand imagery.
    li_left = np.log(mu_power(c4, "left") / mu_power(c3, "left"))
    li_right = np.log(mu_power(c4, "right") / mu_power(c3, "right"))
    assert li_right - li_left > 0.5


@pytest.mark.parametrize("headset", ["muse", "emotiv-epoc", "standard-1010-64"])
def test_simulate_run_on_other_headsets(headset: str) -> None:
    run = simulate_run("imagery-left-right", trials_per_class=2, headset=headset, seed=0)
    assert run.data.shape[0] == len(run.ch_names)
    assert np.isfinite(run.data).all()


def _cv_accuracy(run: SimulatedRun) -> float:
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    x = filter_continuous(run.data, run.sfreq, 8.0, 30.0)
    a, b = round(0.5 * run.sfreq), round(2.5 * run.sfreq)
    epochs = np.stack([x[:, s + a : s + b] for s, _ in run.events])
    y = np.array(run.labels)
    clf = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression())
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(clf, epochs, y, cv=cv).mean())


@pytest.mark.slow
def test_left_right_imagery_is_decodable_but_not_trivially() -> None:
    # 20 trials per class, 8-channel Cyton at 250 Hz, default generator settings.
    accs = [
        _cv_accuracy(simulate_run("imagery-left-right", 20, "openbci-cyton", seed=s))
        for s in (0, 1, 2)
    ]
    assert np.mean(accs) >= 0.8, accs
    assert min(accs) >= 0.7, accs
    assert np.mean(accs) <= 0.98, accs  # a realistic subject, not a perfect one
    # Without ERD the same pipeline is at chance.
    flat = [
        _cv_accuracy(simulate_run("imagery-left-right", 20, seed=s, erd_depth=0.0)) for s in (0, 1)
    ]
    assert np.mean(flat) <= 0.7, flat
