"""The built-in demo: a synthetic headset on LSL, a decoder calibrated on it, a live session."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bci.decoders.model import Model, train_model
from bci.online.manager import SessionManager
from bci.online.session import DecodingSession

__all__ = ["DemoHandle", "calibrate_synthetic", "setup_demo"]

logger = logging.getLogger(__name__)


@dataclass
class DemoHandle:
    stream_name: str
    model: Model
    session: DecodingSession
    calibration_s: float


def calibrate_synthetic(
    headset: str,
    seed: int,
    paradigm: str = "imagery-left-right",
    trials_per_class: int = 30,
    pipeline: str = "ts-lr",
) -> Model:
    """Fit a decoder on a simulated calibration run of the synthetic headset.

    The run is generated, not waited for: 2 x 30 trials of a 4 s imagery task take about a
    second to simulate instead of four minutes to record. It uses the same generator (same
    headset, different seed) as the live stream, the same causal filter and the same windows.
    """
    from bci.datasets import make_epochs
    from bci.decoders import get_pipeline
    from bci.paradigms import get_paradigm
    from bci.streams.synthetic import simulate_run

    par = get_paradigm(paradigm)
    spec = get_pipeline(pipeline)
    run = simulate_run(paradigm, trials_per_class=trials_per_class, headset=headset, seed=seed)
    band = spec.band
    X, y = make_epochs(run.data, run.sfreq, run.events, par.timing.tmin, par.timing.tmax, band)
    return train_model(
        X,
        y,
        pipeline=pipeline,
        ch_names=list(run.ch_names),
        sfreq=run.sfreq,
        band=band,
        paradigm=paradigm,
    )


def setup_demo(
    manager: SessionManager,
    headset: str = "openbci-cyton",
    seed: int = 7,
    stream_name: str = "bci-demo",
    paradigm: str = "imagery-left-right",
    pipeline: str = "ts-lr",
) -> DemoHandle:
    """Start a synthetic headset (cueing itself), calibrate a decoder, bind a session to it."""
    from bci.streams.synthetic_outlet import SyntheticOutlet

    t0 = time.perf_counter()
    outlet = SyntheticOutlet(
        headset, name=stream_name, seed=seed, paradigm=paradigm, auto_cues=True
    )
    outlet.start()
    manager.hosted[stream_name] = outlet
    model = calibrate_synthetic(headset, seed + 1000, paradigm, pipeline=pipeline)
    # The same seed gives the same simulated run: reuse the stored model rather than add a
    # copy at every start.
    same = [
        c
        for c in manager.store.list()
        if c["fingerprint"] == model.fingerprint
        and c["pipeline"] == model.pipeline_name
        and c["params"] == model.params
    ]
    if same:
        model = manager.get_model(same[-1]["id"])
    else:
        manager.add_model(model)
    cal_s = time.perf_counter() - t0
    source = manager.open_lsl_source(name=stream_name)
    markers = manager.open_marker_source(f"{stream_name}-markers", timeout=2.0)
    session = manager.create(source, model=model, pipeline=pipeline, marker_sources=[markers])
    logger.info(
        "demo: model %s (%s, CV %s=%.3f) calibrated in %.1f s; session %s decoding %r",
        model.model_id,
        pipeline,
        model.cv_metric,
        model.cv_score or float("nan"),
        cal_s,
        session.id,
        stream_name,
    )
    return DemoHandle(stream_name, model, session, cal_s)
