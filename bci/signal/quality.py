"""Signal quality of a window: per-channel flags, and the gate that withholds bad decisions.

:func:`channel_quality` flags each channel of a raw window for the dashboard (``ok``,
``flat``, ``saturated``, ``line_noise``, ``noisy``). :func:`window_quality` judges a window
that is about to be decoded: a decoder fed a flat, saturated, disconnected, non-finite or
mains-dominated signal still returns confident-looking probabilities (a dead headset pushing
zeros gave 96 of 96 decisions "left" at p = 0.993), so such windows must be withheld, with
the reason, instead of published as a class.

Every amplitude here is in microvolts (the inlets convert each stream's declared unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import signal as sps

from bci.errors import SignalError
from bci.signal.bandpower import DEFAULT_BANDS, band_powers

__all__ = [
    "FLAG_CODES",
    "GATE_FLAGS",
    "QUALITY_FLAGS",
    "GateThresholds",
    "QualityThresholds",
    "WindowQuality",
    "channel_flags",
    "channel_quality",
    "gate_kernel_args",
    "quality_band_powers",
    "verdict",
    "window_quality",
]

#: Every value ``quality`` can take, most severe problem first after ``ok``.
QUALITY_FLAGS = ("ok", "flat", "saturated", "line_noise", "noisy")

_BROAD = (2.0, 40.0)
_LINE = {"line50": (48.0, 52.0), "line60": (58.0, 62.0)}


@dataclass(frozen=True)
class QualityThresholds:
    """When a channel is flagged (all amplitudes in the stream's unit, µV for EEG).

    Attributes
    ----------
    flat_uv : float
        Standard deviation (after removing a linear trend) below this: ``flat``
        (disconnected electrode, dead channel).
    saturation_fraction : float
        Share of samples stuck at the window's own maximum or minimum at or above this:
        ``saturated`` (clipped at the amplifier's rail).
    saturation_uv : float or None
        Optional absolute rail: any sample with ``|x| >= saturation_uv`` is ``saturated``.
    line_ratio : float
        Power within 2 Hz of 50 or 60 Hz over the 2-40 Hz power above this: ``line_noise``.
    noisy_uv : float
        Robust standard deviation (1.4826 x median absolute deviation, after removing a
        linear trend) above this: ``noisy`` (muscle, movement, bad contact). Robust, so a
        single blink does not flag the channel.
    """

    flat_uv: float = 0.5
    saturation_fraction: float = 0.05
    saturation_uv: float | None = None
    line_ratio: float = 0.5
    noisy_uv: float = 75.0


def channel_quality(
    window: np.ndarray,
    sfreq: float,
    thresholds: QualityThresholds | None = None,
    powers: dict[str, np.ndarray] | None = None,
) -> list[str]:
    """One quality flag per channel (see :data:`QUALITY_FLAGS`).

    Parameters
    ----------
    window : ndarray, shape (n_channels, n_times)
        Raw (unfiltered) signal; at least 2 samples.
    sfreq : float
        Sampling rate in Hz.
    thresholds : QualityThresholds or None
        Defaults to :class:`QualityThresholds()`.
    powers : dict of str to ndarray, shape (n_channels,), or None
        Band powers of ``window`` with keys ``"broad"`` (2-40 Hz) and ``"line50"`` and/or
        ``"line60"``, as :func:`bci.signal.bandpower.band_powers` returns; without them the
        line-noise check is skipped.

    Returns
    -------
    flags : list of str, length n_channels
        The first problem found in the order flat, saturated, line_noise, noisy; else ``ok``.
    """
    x = np.asarray(window, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2:
        raise SignalError(
            f"window must have shape (n_channels, n_times >= 2), got an array of shape {x.shape}"
        )
    th = thresholds or QualityThresholds()
    x = np.nan_to_num(x)
    detr = sps.detrend(x, axis=-1, type="linear")
    sd = detr.std(axis=-1)
    flat = sd < th.flat_uv

    hi = x.max(axis=-1, keepdims=True)
    lo = x.min(axis=-1, keepdims=True)
    tol = 1e-6 * np.maximum(1.0, np.maximum(np.abs(hi), np.abs(lo)))
    stuck = ((x >= hi - tol) | (x <= lo + tol)).mean(axis=-1)
    saturated = (stuck >= th.saturation_fraction) & ~flat
    if th.saturation_uv is not None:
        saturated |= np.abs(x).max(axis=-1) >= th.saturation_uv

    line = np.zeros(x.shape[0], dtype=bool)
    if powers is not None and "broad" in powers:
        broad = np.maximum(powers["broad"], 1e-12)
        for key in _LINE:
            if key in powers:
                line |= powers[key] / broad > th.line_ratio

    mad = np.median(np.abs(detr - np.median(detr, axis=-1, keepdims=True)), axis=-1)
    noisy = 1.4826 * mad > th.noisy_uv

    flags = []
    for i in range(x.shape[0]):
        if flat[i]:
            flags.append("flat")
        elif saturated[i]:
            flags.append("saturated")
        elif line[i]:
            flags.append("line_noise")
        elif noisy[i]:
            flags.append("noisy")
        else:
            flags.append("ok")
    return flags


def quality_band_powers(window: np.ndarray, sfreq: float) -> dict[str, np.ndarray] | None:
    """mu, beta, 2-40 Hz and line-frequency power (Welch, 1 s segments); None if too short."""
    if window.shape[1] < round(sfreq):  # the 2-40 Hz band needs one second
        return None
    bands = dict(DEFAULT_BANDS)
    bands["broad"] = _BROAD
    for key, (lo, hi) in _LINE.items():
        if hi < sfreq / 2:
            bands[key] = (lo, hi)
    return band_powers(np.nan_to_num(window), sfreq, bands)


#: Problems that withhold a decision, most severe first.
GATE_FLAGS = ("non_finite", "flat", "saturated", "disconnected", "line_noise")


@dataclass(frozen=True)
class GateThresholds:
    """When a decoding window is withheld (amplitudes in µV).

    Attributes
    ----------
    flat_uv : float
        Standard deviation, or sample-to-sample spread (a dead channel that drifts), below
        this: ``flat`` (a dead channel, or an amplifier sending zeros). Low on purpose:
        it is applied to short blocks, and scalp EEG is never below ~1 µV.
    saturation_fraction : float
        Share of samples held at the window's own extreme (equal to the two samples
        around them) at or above this: ``saturated``. PhysioNet's EEG holds a peak value
        for 4 samples now and then (10% of a 40-sample block); a railed amplifier holds it
        for most of the block.
    saturation_uv : float or None
        Optional absolute rail: any ``|x| >= saturation_uv`` is ``saturated``.
    disconnected_uv : float
        Standard deviation above this: ``disconnected`` (a floating electrode picks up
        drift and noise tens of times larger than EEG).
    disconnected_ratio : float
        Or standard deviation above this many times the median over channels (and at least
        ``disconnected_floor_uv``): ``disconnected``.
    disconnected_floor_uv : float
    line_ratio : float
        Power within 2 Hz of 50 or 60 Hz over the 2-40 Hz power above this: ``line_noise``
        (the window is mains, not EEG). High on purpose: real EEG next to unshielded mains
        reaches 5-17 (PhysioNet S005, 60 Hz) and still decodes after the band-pass; a
        headset off the head or an input of pure hum is far above 100.
    max_line_fraction : float
        ``line_noise`` withholds the window only when more than this share of the channels
        has it (one humming electrode does not drown a 64-channel covariance; a headset
        off the head hums on every channel).
    """

    flat_uv: float = 0.1
    saturation_fraction: float = 0.2
    saturation_uv: float | None = None
    disconnected_uv: float = 500.0
    disconnected_ratio: float = 20.0
    disconnected_floor_uv: float = 100.0
    line_ratio: float = 100.0
    max_line_fraction: float = 0.5


@dataclass(frozen=True)
class WindowQuality:
    """The verdict on one decoding window.

    Attributes
    ----------
    ok : bool
        True when the window may be decoded.
    channels : dict of str to str
        Every channel with a problem -> its flag (see :data:`GATE_FLAGS`).
    reason : str
        Empty when ``ok``; else one sentence naming the problem and the channels.
    """

    ok: bool
    channels: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "channels": dict(self.channels), "reason": self.reason}


@lru_cache(maxsize=16)
def _line_bins(n: int, sfreq: float) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Hann taper, 2-40 Hz bins and mains bins of an ``n``-sample periodogram (cached)."""
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    broad = np.flatnonzero((f >= 2.0) & (f <= 40.0))
    mains = [np.flatnonzero((f >= lo) & (f <= hi)) for lo, hi in _LINE.values() if hi < sfreq / 2]
    return np.hanning(n), broad, mains


def _line_ratio(x: np.ndarray, sfreq: float) -> np.ndarray:
    """Mains power (48-52 and 58-62 Hz) over 2-40 Hz power, Hann periodogram, last axis."""
    taper, broad, mains = _line_bins(x.shape[-1], float(sfreq))
    z = np.fft.rfft(x * taper, axis=-1)
    spec = z.real**2 + z.imag**2
    top = np.zeros(x.shape[:-1])
    for idx in mains:
        top = np.maximum(top, spec[..., idx].sum(axis=-1))
    return np.asarray(top / np.maximum(spec[..., broad].sum(axis=-1), 1e-12))


#: Integer code of each gate flag (0 = ok); higher is more severe, so codes combine by max.
FLAG_CODES: dict[str, int] = {f: len(GATE_FLAGS) - i for i, f in enumerate(GATE_FLAGS)}
_CODE_FLAGS = {v: k for k, v in FLAG_CODES.items()}


def channel_flags(
    x: np.ndarray, sfreq: float, thresholds: GateThresholds | None = None, line: bool = True
) -> np.ndarray:
    """The gate's problem code for each channel of one or many raw segments.

    Parameters
    ----------
    x : ndarray, shape (..., n_channels, n_times)
        Raw signal in µV (NaN/inf allowed), ``n_times >= 2``; leading axes are segments
        judged independently (vectorised).
    sfreq : float
    thresholds : GateThresholds or None
    line : bool
        Check for mains-only signal (a periodogram per channel); False skips it, for
        segments too short to resolve 50 Hz from the EEG band.

    Returns
    -------
    codes : ndarray of int, shape (..., n_channels)
        :data:`FLAG_CODES` of the most severe problem of each channel, 0 when none.
    """
    from bci.signal._kernels import gate_codes  # numba: imported on first use

    th = thresholds or GateThresholds()
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1] < 2:
        raise SignalError(f"segments need at least 2 samples, got shape {x.shape}")
    lead = x.shape[:-2]
    segs = np.ascontiguousarray(x.reshape((-1, *x.shape[-2:])))
    if line:
        clean = segs if np.isfinite(segs).all() else np.where(np.isfinite(segs), segs, 0.0)
        xc = clean - clean.sum(axis=-1, keepdims=True) / clean.shape[-1]
        mains = _line_ratio(xc, sfreq) > th.line_ratio
    else:
        mains = np.zeros(segs.shape[:2], dtype=np.bool_)
    codes = gate_codes(segs, mains, *gate_kernel_args(th))
    return np.asarray(codes.reshape((*lead, segs.shape[1])))


def gate_kernel_args(th: GateThresholds) -> tuple[float, ...]:
    """``th`` as the compiled kernel's threshold arguments (after ``x`` and ``mains``)."""
    return (
        float(th.flat_uv),
        float(th.saturation_fraction),
        np.inf if th.saturation_uv is None else float(th.saturation_uv),
        float(th.disconnected_uv),
        float(th.disconnected_ratio),
        float(th.disconnected_floor_uv),
    )


def window_quality(
    window: np.ndarray,
    sfreq: float,
    ch_names: list[str] | None = None,
    thresholds: GateThresholds | None = None,
) -> WindowQuality:
    """Judge a raw (unfiltered) window before it is decoded.

    Parameters
    ----------
    window : ndarray, shape (n_channels, n_times)
        The raw signal of the decoding channels, µV; at least 2 samples.
    sfreq : float
        Sampling rate in Hz.
    ch_names : list of str or None
        Names used in the verdict (``ch1``... if None).
    thresholds : GateThresholds or None

    Returns
    -------
    quality : WindowQuality
        Not ``ok`` when any channel is non-finite, flat, saturated or disconnected, or when
        more than ``max_line_fraction`` of the channels are mains-dominated.

    Examples
    --------
    >>> window_quality(np.zeros((3, 500)), 250.0, ["C3", "Cz", "C4"]).reason
    'flat signal on C3, Cz, C4 (standard deviation < 0.1 µV)'
    """
    x = np.asarray(window, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2:
        raise SignalError(
            f"window must have shape (n_channels, n_times >= 2), got an array of shape {x.shape}"
        )
    return verdict(channel_flags(x, sfreq, thresholds), ch_names, thresholds)


def verdict(
    codes: np.ndarray, ch_names: list[str] | None = None, thresholds: GateThresholds | None = None
) -> WindowQuality:
    """Turn per-channel codes (:func:`channel_flags`) into the verdict on a window.

    Parameters
    ----------
    codes : ndarray of int, shape (n_channels,)
    ch_names : list of str or None
    thresholds : GateThresholds or None
        Its ``max_line_fraction`` decides whether mains noise alone withholds.
    """
    n_ch = len(codes)
    # the usual case, 16 times a second per session (the array method: np.any costs ~3x)
    if ch_names is not None and len(ch_names) == n_ch and not np.asarray(codes).any():
        return WindowQuality(ok=True)
    th = thresholds or GateThresholds()
    names = list(ch_names) if ch_names is not None else [f"ch{i + 1}" for i in range(n_ch)]
    if len(names) != n_ch:
        raise SignalError(f"ch_names has {len(names)} names for {n_ch} channels")
    flags = {int(i): _CODE_FLAGS[int(c)] for i, c in enumerate(codes) if c}
    by_flag: dict[str, list[str]] = {}
    for i, flag in sorted(flags.items()):
        by_flag.setdefault(flag, []).append(names[i])
    channels = {names[i]: flag for i, flag in sorted(flags.items())}
    blocking = [f for f in GATE_FLAGS if f in by_flag and f != "line_noise"]
    n_line = len(by_flag.get("line_noise", []))
    if n_line > th.max_line_fraction * n_ch:
        blocking.append("line_noise")
    if not blocking:
        return WindowQuality(ok=True, channels=channels)
    what = {
        "non_finite": "NaN/inf samples",
        "flat": f"flat signal (standard deviation < {th.flat_uv:g} µV)",
        "saturated": "saturated signal (stuck at the amplifier's rail)",
        "disconnected": "disconnected electrode (amplitude far above EEG)",
        "line_noise": "only mains interference (50/60 Hz over 100x the 2-40 Hz EEG power)",
    }
    parts = []
    for f in blocking:
        chans = by_flag[f]
        shown = ", ".join(chans[:8]) + (f" and {len(chans) - 8} more" if len(chans) > 8 else "")
        text = what[f]
        head, _, tail = text.partition(" (")
        parts.append(f"{head} on {shown}" + (f" ({tail}" if tail else ""))
    return WindowQuality(ok=False, channels=channels, reason="; ".join(parts))
