"""Compiled (numba) loops for what every session does to every chunk and every decision.

The live path runs two small computations many times a second per session: the causal
band-pass of each chunk (~10 samples x 8 channels) and the quality gate's statistics of a
block or of the few samples after it (~8-60 samples x 8 channels). On arrays that small,
NumPy and SciPy cost their call overhead, not their arithmetic: ``scipy.signal.sosfilt``
~40 µs per chunk, the gate's ~35 NumPy calls ~100 µs per decision, together half of the
engine thread at 64 sessions. One compiled loop each does the same arithmetic in a few
microseconds.

Both are checked against the NumPy/SciPy computations they replace
(``tests/signal/test_kernels.py``): the filter is ``scipy.signal.sosfilt``'s direct form II
transposed in the same order of operations; the gate codes equal the NumPy statistics'.

Compiled on first use and cached on disk (``cache=True``); import this module lazily, as
importing numba alone takes ~0.5 s. The kernels keep the GIL (no ``nogil``): they run for a
few microseconds, and a thread that lets go of the GIL in a busy service waits for it to
come back (the event loop holds it for up to the switch interval, 5 ms), which showed as
18% of the engine thread "inside" the gate at 100 sessions.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["gate_codes", "sos_filter_inplace", "warm"]


@njit(cache=True)
def sos_filter_inplace(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> None:  # pragma: no cover
    """Filter ``x`` (n_samples, n_channels) in place with ``sos``; ``zi`` (n_sections, 2,
    n_channels) is the carried state, updated in place. ``sosfilt``'s recurrence, in its
    order of operations."""
    n_sec = sos.shape[0]
    n, n_ch = x.shape
    for t in range(n):
        for c in range(n_ch):
            cur = x[t, c]
            for s in range(n_sec):
                new = sos[s, 0] * cur + zi[s, 0, c]
                zi[s, 0, c] = sos[s, 1] * cur - sos[s, 4] * new + zi[s, 1, c]
                zi[s, 1, c] = sos[s, 2] * cur - sos[s, 5] * new
                cur = new
            x[t, c] = cur


@njit(cache=True)
def gate_codes(  # pragma: no cover - compiled; covered through its Python callers
    x: np.ndarray,
    mains: np.ndarray,
    flat_uv: float,
    saturation_fraction: float,
    saturation_uv: float,
    disconnected_uv: float,
    disconnected_ratio: float,
    disconnected_floor_uv: float,
) -> np.ndarray:
    """Gate codes (``FLAG_CODES``) of segments ``x`` (n_segments, n_channels, n_times).

    ``mains`` (n_segments, n_channels) says which channels are mains-dominated (computed
    by the caller: it needs an FFT). ``saturation_uv = inf``: no absolute rail.
    Codes: 5 non_finite, 4 flat, 3 saturated, 2 disconnected, 1 line_noise, 0 ok.
    """
    n_seg, n_ch, n = x.shape
    codes = np.zeros((n_seg, n_ch), dtype=np.int8)
    sd = np.empty(n_ch)
    srt = np.empty(n_ch)
    for g in range(n_seg):
        for c in range(n_ch):
            row = x[g, c]
            finite = True
            total = 0.0
            for t in range(n):
                v = row[t]
                if math.isfinite(v):
                    total += v
                else:
                    finite = False
            mean = total / n
            ss = 0.0
            dd = 0.0
            hi = -math.inf
            lo = math.inf
            amax = 0.0
            prev = 0.0
            for t in range(n):
                v = row[t]
                if not math.isfinite(v):
                    v = 0.0
                e = v - mean
                ss += e * e
                if t:
                    d = v - prev
                    dd += d * d
                prev = v
                hi = max(hi, v)
                lo = min(lo, v)
                amax = max(amax, abs(v))
            s_d = math.sqrt(ss / n)
            step_sd = math.sqrt(dd / (n - 1) / 2.0) if n > 1 else 0.0
            sd[c] = s_d
            tol = 1e-6 * max(1.0, max(abs(hi), abs(lo)))
            held = 0
            # held[t]: samples t..t+2 at a rail and equal to their neighbours (a clipped run)
            for t in range(n - 2):
                a = row[t] if math.isfinite(row[t]) else 0.0
                b = row[t + 1] if math.isfinite(row[t + 1]) else 0.0
                d2 = row[t + 2] if math.isfinite(row[t + 2]) else 0.0
                rail_a = a >= hi - tol or a <= lo + tol
                rail_c = d2 >= hi - tol or d2 <= lo + tol
                if rail_a and rail_c and abs(b - a) <= tol and abs(d2 - b) <= tol:
                    held += 1
            saturated = n > 2 and held / (n - 2) >= saturation_fraction
            if amax >= saturation_uv:
                saturated = True
            code = 0
            if mains[g, c]:
                code = 1
            if saturated:
                code = 3
            if min(s_d, step_sd) < flat_uv:
                code = 4
            if not finite:
                code = 5
            codes[g, c] = code
        # Disconnected: far above the typical channel (median of the spreads) or absolutely.
        for c in range(n_ch):
            srt[c] = sd[c]
        srt.sort()
        m = n_ch // 2
        ref = srt[m] if n_ch % 2 else (srt[m - 1] + srt[m]) / 2.0
        for c in range(n_ch):
            s_d = sd[c]
            loose = s_d > disconnected_uv or (
                s_d > disconnected_floor_uv and s_d > disconnected_ratio * ref
            )
            if loose and codes[g, c] < 2:
                codes[g, c] = 2
    return codes


def warm() -> None:
    """Compile (or load from the on-disk cache) every kernel now, on tiny inputs.

    The engine thread calls it before its first round, so the first chunk of the first
    session does not wait for the compiler (~4 s without a cache, ~0.1 s with one).
    """
    x = np.zeros((4, 2))
    sos_filter_inplace(np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]]), x, np.zeros((1, 2, 2)))
    gate_codes(np.zeros((1, 2, 4)), np.zeros((1, 2), np.bool_), 0.1, 0.2, np.inf, 1.0, 1.0, 1.0)
