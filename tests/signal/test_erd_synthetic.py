"""End to end on the synthetic headset: imagery and action observation as mu suppression."""

from __future__ import annotations

import numpy as np
import pytest

from bci.signal.erd import OnlineMuSuppression, mu_suppression

synthetic = pytest.importorskip("bci.streams.synthetic", reason="synthetic headset not built")


def _epochs(run: object, start: float, stop: float) -> np.ndarray:
    sf = run.sfreq  # type: ignore[attr-defined]
    n = round((stop - start) * sf)
    i0 = round(start * sf)
    return np.stack([run.data[:, s + i0 : s + i0 + n] for s, _ in run.events])  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def ao_run() -> object:
    from bci.paradigms import ClassSpec, Paradigm

    par = Paradigm(
        name="test-ao",
        title="imagery, observation, observation + imagery, rest",
        classes=(
            ClassSpec(label="right", condition="imagine_right"),
            ClassSpec(label="observe", condition="observe"),
            ClassSpec(label="observe_imagine", condition="observe_imagine"),
            ClassSpec(label="rest", condition="rest"),
        ),
    )
    return synthetic.simulate_run(par, 30, "standard-1020-19", seed=0)


def test_imagery_and_observation_against_rest(ao_run: object) -> None:
    run = ao_run
    cond = _epochs(run, 0.5, 2.5)
    labels = np.array(run.labels)  # type: ignore[attr-defined]
    rest = cond[labels == "rest"]
    res = {
        lab: mu_suppression(cond[labels == lab], rest, run.sfreq, run.ch_names)  # type: ignore[attr-defined]
        for lab in ("right", "observe", "observe_imagine")
    }
    right, obs, obs_im = res["right"], res["observe"], res["observe_imagine"]
    # Right-hand imagery: clear mu suppression over the left hand area (C3).
    assert right.value("C3") < -0.2
    assert right.value("C3") < right.value("C4")
    # Observation: weaker than imagery at C3, present on both sides, hardly lateralised.
    assert obs.value("C3") < 0 and obs.value("C4") < 0
    assert obs.value("C3") > right.value("C3")
    assert abs(obs.value("C3") - obs.value("C4")) < abs(right.value("C3") - right.value("C4"))
    # Observation + imagery: stronger than observation alone.
    hands = ("C3", "C4")
    assert np.mean([obs_im.value(c) for c in hands]) < np.mean([obs.value(c) for c in hands])
    # The attention control sees the video (occipital alpha drops), not the imagery.
    assert obs.occipital_alpha is not None and obs.occipital_alpha < -0.05
    assert right.occipital_alpha is not None and right.occipital_alpha > obs.occipital_alpha


def test_online_value_follows_the_condition(ao_run: object) -> None:
    run = ao_run
    sf = run.sfreq  # type: ignore[attr-defined]
    online = OnlineMuSuppression(sf, run.ch_names, smoothing=0.0)  # type: ignore[attr-defined]
    first_cue = run.events[0][0]  # type: ignore[attr-defined]
    online.set_baseline(run.data[:, : first_cue - round(1.0 * sf)])  # type: ignore[attr-defined]
    labels = np.array(run.labels)  # type: ignore[attr-defined]
    wins = _epochs(run, 0.5, 2.5)
    idx = {
        lab: np.mean([online.process(w)["index"] for w in wins[labels == lab]])
        for lab in ("right", "rest")
    }
    assert idx["right"] < idx["rest"] - 0.05
