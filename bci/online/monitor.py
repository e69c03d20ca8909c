"""Live signal monitor: decimated raw traces, channel quality and band power for the dashboard.

:func:`signal_message` turns the tail of a session's raw ring buffer into one WebSocket
message of type ``signal``::

    {"type": "signal", "session_id": "1", "index": 12345, "t_emit": 1042.31,
     "sfreq": 83.33, "t": [...], "data": [[ch0 samples...], ...], "ch_names": [...],
     "quality": {"C3": "ok", ...}, "band_power": {"C3": {"mu": 12.1, "beta": 3.4}, ...}}

``t`` (n_points,) and ``data`` (n_channels, n_points) are the samples written since the
previous message, block-averaged to at most ``max_rate`` points per second per channel, in
the stream's unit (µV); ``t`` is the LSL time of each block's last sample. ``index`` is the
absolute sample index just after the last sample included (the cursor for the next call).
``quality`` and ``band_power`` describe the last ``quality_s`` seconds of raw signal.

:class:`SignalMonitor` is a session stage (:mod:`bci.online.stages`): it keeps the cursor
and returns a message at ``rate_hz`` from its ``tick``, so the ring buffer is read by its
writer's thread.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Protocol

import numpy as np

from bci.errors import SignalError
from bci.online.messages import Message, Signal
from bci.online.stages import Stage, StageContext
from bci.signal.quality import (
    QUALITY_FLAGS,
    QualityThresholds,
    channel_quality,
    quality_band_powers,
)
from bci.streams.buffer import RingBuffer

__all__ = [
    "QUALITY_FLAGS",
    "QualityThresholds",
    "SignalMonitor",
    "channel_quality",
    "signal_message",
]


class RawSignal(Protocol):
    """What :func:`signal_message` reads: a session or a stage context."""

    id: str
    sfreq: float
    ch_names: list[str]
    raw: RingBuffer


def signal_message(
    session: RawSignal,
    now: float,
    since: int | None = None,
    *,
    max_rate: float = 100.0,
    backfill_s: float = 5.0,
    quality_s: float = 2.0,
    thresholds: QualityThresholds | None = None,
    with_quality: bool = True,
) -> Signal:
    """The ``signal`` message for the samples of ``session.raw`` written since ``since``.

    Parameters
    ----------
    session : DecodingSession or StageContext
        Its ``raw`` ring buffer, ``sfreq``, ``ch_names`` and ``id`` are read.
    now : float
        LSL time of the emission (``t_emit``).
    since : int or None
        Absolute sample index of the first sample to send (the previous message's
        ``index``); None, or an index older than ``backfill_s``, sends the last
        ``backfill_s`` seconds.
    max_rate : float
        Most points per second per channel; blocks of ``ceil(sfreq / max_rate)`` samples
        are averaged. Only whole blocks are sent; the remainder waits for the next call.
    backfill_s : float
        Most seconds of signal one message carries.
    quality_s : float
        Seconds of raw signal the quality flags and band powers describe.
    thresholds : QualityThresholds or None
    with_quality : bool
        False leaves ``quality`` and ``band_power`` empty (the costly part, ~0.4 ms for
        8 channels x 2 s at 250 Hz).

    Returns
    -------
    message : Signal
        See the module docstring; ``t`` and ``data`` rows are empty when no whole block
        arrived since ``since``.
    """
    if not (isinstance(max_rate, int | float) and max_rate > 0):
        raise SignalError(f"max_rate must be a positive number of points/s, got {max_rate!r}")
    raw = session.raw
    fs = float(session.sfreq)
    q = max(1, math.ceil(fs / max_rate - 1e-9))
    written = int(raw.n_written)
    oldest = written - int(raw.n_available)
    start_min = max(oldest, written - round(backfill_s * fs))
    start = start_min if since is None or since < start_min else int(since)
    n_blocks = max(0, written - start) // q
    end = start + n_blocks * q
    ch_names = list(session.ch_names)
    n_ch = len(ch_names)

    if n_blocks:
        seg, ts = raw.window_ending_at(end, end - start)
        blocks = np.nan_to_num(seg).reshape(n_ch, n_blocks, q).mean(axis=-1)
        t_list = np.round(ts[q - 1 :: q], 4).tolist()
        data = np.round(blocks, 2).tolist()
    else:
        t_list, data = [], [[] for _ in range(n_ch)]

    quality: dict[str, str] = {}
    band_power: dict[str, dict[str, float]] = {}
    n_q = min(int(raw.n_available), max(2, round(quality_s * fs)))
    if with_quality and n_q >= 2:
        qwin, _ = raw.latest(n_q)
        powers = quality_band_powers(qwin, fs)
        flags = channel_quality(qwin, fs, thresholds, powers)
        quality = dict(zip(ch_names, flags, strict=True))
        if powers is not None:
            band_power = {
                ch: {
                    "mu": round(float(powers["mu"][i]), 4),
                    "beta": round(float(powers["beta"][i]), 4),
                }
                for i, ch in enumerate(ch_names)
            }
    return Signal(
        session_id=session.id,
        index=end,
        t_emit=float(now),
        sfreq=fs / q,
        t=t_list,
        data=data,
        ch_names=ch_names,
        quality=quality,  # type: ignore[arg-type]  # flags come from QUALITY_FLAGS
        band_power=band_power,  # type: ignore[arg-type]  # float is float | None
    )


class SignalMonitor(Stage):
    """Return a ``signal`` message about ``rate_hz`` times a second (a session stage).

    Quality flags and band powers are recomputed every ``quality_period_s`` and repeated in
    the messages between, so every message is complete on its own.

    Parameters
    ----------
    rate_hz : float
        Messages per second (at most; none when no new whole block arrived).
    quality_period_s : float
        Seconds between two quality and band power computations.
    **kwargs
        ``max_rate``, ``backfill_s``, ``quality_s``, ``thresholds`` of :func:`signal_message`.
    """

    order: ClassVar[int] = 50

    def __init__(
        self,
        rate_hz: float = 10.0,
        quality_period_s: float = 0.5,
        **kwargs: Any,
    ) -> None:
        if not (isinstance(rate_hz, int | float) and 0 < rate_hz <= 100):
            raise SignalError(f"rate_hz must be a number in (0, 100], got {rate_hz!r}")
        if not (isinstance(quality_period_s, int | float) and quality_period_s >= 0):
            raise SignalError(
                f"quality_period_s must be a number of seconds >= 0, got {quality_period_s!r}"
            )
        self.rate_hz = float(rate_hz)
        self.quality_period_s = float(quality_period_s)
        self.kwargs = kwargs
        self.n_sent = 0
        self._cursor: int | None = None
        self._next_due = -math.inf
        self._next_quality = -math.inf
        self._quality: dict[str, Any] = {}
        self._band_power: dict[str, Any] = {}

    def tick(self, ctx: StageContext, now: float) -> list[Message]:
        """A message if one is due at LSL time ``now``, new samples arrived and a subscriber
        takes signal frames (band power and quality are the costliest per-session work
        besides decoding: skipped when nobody draws traces)."""
        if now < self._next_due:
            return []
        if not ctx.wants_signal():
            self._next_due = now + 1.0 / self.rate_hz  # ask again one period later
            return []
        if self._cursor is not None:
            # Cheap check first: a step without one new whole block sends nothing.
            q = math.ceil(ctx.sfreq / float(self.kwargs.get("max_rate", 100.0)) - 1e-9)
            if ctx.raw.n_written - self._cursor < max(1, q):
                return []
        fresh = now >= self._next_quality
        msg = signal_message(ctx, now, self._cursor, with_quality=fresh, **self.kwargs)
        if not msg.t:
            return []
        if fresh:
            self._quality, self._band_power = msg.quality, msg.band_power
            self._next_quality = now + self.quality_period_s
        else:
            msg = msg.model_copy(update={"quality": self._quality, "band_power": self._band_power})
        self._cursor = msg.index
        period = 1.0 / self.rate_hz
        # Keep the cadence, but never try to catch up on missed periods in a burst.
        self._next_due = max(self._next_due + period, now + 0.5 * period)
        self.n_sent += 1
        return [msg]
