"""The decoder stage: causal band filter, filtered ring buffer, window schedule, model.

Decisions are scheduled by sample count, not by the clock: with a window of ``n`` samples
and a step of ``s`` seconds the k-th decision ends at sample ``valid_from + n +
round(k * s * sfreq)``, so a recording fed through the session gives exactly the offline
windows (online == offline to 1e-9).
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np

from bci.decoders.model import Model
from bci.online.messages import Message, ModelMessage, Prediction
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.signal.filters import CausalFilter
from bci.streams.buffer import RingBuffer

__all__ = ["DecodeBatch", "Decoder"]

logger = logging.getLogger(__name__)


class Decoder(Stage):
    """Filter, buffer and decode every due window of the active model.

    Parameters
    ----------
    sfreq : float
    n_channels : int
    capacity : int
        Samples kept in the filtered ring buffer.
    window_s, step_s : float
        Window length (the model's wins once one is active) and stream time between
        decisions.
    band : (float, float)
        Band-pass before windowing (the model's wins once one is active).
    """

    order: ClassVar[int] = 10

    def __init__(
        self,
        sfreq: float,
        n_channels: int,
        capacity: int,
        window_s: float,
        step_s: float,
        band: tuple[float, float],
    ) -> None:
        self.sfreq = float(sfreq)
        self.step_s = float(step_s)
        self.filtered = RingBuffer(capacity, n_channels)
        self.model: Model | None = None
        self.n_windows = 0
        self.n_rejected = 0
        self.n_decode_errors = 0
        self.last_prediction: Prediction | None = None
        self._bad_until = 0  # windows ending at or before this sample index hold bad samples
        # Set by an engine round: due windows wait there to be decoded in one call per model.
        self.batch: DecodeBatch | None = None
        self._filter: CausalFilter
        self._set_band(band)
        self._window_n = round(window_s * self.sfreq)
        self._restart_windows()

    # ----------------------------------------------------------------- model
    def set_model(self, ctx: StageContext, model: Model) -> ModelMessage:
        """Activate ``model`` (refused when its channels or rate differ from the stream)."""
        model.check_compatible(ctx.ch_names, ctx.sfreq)
        band_changed = tuple(model.band) != (self._filter.l_freq, self._filter.h_freq)
        self.model = model
        self._window_n = model.n_times
        if band_changed:
            self._set_band((float(model.band[0]), float(model.band[1])))
            self._restart_windows()
        else:
            self._reschedule()
        return ModelMessage(session_id=ctx.id, model_id=model.model_id)

    def _set_band(self, band: tuple[float, float]) -> None:
        lo, hi = band
        self._filter = CausalFilter(self.sfreq, lo, min(hi, 0.45 * self.sfreq))

    def _restart_windows(self) -> None:
        """Wait for a full window of (re)filtered data before the next decision."""
        self._filter.reset()
        self._valid_from = self.filtered.n_written
        self._reschedule()

    def _reschedule(self) -> None:
        """Next decision: the first step boundary not yet passed, for the current window."""
        step = self.step_s * self.sfreq
        behind = self.filtered.n_written - self._valid_from - self._window_n
        self._k = max(0, int(np.ceil(behind / step)))
        self._next_end = self._valid_from + self._window_n + round(self._k * step)

    @property
    def window_n(self) -> int:
        """Samples in a decoding window (the active model's, else the session's)."""
        return int(self._window_n)

    # ----------------------------------------------------------------- hooks
    def on_chunk(self, ctx: StageContext, chunk: ChunkIn) -> list[Message]:
        if chunk.gap:
            self._restart_windows()
        if chunk.bad_rows.size:
            self._bad_until = self.filtered.n_written + int(chunk.bad_rows[-1]) + 1 + self._window_n
        self.filtered.write(self._filter.process(chunk.data), chunk.timestamps)
        return []

    def due_windows(self) -> tuple[np.ndarray, list[float]] | None:
        """The windows due now, shape (n_windows, n_channels, n_times), and their end times.

        Advances the schedule; windows holding non-finite samples are counted as rejected
        and left out. None when nothing is due (or no model is active).
        """
        if self.model is None or self._next_end > self.filtered.n_written:
            return None  # most steps: the next window is not complete yet
        ends = []
        step = self.step_s * self.sfreq
        oldest = self.filtered.n_written - self.filtered.n_available
        while self._next_end <= self.filtered.n_written:
            if self._next_end - self._window_n >= oldest:
                ends.append(self._next_end)
            self._k += 1
            self._next_end = self._valid_from + self._window_n + round(self._k * step)
        if not ends:
            return None
        good = [e for e in ends if e > self._bad_until]
        self.n_rejected += len(ends) - len(good)
        if not good:
            return None
        wins, times = [], []
        for e in good:
            w, ts = self.filtered.window_ending_at(e, self._window_n)
            wins.append(w)
            times.append(float(ts[-1]))
        return np.stack(wins), times

    def tick(self, ctx: StageContext, now: float) -> list[Message]:
        due = self.due_windows()
        if due is None:
            return []
        X, times = due
        if self.batch is not None:  # an engine round decodes them with other sessions'
            self.batch.add(self, ctx, X, times)
            return []
        return self.decode(ctx, X, times)

    def decode(self, ctx: StageContext, X: np.ndarray, times: list[float]) -> list[Message]:
        """Decode windows ``X`` (ending at ``times``) alone; predictions, or none on error."""
        model = self.model
        assert model is not None  # due_windows returns None without a model
        t0 = time.perf_counter()
        try:
            proba = model.predict_proba(X)
        except Exception as exc:  # keep running; say what failed
            self.n_decode_errors += 1
            ctx.warn(f"decoder failed on {len(times)} window(s): {exc}")
            logger.exception("session %s: decode failed", ctx.id)
            return []
        return self.emit(ctx, times, proba, (time.perf_counter() - t0) * 1e3 / len(times))

    def emit(
        self, ctx: StageContext, times: list[float], proba: np.ndarray, compute_ms: float
    ) -> list[Message]:
        """Prediction messages for windows ending at ``times`` with probabilities ``proba``."""
        model = self.model
        assert model is not None
        done = ctx.clock()
        out: list[Message] = []
        for t, p in zip(times, proba, strict=True):
            self.n_windows += 1
            pred = Prediction(
                session_id=ctx.id,
                index=self.n_windows,
                t=t,
                probabilities=dict(zip(model.classes, p.tolist(), strict=True)),
                label=model.classes[int(np.argmax(p))],
                model_id=model.model_id,
                # As measured: negative when the source stamps samples ahead of our clock.
                latency_ms=(done - t) * 1e3,
                compute_ms=compute_ms,
            )
            out.append(pred)
        return out

    def on_published(self, ctx: StageContext, message: Message) -> None:
        # Only a decision that passed the stages (the quality gate) is the last one: GET
        # /sessions/{id} never shows the class of a withheld window.
        if isinstance(message, Prediction):
            self.last_prediction = message

    def status(self) -> dict[str, Any]:
        last = self.last_prediction
        return {
            "model": None if self.model is None else self.model.card(),
            "window_s": self._window_n / self.sfreq,
            "step_s": self.step_s,
            "band": [self._filter.l_freq, self._filter.h_freq],
            "counts": {
                "windows": int(self.n_windows),
                "rejected_windows": int(self.n_rejected),
                "decode_errors": int(self.n_decode_errors),
            },
            "last_prediction": None if last is None else last.to_dict(),
        }


class DecodeBatch:
    """The windows due in one engine round, decoded with one call per model.

    The fast path decodes a batch at ~10 µs a window against ~33 µs for one window alone
    (``bench/decode.py``); sessions that share a model (the same model id) share the call,
    unless its pipeline holds one session's state (``per_session``: an adaptive decoder
    tracks its session's reference, under the id of the model it adapts). If the batched
    call fails, each session decodes alone, so one bad window costs only its own session a
    decision.
    """

    def __init__(self) -> None:
        self._jobs: dict[str, list[tuple[Decoder, StageContext, np.ndarray, list[float]]]] = {}

    def add(self, decoder: Decoder, ctx: StageContext, X: np.ndarray, times: list[float]) -> None:
        """Queue ``decoder``'s due windows ``X``, shape (n_windows, n_channels, n_times)."""
        assert decoder.model is not None  # only a decoder with a model has due windows
        key = decoder.model.model_id
        if getattr(decoder.model.pipeline, "per_session", False):
            key = f"{key}@{ctx.id}"
        self._jobs.setdefault(key, []).append((decoder, ctx, X, times))

    def __len__(self) -> int:
        return sum(len(j[3]) for jobs in self._jobs.values() for j in jobs)

    def run(self) -> list[tuple[StageContext, list[Message]]]:
        """Decode everything queued; the predictions of each session, in queue order."""
        out: list[tuple[StageContext, list[Message]]] = []
        for jobs in self._jobs.values():
            model = jobs[0][0].model
            assert model is not None  # same model id: the same stored, fitted pipeline
            X = np.concatenate([j[2] for j in jobs]) if len(jobs) > 1 else jobs[0][2]
            t0 = time.perf_counter()
            try:
                proba = model.predict_proba(X)
            except Exception:
                logger.warning("batched decode of %d windows failed; decoding alone", len(X))
                out.extend((ctx, dec.decode(ctx, Xj, times)) for dec, ctx, Xj, times in jobs)
                continue
            compute_ms = (time.perf_counter() - t0) * 1e3 / len(X)
            i = 0
            for decoder, ctx, _, times in jobs:
                part = proba[i : i + len(times)]
                i += len(times)
                out.append((ctx, decoder.emit(ctx, times, part, compute_ms)))
        self._jobs.clear()
        return out
