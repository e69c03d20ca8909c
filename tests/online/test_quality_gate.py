"""The quality gate in a session stepped by hand: a bad signal is never a decision."""

from __future__ import annotations

import numpy as np
import pytest
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from bci.decoders.model import Model
from bci.online.quality_gate import QualityGate
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource
from bci.signal import filter_continuous

SFREQ = 250.0
CH = ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
N = int(8 * SFREQ)  # 8 s


@pytest.fixture
def model(rng):
    """Fitted so that a dead (all-zero) input gets a confident class without the gate."""
    n_t = int(1.0 * SFREQ)
    X = rng.standard_normal((40, len(CH), n_t)) * 10
    X[20:, 2] *= 3
    y = np.array(["left"] * 20 + ["right"] * 20)
    pipe = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()).fit(X, y)
    return Model(
        pipeline=pipe,
        pipeline_name="ts-lr",
        classes=list(pipe.classes_),
        ch_names=CH,
        sfreq=SFREQ,
        band=(8.0, 30.0),
        window_s=1.0,
    )


@pytest.fixture
def eeg(rng):
    t = np.arange(N) / SFREQ
    return rng.standard_normal((len(CH), N)) * 10 + 8 * np.sin(2 * np.pi * 10 * t)


def _run(data, model, chunk=16):
    src = ArraySource(data, SFREQ, CH, chunk_size=chunk, t0=50.0)
    s = DecodingSession("1", src, model, SessionConfig(step_s=1 / 16), clock=lambda: 60.0)
    msgs: list = []
    s.subscribe(msgs.append)
    while not src.done:
        s.step()
    preds = [m for m in msgs if m["type"] == "prediction"]
    held = [m for m in msgs if m["type"] == "withheld"]
    return s, preds, held


def test_clean_signal_passes_every_window(eeg, model):
    s, preds, held = _run(eeg, model)
    assert len(preds) > 100
    assert held == []
    q = s.status()["quality"]
    assert q["ok"] is True and q["withheld"] == 0 and q["passed"] == len(preds)


@pytest.mark.parametrize("floor_uv", [0.0, 0.01])
def test_flat_signal_publishes_no_decision(model, rng, floor_uv):
    """A dead headset: exact zeros, or an amplifier's noise floor (0.01 µV)."""
    dead = rng.standard_normal((len(CH), N)) * floor_uv
    if floor_uv:  # without the gate the decoder is confident on it: that is the danger
        X = filter_continuous(dead, SFREQ, 8.0, 30.0)[None, :, -250:]
        assert model.predict_proba(X).max() > 0.9
    s, preds, held = _run(dead, model)
    assert preds == [], f"{len(preds)} decisions published on a flat signal"
    if not floor_uv:  # exact zeros: the decoder itself refuses the singular covariance
        assert held == [] and any("decoder failed" in w for w in s.warnings)
        return
    assert len(held) > 100
    for m in held:
        assert "probabilities" not in m.to_dict() and "label" not in m.to_dict()
        assert m["reason"].startswith("flat signal on FC3, FC4, C3, Cz, C4, CP3, CP4, Pz")
        assert set(m["channels"].values()) == {"flat"}
    q = s.status()["quality"]
    assert q["ok"] is False and q["passed"] == 0 and q["withheld"] == len(held)
    assert q["last_withheld"]["type"] == "withheld"


def test_one_channel_disconnected_midway(eeg, model, rng):
    cut = N // 2
    eeg[3, cut:] = np.cumsum(rng.standard_normal(N - cut)) * 40 + rng.standard_normal(N - cut) * 400
    _, preds, held = _run(eeg, model)
    assert preds and held
    # Every decision before the cut, none of the windows that reach into it.
    assert max(p["t"] for p in preds) < 50.0 + cut / SFREQ
    assert min(m["t"] for m in held) >= 50.0 + cut / SFREQ - 1 / SFREQ
    assert {tuple(m["channels"].items()) for m in held} == {(("Cz", "disconnected"),)}
    assert held[0]["reason"] == "disconnected electrode on Cz (amplitude far above EEG)"


def test_last_prediction_is_the_last_published_one(eeg, model):
    """GET /sessions/{id} shows ``last_prediction``: never the class of a withheld window."""
    eeg[:, N // 2 :] *= 1e-3  # the headset goes dead half-way: 0.01 µV on every channel
    s, preds, held = _run(eeg, model)
    assert preds and len(held) > 50
    assert held[-1]["index"] == s.n_windows > preds[-1]["index"]  # decided after, withheld
    assert s.last_prediction == preds[-1]
    assert s.status()["last_prediction"] == preds[-1].to_dict()
    # a session whose every window is withheld shows no decision at all
    s, preds, held = _run(eeg[:, N // 2 :], model)
    assert preds == [] and held and s.last_prediction is None
    assert s.status()["last_prediction"] is None


def test_saturation(eeg, model):
    # An electrode drifting off: the amplifier rails at +187.5 µV most of the time.
    eeg[4, N // 4 :] = np.clip(eeg[4, N // 4 :] * 10 + 400, -187.5, 187.5)
    _, preds, held = _run(eeg, model)
    flags = {f for m in held for f in [m["channels"].get("C4")]}
    assert held and all(list(m["channels"]) == ["C4"] for m in held)
    # Blocks held at the rail throughout are also flat (a constant): either way withheld.
    assert "saturated" in flags and flags <= {"saturated", "flat"}
    # Clipping is recognised by samples held at the rail: within one 0.25 s block.
    assert max(p["t"] for p in preds) < 50.0 + (N // 4) / SFREQ + 0.25


def test_50hz_only_input(model, rng):
    t = np.arange(N) / SFREQ
    hum = 30 * np.sin(2 * np.pi * 50 * t + rng.uniform(0, 6, (len(CH), 1)))
    _, preds, held = _run(hum + rng.standard_normal(hum.shape) * 0.2, model)
    assert preds == [] and len(held) > 100
    assert held[0]["reason"].startswith("only mains interference on FC3")


def test_chunking_does_not_change_verdicts(eeg, model):
    eeg[1, 900:1400] = 0.0  # FC4 dead for 2 s
    verdicts = []
    for chunk in (1, 7, 64, 500):
        _, preds, held = _run(eeg.copy(), model, chunk)
        verdicts.append(([p["index"] for p in preds], [m["index"] for m in held]))
    assert all(v == verdicts[0] for v in verdicts)
    assert verdicts[0][1], "the dead stretch was withheld"


def test_gate_sits_right_after_the_decoder(eeg, model):
    s, _, _ = _run(eeg[:, :300], model)
    orders = [(type(st).__name__, st.order) for st in s.stages]
    assert orders[:2] == [("Decoder", 10), ("QualityGate", 20)]
    assert isinstance(s.stage(QualityGate), QualityGate)


def test_withheld_messages_match_the_asyncapi_document(model, rng):
    import json
    from pathlib import Path

    import jsonschema

    doc = json.loads((Path(__file__).parents[2] / "docs" / "asyncapi.json").read_text())
    schema = {"$ref": "#/components/schemas/withheld", "components": doc["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    _, _, held = _run(rng.standard_normal((len(CH), 1000)) * 0.01, model)
    assert held
    for m in held:
        errors = [e.message for e in validator.iter_errors(json.loads(m.to_json()))]
        assert not errors, errors[:3]


@pytest.mark.parametrize("chunk", [16, 500])
def test_each_window_is_judged_by_its_own_blocks(eeg, model, chunk):
    """A dead C3 from 4 s to 5 s: windows that hold a whole flat block are withheld, windows
    that do not touch it pass, whether windows are decoded as they come or many at once
    (chunks of 2 s: the gate then judges windows behind the newest block)."""
    data = eeg.copy()
    data[2, int(4 * SFREQ) : int(5 * SFREQ)] = 0.0
    _, preds, held = _run(data, model, chunk=chunk)
    t0, flat = 50.0, (50.0 + 4.0, 50.0 + 5.0)
    block = 62 / SFREQ  # the gate's block (0.25 s at 250 Hz)
    assert preds and held
    for m in held:  # a withheld window overlaps the flat second
        assert m["t"] > flat[0] and m["t"] - 1.0 < flat[1] + 1 / SFREQ, m["t"]
    for m in preds:  # a published one holds no whole block of it
        start = m["t"] - 1.0 + 1 / SFREQ
        assert m["t"] < flat[0] + block + 1 / SFREQ or start > flat[1] - 2 * block, m["t"]
    assert all(m["t"] > t0 for m in preds + held)


@pytest.mark.parametrize(("chunk", "max_blocks"), [(10, 4096), (16, 4096), (37, 12), (500, 12)])
def test_window_codes_equal_the_blocks_and_tail_judged_from_scratch(
    eeg, model, chunk, max_blocks, monkeypatch
):
    """Every window's codes = the max of channel_flags over each whole 0.25 s block it
    overlaps and over the samples after the last whole block (line=False, at least 8),
    computed here from the samples; with a ring of 12 blocks (a 1 s window spans 5) the
    window's blocks wrap around the ring's end."""
    from bci.signal.quality import channel_flags

    monkeypatch.setattr(QualityGate, "MAX_BLOCKS", max_blocks)
    data = eeg.copy()
    data[2, 700:820] = 0.0  # flat
    data[5, 1100:1104] = np.nan  # non-finite
    data[0, 1500:1700] = 5000.0 * np.sign(np.sin(np.arange(200)))  # saturated/disconnected
    # the blocks judge the samples as received; the tail is read from the session's buffer,
    # where a non-finite sample is stored as 0 (the decoder skips the windows holding one)
    stored = np.where(np.isfinite(data), data, 0.0)
    src = ArraySource(data, SFREQ, CH, chunk_size=chunk, t0=50.0)
    s = DecodingSession("1", src, model, SessionConfig(step_s=1 / 16), clock=lambda: 60.0)
    gate = s.stage(QualityGate)
    b = gate.block_n
    n_win = int(1.0 * SFREQ)
    checked = kinds = 0
    seen: set[int] = set()
    while not src.done:
        s.step()
        raw = s.ctx.raw
        written = raw.n_written
        # every window ending in the newest chunk, as the decoder would ask
        for end in range(max(n_win, written - chunk + 1), written + 1):
            t = raw.window_ending_at(end, 1)[1][0]
            got = gate._window_codes(s.ctx, t)
            lo = end - n_win
            n_blocks = written // b
            parts = [
                channel_flags(data[:, k * b : (k + 1) * b], SFREQ, gate.thresholds)
                for k in range(max(lo // b, n_blocks - max_blocks, 0), min(-(-end // b), n_blocks))
            ]
            if end > n_blocks * b:
                m = min(n_win, max(end - max(n_blocks * b, lo), 8))
                parts.append(channel_flags(stored[:, end - m : end], SFREQ, line=False))
            want = np.max(parts, axis=0)
            assert got is not None and np.array_equal(got, want), (end, got, want)
            checked += 1
            seen.update(int(c) for c in want)
    kinds = len(seen - {0})
    assert checked > 1000 and kinds >= 3, (checked, seen)
