"""Stages: order, messages passing through ``on_message``, status, a stage added by a test."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from bci.online.decoder import Decoder
from bci.online.demo import calibrate_synthetic
from bci.online.messages import MarkerMessage, Message, Prediction
from bci.online.monitor import SignalMonitor
from bci.online.neurofeedback import MuSuppressionFeed
from bci.online.quality_gate import QualityGate
from bci.online.recording import SessionRecording
from bci.online.session import DecodingSession, SessionConfig
from bci.online.sources import ArraySource
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.streams.synthetic import simulate_run
from bci.types import Marker


class WithholdOdd(Stage):
    """A toy quality gate: every odd-numbered decision is dropped, the rest relabelled."""

    order: ClassVar[int] = 20
    status_key: ClassVar[str | None] = "toy_gate"

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.n_withheld = 0

    def on_chunk(self, ctx: StageContext, chunk: ChunkIn) -> list[Message]:
        self.seen.append("chunk")
        return []

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        self.seen.append(f"marker:{marker.value}")
        return []

    def tick(self, ctx: StageContext, now: float) -> list[Message]:
        self.seen.append("tick")
        return []

    def on_message(self, ctx: StageContext, message: Message) -> Message | None:
        if isinstance(message, Prediction):
            if message.index % 2:
                self.n_withheld += 1
                return None
            return message.model_copy(update={"label": "gated"})
        return message

    def status(self) -> dict[str, int]:
        return {"withheld": self.n_withheld}


def test_a_stage_sees_chunks_markers_ticks_and_can_gate_messages(tmp_path):
    run = simulate_run("imagery-left-right", trials_per_class=2, seed=3)
    model = calibrate_synthetic("openbci-cyton", seed=4, trials_per_class=10)
    src = ArraySource(run.data, run.sfreq, run.ch_names, chunk_size=50)
    s = DecodingSession("1", src, model, SessionConfig(step_s=0.5), clock=lambda: 0.0)
    assert [type(st) for st in s.stages] == [Decoder, QualityGate, SignalMonitor]
    gate = s.add_stage(WithholdOdd())
    rec = s.add_stage(SessionRecording(s.ctx, tmp_path))
    feed = s.add_stage(MuSuppressionFeed(s.ctx))
    assert [type(st) for st in s.stages] == [
        Decoder,
        QualityGate,  # the real gate: a clean synthetic signal passes it
        WithholdOdd,
        MuSuppressionFeed,
        SignalMonitor,
        SessionRecording,
    ]
    assert s.stage(WithholdOdd) is gate and s.stage(MuSuppressionFeed) is feed
    got: list[Message] = []
    s.subscribe(got.append)
    s.add_marker("go", 0.1)
    while not src.done:
        s.step()
    preds = [m for m in got if isinstance(m, Prediction)]
    n = s.n_windows
    assert n > 10 and len(preds) == n // 2
    assert all(p.index % 2 == 0 and p.label == "gated" for p in preds)
    assert gate.seen[0] == "marker:go" and gate.seen[1:3] == ["chunk", "tick"]
    assert gate.seen.count("tick") == gate.seen.count("chunk")  # every step had samples
    assert any(isinstance(m, MarkerMessage) and m.value == "go" for m in got)
    st = s.status()
    assert st["toy_gate"] == {"withheld": n - n // 2}
    assert st["recording"]["predictions"] == len(preds)  # the recorder sees what is published
    assert st["mu_suppression"]["n_values"] == 0  # no baseline yet
    assert st["counts"]["windows"] == n and st["counts"]["samples"] == run.data.shape[1]
    s.remove_stage(rec)
    assert rec.recorder.closed and s.stage(SessionRecording) is None
    assert s.status()["recording"] is None
    s.stop()
    assert s.state == "stopped"


def test_status_has_every_stage_key_when_the_stage_is_absent(rng):
    src = ArraySource(rng.standard_normal((3, 100)), 100.0, ["C3", "Cz", "C4"])
    st = DecodingSession("1", src, None, clock=lambda: 0.0).status()
    assert st["mu_suppression"] is None and st["recording"] is None
    assert st["model"] is None and st["last_prediction"] is None
    assert np.isclose(st["window_s"], 2.0) and st["band"] == [8.0, 30.0]
