"""Stages: the parts of a session that see its chunks, markers and ticks and return messages.

A :class:`~bci.online.session.DecodingSession` does only the common work of a step (apply
queued commands, pull markers and samples, check and clean the chunk, write the raw ring
buffer, watch for stalls) and then hands over to its ordered list of stages. It knows none of
them by name; a stage never imports the session: it gets a :class:`StageContext`.

One step of a session, in order::

    commands (from the inbox) -> markers -> chunk -> raw buffer
      -> stage.on_chunk(ctx, chunk)   for every stage, in order
      -> stage.tick(ctx, now)         for every stage, in order (also when no samples came)
    every message a hook returns -> stage.on_message(ctx, msg) for every stage, in order
                                 -> stage.on_published(ctx, msg) for every stage, in order
                                 -> the session's subscribers (WebSocket clients, tests)

The stages today, by :attr:`Stage.order`:

=====  =========================================  ============================================
order  stage                                      what it does
=====  =========================================  ============================================
10     :class:`~bci.online.decoder.Decoder`        band filter, window schedule, model ->
                                                  ``prediction``; always present
15     :class:`~bci.online.adaptation.AdaptationStage`  ``"adaptation"`` option: tracked re-centring
                                                  reference, supervised refits (new versions)
20     :class:`~bci.online.quality_gate.QualityGate`  a bad window's ``prediction`` ->
                                                  ``withheld``; always present
30     :class:`~bci.online.calibration.Calibration` cues, trials, fit -> ``cue``, ``calibration``
40     :class:`~bci.online.neurofeedback.MuSuppressionFeed`  ``mu_suppression`` values
50     :class:`~bci.online.monitor.SignalMonitor`  decimated traces, quality -> ``signal``
70     :class:`~bci.online.cues.CueOutlet`         calibration markers -> an LSL marker stream
90     :class:`~bci.online.recording.SessionRecording`  raw EEG, markers, predictions -> XDF
=====  =========================================  ============================================

How to add a stage
------------------
Subclass :class:`Stage`, override only the hooks you need, choose an ``order``:

- **What it may read**: ``ctx`` (session id, rate, channel names, the raw ring buffer of
  cleaned samples, the LSL clock, the stream description), the chunk it is given
  (:class:`ChunkIn`: cleaned float64 samples, the samples as received, which rows were
  non-finite, whether a gap preceded it), the markers and the messages of the session.
  Anything the stage computes is its own state.
- **What it returns**: a list of :mod:`bci.online.messages` models; the session publishes
  them. :meth:`Stage.on_message` may replace a message or drop it (return None): a per-window
  quality gate goes right after the decoder (order 20) and turns a ``prediction`` of a bad
  window into a withheld decision; an LSL prediction outlet (order 60) reads predictions
  there and returns them unchanged. :meth:`Stage.on_published` sees the message that
  passed every ``on_message`` (what the subscribers get), whatever the stages' order: a
  stage that must act only on decisions that were published (the decoder's
  ``last_prediction``, online adaptation moving its reference) acts there.
- **What it may do**: ``ctx.warn(text)`` (a session warning), ``ctx.add_marker(...)`` (a
  marker every stage and the recording see), ``ctx.set_model(model)`` (activate a model,
  e.g. after a fit). All hooks run on the engine thread; a stage that starts a thread (the
  calibration fit) hands its result back in a later ``tick``.
- **How it gets in**: ``session.add_stage(stage)`` at construction, or the manager's
  command (``session.submit(lambda s: s.add_stage(stage))``) on a running session;
  ``session.stage(MyStage)`` finds it again by type. ``status()`` contributes top-level keys
  of the session status named by ``status_key``; ``close()`` runs when the stage is
  removed or the session stops.
- Batched decoding across sessions replaces the decoder's per-session ``predict_proba``
  with a call collected by the engine; it only needs the decoder's due windows
  (:meth:`~bci.online.decoder.Decoder.due_windows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from bci.online.messages import Message
from bci.streams.buffer import RingBuffer
from bci.types import Marker, StreamDescription

if TYPE_CHECKING:
    from bci.decoders.model import Model

__all__ = ["STATUS_KEYS", "ChunkIn", "Stage", "StageContext"]

#: Status keys of every stage type; the session status has each (None when absent).
STATUS_KEYS: list[str] = []


class ChunkIn(NamedTuple):
    """A chunk as the stages see it (a named tuple: made once per chunk, cheaply).

    Attributes
    ----------
    data : ndarray, shape (n_samples, n_channels)
        float64 samples with non-finite values replaced by 0 (what the raw buffer holds).
    timestamps : ndarray, shape (n_samples,)
        LSL times.
    received : ndarray, shape (n_samples, n_channels)
        The samples as the source gave them (recordings keep these).
    bad_rows : ndarray of int, shape (n_bad,)
        Rows of ``data`` that held a NaN or an infinity.
    gap : bool
        A jump of more than ``SessionConfig.gap_reset_s`` preceded this chunk.
    """

    data: np.ndarray
    timestamps: np.ndarray
    received: np.ndarray
    bad_rows: np.ndarray
    gap: bool


class StageContext:
    """What a stage may read and do; made by the session, one per session.

    Attributes
    ----------
    id : str
        Session id.
    description : StreamDescription
    sfreq : float
    ch_names : list of str
    raw : RingBuffer
        Cleaned raw samples (n_channels columns), written by the session before the stages.
    clock : callable
        The LSL clock (injectable).
    wants_signal : callable
        Whether any subscriber takes ``signal`` frames (set by the session).
    """

    def __init__(
        self,
        session_id: str,
        description: StreamDescription,
        raw: RingBuffer,
        clock: Callable[[], float],
        warn: Callable[[str], None],
        add_marker: Callable[[str, float | None, str], Marker],
        set_model: Callable[[Model], None],
    ) -> None:
        self.id = session_id
        self.description = description
        self.sfreq = float(description.sfreq)
        self.ch_names = list(description.ch_names)
        self.raw = raw
        self.clock = clock
        self._warn = warn
        self._add_marker = add_marker
        self._set_model = set_model
        self.wants_signal: Callable[[], bool] = lambda: True

    def warn(self, text: str) -> None:
        """Add a session warning (shown in the status, logged once)."""
        self._warn(text)

    def add_marker(self, value: str, t: float | None = None, source: str = "stream") -> Marker:
        """Stamp a marker: stored, published, seen by every stage's ``on_marker``."""
        return self._add_marker(value, t, source)

    def set_model(self, model: Model) -> None:
        """Activate ``model`` (checked against the stream; raises ModelMismatchError)."""
        self._set_model(model)


class Stage:
    """Base of every stage: every hook is a no-op returning no messages.

    Attributes
    ----------
    order : int
        Position in the session (lower first); see the module docstring.
    status_key : str or None
        Key of this stage's :meth:`status` in the session status (None: merged into the
        top level, as the decoder's ``model``, ``band``, ``counts``... are).
    clocked : bool
        True while the stage's :meth:`tick` must run at every engine round whatever the
        data does (a calibration emitting cues on the clock). Otherwise the engine may skip
        a session's steps for a few ms after a chunk (``Engine(hold=...)``). Override it
        with a property when it depends on the stage's state.
    """

    order: ClassVar[int] = 100
    status_key: ClassVar[str | None] = None
    clocked: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        key = cls.__dict__.get("status_key")
        if key is not None and key not in STATUS_KEYS:
            STATUS_KEYS.append(key)

    def on_chunk(self, ctx: StageContext, chunk: ChunkIn) -> list[Message]:
        """Samples arrived (already in ``ctx.raw``)."""
        return []

    def on_marker(self, ctx: StageContext, marker: Marker) -> list[Message]:
        """A marker was stamped (stream, app event, calibration cue)."""
        return []

    def tick(self, ctx: StageContext, now: float) -> list[Message]:
        """Once per step, after every ``on_chunk``; ``now`` is the LSL time."""
        return []

    def on_message(self, ctx: StageContext, message: Message) -> Message | None:
        """A message is about to be published: return it, a replacement, or None to drop."""
        return message

    def on_published(self, ctx: StageContext, message: Message) -> None:
        """``message`` passed every stage's ``on_message`` and goes to the subscribers now.

        A ``prediction`` seen here was not withheld (a dropped message is never seen).
        """

    def status(self) -> dict[str, Any] | None:
        """JSON-ready state for the session status."""
        return None

    def close(self) -> None:
        """Release files and outlets (stage removed or session stopped)."""
