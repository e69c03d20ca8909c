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

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from bci.online.messages import Message, Prediction, Withheld
from bci.online.stages import ChunkIn, Stage, StageContext
from bci.signal.quality import (
    GateThresholds,
    WindowQuality,
    channel_flags,
    gate_kernel_args,
    verdict,
)

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
    #: Blocks kept (0.25 s each: ~17 min); a window older than that cannot be judged.
    MAX_BLOCKS: ClassVar[int] = 4096

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
        # Block k holds samples [k * block_n, (k + 1) * block_n) (blocks are contiguous from
        # the first sample); its codes are row k % len(ring) of a 2-D ring, so a window's
        # blocks are one slice and one max, not a list of arrays stacked per decision.
        self._n_blocks = 0
        self._ring: np.ndarray | None = None  # (MAX_BLOCKS, n_channels) int8, on first use
        self._kernel_args = gate_kernel_args(self.thresholds)
        self._no_mains: np.ndarray | None = None
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
        ring = self._ring
        if ring is None:
            ring = self._ring = np.zeros((self.MAX_BLOCKS, codes.shape[1]), dtype=codes.dtype)
        cap = ring.shape[0]
        k0 = start // b  # start is a multiple of b: blocks are contiguous from sample 0
        for i in range(nb):
            ring[(k0 + i) % cap] = codes[i]
        self._n_blocks = k0 + nb
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
        b = self.block_n
        n_blocks = self._n_blocks
        last_end = n_blocks * b
        codes: np.ndarray | None = None
        ring = self._ring
        if ring is not None:
            cap = ring.shape[0]
            # blocks k with k * b < end and (k + 1) * b > lo, of those still in the ring
            k_lo = max(lo // b, n_blocks - cap, 0)
            k_hi = min(-(-end // b), n_blocks)
            if k_hi > k_lo:
                i0, count = k_lo % cap, k_hi - k_lo
                if i0 + count <= cap:
                    codes = ring[i0 : i0 + count].max(axis=0)
                else:  # the window's blocks wrap around the ring's end
                    codes = np.maximum(
                        ring[i0:].max(axis=0), ring[: count - (cap - i0)].max(axis=0)
                    )
        if end > last_end:  # samples not yet in a whole block: judge them now, on their own
            m = min(n, max(end - max(last_end, lo), 8))
            seg, _ = raw.window_ending_at(end, m)
            # Too short to resolve mains from EEG: that is the whole blocks' job (no mains
            # flag). The kernel directly: this runs on every decision.
            tail = self._tail_codes(seg)
            codes = tail if codes is None else np.maximum(codes, tail)
        return codes

    def _tail_codes(self, seg: np.ndarray) -> np.ndarray:
        """:func:`~bci.signal.quality.channel_flags` of one (n_channels, n) segment with
        ``line=False``, without its argument checks and copies (the segment is fresh)."""
        from bci.signal._kernels import gate_codes

        x = np.ascontiguousarray(seg, dtype=np.float64)[None]
        if self._no_mains is None or self._no_mains.shape[1] != x.shape[1]:
            self._no_mains = np.zeros((1, x.shape[1]), dtype=np.bool_)
        return np.asarray(gate_codes(x, self._no_mains, *self._kernel_args)[0])

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
