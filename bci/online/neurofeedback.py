"""Mu-suppression neurofeedback inside a session: one value per step on the session WebSocket.

The feed windows the RAW signal (its own Welch band powers need no band-pass) on the same
stream-time cadence as the decoder, against a baseline taken either from the last seconds of
signal on request (a baseline run) or automatically from the interval before each trial
marker (the pre-cue interval, e.g. before an action-observation video starts). It is a
session stage (:mod:`bci.online.stages`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from bci.errors import SessionStateError, SignalError
from bci.online.messages import Message, MuSuppression
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.signal.bandpower import DEFAULT_BANDS
from bci.signal.erd import DEFAULT_CHANNELS, OnlineMuSuppression
from bci.types import Marker

__all__ = ["MuSuppressionFeed"]

logger = logging.getLogger(__name__)


class MuSuppressionFeed(Stage):
    """Returns ``{"type": "mu_suppression", ...}`` messages for one session.

    Parameters
    ----------
    ctx : StageContext
        The session's context (rate, channel names, raw buffer).
    channels, bands, smoothing :
        As :class:`bci.signal.erd.OnlineMuSuppression`.
    window_s, step_s : float
        Window length and stream time between two values.
    baseline_markers : sequence of str
        Marker values that start a trial: the ``baseline_s`` seconds before each become the
        new baseline (pre-cue baseline). Empty: baseline only on request.
    baseline_s : float
        Length of the pre-cue baseline.
    """

    order: ClassVar[int] = 40
    status_key: ClassVar[str | None] = "mu_suppression"

    def __init__(
        self,
        ctx: StageContext,
        channels: Sequence[str] = DEFAULT_CHANNELS,
        bands: Mapping[str, tuple[float, float]] = DEFAULT_BANDS,
        smoothing: float = 0.5,
        window_s: float = 1.0,
        step_s: float = 0.125,
        baseline_markers: Sequence[str] = (),
        baseline_s: float = 1.0,
    ) -> None:
        if step_s <= 0:
            raise SignalError(f"step_s must be positive, got {step_s}")
        self.sfreq = ctx.sfreq
        self.stepper = OnlineMuSuppression(
            ctx.sfreq, ctx.ch_names, channels, bands, smoothing, window_s
        )
        self.window_n = round(window_s * self.sfreq)
        self.step_n = step_s * self.sfreq
        self.baseline_markers = set(baseline_markers)
        self.baseline_n = round(baseline_s * self.sfreq)
        if self.baseline_n < self.stepper.nperseg:
            raise SignalError(
                f"baseline_s={baseline_s:g} s is too short: need at least "
                f"{self.stepper.nperseg / self.sfreq:.3g} s"
            )
        self._k = 0
        self._start = ctx.raw.n_written
        self._pending: list[float] = []  # marker times waiting for their baseline data
        self.last: dict[str, Any] | None = None
        self.n_values = 0
        self.baseline_info: dict[str, Any] | None = None

    def set_baseline_now(self, ctx: StageContext, seconds: float) -> dict[str, Any]:
        """Use the last ``seconds`` of signal as baseline (call at the end of a baseline run)."""
        n = round(seconds * self.sfreq)
        raw = ctx.raw
        if n > raw.n_available:
            raise SessionStateError(
                f"Session {ctx.id} holds {raw.n_available / self.sfreq:.1f} s of "
                f"signal; a {seconds:g} s baseline is not available yet"
            )
        data, ts = raw.latest(n)
        self.stepper.set_baseline(data)
        self.baseline_info = {"source": "request", "t_start": float(ts[0]), "t_end": float(ts[-1])}
        return self.baseline_info

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        if marker.value in self.baseline_markers:
            self._pending.append(marker.t)
        return []

    def _apply_pending(self, ctx: StageContext) -> None:
        raw = ctx.raw
        if not self._pending or raw.n_written == 0:
            return
        _, last_t = raw.latest(1)
        keep = []
        for t in self._pending:
            if last_t[-1] < t:
                keep.append(t)  # samples up to the marker have not arrived yet
                continue
            data, ts = raw.latest(raw.n_available)
            end = int((ts < t).sum())
            if end >= self.baseline_n:
                self.stepper.set_baseline(data[:, end - self.baseline_n : end])
                self.baseline_info = {
                    "source": "pre-cue",
                    "t_start": float(ts[end - self.baseline_n]),
                    "t_end": float(ts[end - 1]),
                }
        self._pending = keep

    def on_chunk(self, ctx: StageContext, chunk: ChunkIn) -> list[Message]:
        """Every value that is due (engine thread)."""
        raw = ctx.raw
        self._apply_pending(ctx)
        out: list[Message] = []
        while True:
            end = self._start + self.window_n + round(self._k * self.step_n)
            if end > raw.n_written:
                return out
            self._k += 1
            if end - self.window_n < raw.n_written - raw.n_available:
                continue  # fell out of the buffer
            if not self.stepper.has_baseline:
                continue
            window, ts = raw.window_ending_at(end, self.window_n)
            try:
                value = self.stepper.process(window)
            except SignalError as exc:
                ctx.warn(f"mu suppression: {exc}")
                continue
            self.n_values += 1
            msg = MuSuppression(session_id=ctx.id, t=float(ts[-1]), **value)
            self.last = msg.to_dict()
            out.append(msg)

    def status(self) -> dict[str, Any]:
        return {
            "channels": list(self.stepper.channels),
            "bands": {k: list(v) for k, v in self.stepper.bands.items()},
            "smoothing": self.stepper.smoothing,
            "has_baseline": self.stepper.has_baseline,
            "baseline": self.baseline_info,
            "baseline_markers": sorted(self.baseline_markers),
            "n_values": self.n_values,
            "last": self.last,
        }
