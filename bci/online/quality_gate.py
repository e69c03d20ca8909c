"""The quality gate stage: a bad window is never a decision.

Right after the decoder (order 20), every ``prediction`` is checked against the raw signal of
its own window (:func:`bci.signal.quality.window_quality`: non-finite, flat, saturated,
disconnected, mains only). A bad window's prediction is replaced by a ``withheld`` message
that names the problem and the channels; the recording, the WebSocket clients and any later
stage see the ``withheld`` message, never the class. A dead headset streaming zeros used to
give confident decisions (96 of 96 "left" at p = 0.993); now it gives ``withheld`` with
"flat signal on C3, Cz, C4 ...".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from bci.online.messages import Message, Prediction, Withheld
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.signal.quality import GateThresholds, WindowQuality, channel_flags, verdict

__all__ = ["QualityGate"]


class QualityGate(Stage):
    """Withhold the predictions of windows whose raw signal is bad.

    The raw signal is judged once, as it arrives, in blocks of ``block_s`` seconds
    (:func:`~bci.signal.quality.channel_flags`, vectorised over the blocks of a chunk); a
    window's verdict combines the blocks it overlaps and the samples after the last whole
    block. Judging each decoded window from scratch cost ~1 ms at 64 channels, 16 times a
    second; blocks cost the same once per sample instead of once per overlapping window.

    Parameters
    ----------
    window_n : callable
        Returns the number of samples of a decoding window now (the decoder's).
    sfreq : float
    thresholds : GateThresholds or None
    block_s : float
        Block length in seconds.

    Attributes
    ----------
    n_passed, n_withheld : int
        Predictions let through and replaced.
    last : WindowQuality or None
        The verdict on the latest window.
    """

    order: ClassVar[int] = 20
    status_key: ClassVar[str | None] = "quality"

    def __init__(
        self,
        window_n: Callable[[], int],
        sfreq: float,
        thresholds: GateThresholds | None = None,
        block_s: float = 0.25,
    ) -> None:
        self._window_n = window_n
        self.sfreq = float(sfreq)
        self.thresholds = thresholds or GateThresholds()
        self.block_n = max(16, round(block_s * self.sfreq))
        self._blocks: deque[tuple[int, np.ndarray]] = deque(maxlen=4096)  # (end, codes)
        # Samples after the last whole block, as received (rows = samples), not yet judged.
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._n_seen = 0
        self.n_passed = 0
        self.n_withheld = 0
        self.last: WindowQuality | None = None
        self.last_withheld: Withheld | None = None

    def on_chunk(self, ctx: StageContext, chunk: ChunkIn) -> list[Message]:
        x = np.asarray(chunk.received, dtype=np.float64)  # NaN kept: non_finite is a flag
        self._pending.append(x)
        self._n_pending += x.shape[0]
        self._n_seen += int(chunk.timestamps.shape[0])
        b = self.block_n
        if self._n_pending < b:  # most chunks: no whole block yet, nothing to judge
            return []
        x = np.concatenate(self._pending).T if len(self._pending) > 1 else x.T
        start = self._n_seen - self._n_pending
        nb = x.shape[1] // b
        blocks = x[:, : nb * b].reshape(x.shape[0], nb, b).transpose(1, 0, 2)
        codes = channel_flags(blocks, self.sfreq, self.thresholds)
        for i in range(nb):
            self._blocks.append((start + (i + 1) * b, codes[i]))
        rest = x[:, nb * b :].T
        self._pending = [rest] if rest.shape[0] else []
        self._n_pending = rest.shape[0]
        return []

    def _window_codes(self, ctx: StageContext, t: float) -> np.ndarray | None:
        """Per-channel codes of the window whose last sample is stamped ``t``."""
        n = self._window_n()
        raw = ctx.raw
        # Absolute index after the window: usually among the newest samples (a window ends
        # inside the chunk just received); after a catch-up, further back.
        end = raw.index_after(t, 64)
        if end is None:
            end = raw.index_after(t, raw.n_available)
        if end is None:
            return None
        lo = end - n
        if lo < raw.n_written - raw.n_available:
            return None
        last_end = self._blocks[-1][0] if self._blocks else 0
        parts = []
        for e, c in reversed(self._blocks):  # ends ascend; a window spans the newest few
            if e <= lo:
                break
            if e - self.block_n < end:
                parts.append(c)
        if end > last_end:  # samples not yet in a whole block: judge them now, on their own
            m = min(n, max(end - max(last_end, lo), 8))
            seg, _ = raw.window_ending_at(end, m)
            # Too short to resolve mains from EEG: that is the whole blocks' job.
            parts.append(channel_flags(seg, self.sfreq, self.thresholds, line=False))
        if not parts:
            return None
        return np.asarray(np.array(parts).max(axis=0))

    def on_message(self, ctx: StageContext, message: Message) -> Message | None:
        if not isinstance(message, Prediction):
            return message
        codes = self._window_codes(ctx, message.t)
        if codes is None:  # cannot be checked: withhold rather than guess
            result = WindowQuality(
                ok=False, reason="the window's raw samples are no longer buffered"
            )
        else:
            result = verdict(codes, ctx.ch_names, self.thresholds)
        self.last = result
        if result.ok:
            self.n_passed += 1
            return message
        self.n_withheld += 1
        self.last_withheld = Withheld(
            session_id=message.session_id,
            index=message.index,
            t=message.t,
            model_id=message.model_id,
            reason=result.reason,
            channels=result.channels,
            latency_ms=(ctx.clock() - message.t) * 1e3,
        )
        return self.last_withheld

    def status(self) -> dict[str, Any]:
        """``ok`` of the latest window, counts, and the latest reason to withhold."""
        last = self.last
        return {
            "ok": None if last is None else last.ok,
            "channels": {} if last is None else dict(last.channels),
            "passed": self.n_passed,
            "withheld": self.n_withheld,
            "last_withheld": None if self.last_withheld is None else self.last_withheld.to_dict(),
        }
