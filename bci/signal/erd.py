"""Event-related desynchronisation and the mu-suppression index (mirror-system EEG measure).

The index of a channel and band is ``log10(condition power / baseline power)``: negative
means suppression (ERD), positive means synchronisation (ERS). Mu (8-13 Hz) and beta
(13-30 Hz) over C3/Cz/C4 are the default; occipital alpha (8-13 Hz at O1/Oz/O2, where the
montage has them) is reported beside it as the attention control: a drop there too says the
condition changed visual attention, not (only) the sensorimotor rhythm.

- :func:`mu_suppression` compares condition epochs with baseline epochs (a baseline run cut
  into epochs, rest trials, or the pre-cue interval of each trial) and gives per channel and
  band the index, a bootstrap confidence interval over trials and Cohen's d.
- :class:`OnlineMuSuppression` gives one neurofeedback value per window against a baseline
  set once, with exponential smoothing.
"""

# Long module: the offline mu-suppression index (bootstrap CIs, effect sizes) and its online twin
# share the band-power and channel helpers, so offline and online compute the same index.

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bci.errors import SignalError
from bci.signal.bandpower import (
    DEFAULT_BANDS,
    WelchBandPower,
    check_band,
    default_nperseg,
    min_samples,
)

__all__ = [
    "DEFAULT_CHANNELS",
    "OCCIPITAL_CHANNELS",
    "MuSuppressionResult",
    "OnlineMuSuppression",
    "bootstrap_ci",
    "cohens_d",
    "log_ratio",
    "mu_suppression",
    "pick_channels",
    "smoothing_from_time_constant",
]

logger = logging.getLogger(__name__)

DEFAULT_CHANNELS: tuple[str, ...] = ("C3", "Cz", "C4")
OCCIPITAL_CHANNELS: tuple[str, ...] = ("O1", "Oz", "O2")
ALPHA_BAND: tuple[float, float] = (8.0, 13.0)


def pick_channels(ch_names: Sequence[str], wanted: Sequence[str]) -> list[int]:
    """Indices of ``wanted`` in ``ch_names`` (case-insensitive).

    Raises
    ------
    SignalError
        A wanted channel is not in the montage; the message lists the channels that exist.
    """
    if isinstance(wanted, str):
        wanted = [wanted]
    if len(wanted) == 0:
        raise SignalError("channels must name at least one channel, got none")
    lookup = {c.lower(): i for i, c in enumerate(ch_names)}
    missing = [c for c in wanted if c.lower() not in lookup]
    if missing:
        which = "channel" if len(missing) == 1 else "channels"
        raise SignalError(
            f"{which} {', '.join(repr(c) for c in missing)} not in the montage; "
            f"available channels: {', '.join(ch_names)}"
        )
    return [lookup[c.lower()] for c in wanted]


def _present(ch_names: Sequence[str], wanted: Sequence[str]) -> list[str]:
    lookup = {c.lower(): c for c in ch_names}
    return [lookup[c.lower()] for c in wanted if c.lower() in lookup]


def _as_epochs(x: Any, name: str, n_channels: int) -> np.ndarray:
    """Validate and return float64 epochs (n_epochs, n_channels, n_times)."""
    if x is None:
        raise SignalError(
            f"no {name}: got None; pass {name} data (n_epochs, n_channels, n_times) or "
            "(n_channels, n_times)"
        )
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3:
        raise SignalError(
            f"{name} must be epochs (n_epochs, n_channels, n_times) or a window "
            f"(n_channels, n_times), got an array of shape {np.shape(x)}"
        )
    if arr.shape[0] == 0 or arr.shape[2] == 0:
        raise SignalError(
            f"no {name}: the {name} data are empty (shape {arr.shape}); "
            + (
                "give a baseline recording, rest trials or pre-cue epochs"
                if name == "baseline"
                else "give at least one epoch"
            )
        )
    if arr.shape[1] != n_channels:
        raise SignalError(f"{name} has {arr.shape[1]} channels but ch_names lists {n_channels}")
    if not np.isfinite(arr).all():
        n_bad = int(arr.size - np.isfinite(arr).sum())
        raise SignalError(f"{name} contains {n_bad} NaN or infinite values; clean or drop them")
    return arr


def _check_bands(
    bands: Mapping[str, tuple[float, float]], sfreq: float
) -> dict[str, tuple[float, float]]:
    if not bands:
        raise SignalError("bands must name at least one band, got none")
    return {str(k): check_band(v, sfreq, f"band {k!r}") for k, v in bands.items()}


def log_ratio(cond_power: np.ndarray, base_power: np.ndarray) -> np.ndarray:
    """``log10(mean condition power / mean baseline power)`` over trials (axis 0).

    Parameters
    ----------
    cond_power : ndarray, shape (n_cond_trials, ...)
    base_power : ndarray, shape (n_base_trials, ...)

    Returns
    -------
    index : ndarray, shape (...)
    """
    return np.asarray(np.log10(np.mean(cond_power, axis=0) / np.mean(base_power, axis=0)))


def cohens_d(cond_power: np.ndarray, base_power: np.ndarray) -> np.ndarray:
    """Cohen's d of per-trial log10 power, condition minus baseline (pooled SD).

    Negative d means less power in the condition (suppression). With one trial on a side the
    pooled SD comes from the other side alone; with one trial on both sides d is NaN.

    Parameters
    ----------
    cond_power : ndarray, shape (n_cond_trials, ...)
    base_power : ndarray, shape (n_base_trials, ...)

    Returns
    -------
    d : ndarray, shape (...)
    """
    lc, lb = np.log10(cond_power), np.log10(base_power)
    n1, n2 = lc.shape[0], lb.shape[0]
    v1 = lc.var(axis=0, ddof=1) if n1 > 1 else np.zeros(lc.shape[1:])
    v2 = lb.var(axis=0, ddof=1) if n2 > 1 else np.zeros(lb.shape[1:])
    dof = max(n1 - 1, 0) + max(n2 - 1, 0)
    if dof == 0:
        return np.full(lc.shape[1:], np.nan)
    pooled = np.sqrt((max(n1 - 1, 0) * v1 + max(n2 - 1, 0) * v2) / dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((lc.mean(axis=0) - lb.mean(axis=0)) / pooled)


def bootstrap_ci(
    cond_power: np.ndarray,
    base_power: np.ndarray,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int | None = 0,
    paired: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap confidence interval of :func:`log_ratio` over trials.

    Condition and baseline trials are resampled with replacement, independently, or with the
    same indices when ``paired`` (a pre-cue baseline belongs to its trial).

    Parameters
    ----------
    cond_power : ndarray, shape (n_cond_trials, ...)
        Per-trial band power of the condition.
    base_power : ndarray, shape (n_base_trials, ...)
        Per-trial band power of the baseline.
    n_boot : int
        Number of bootstrap resamples.
    ci : float
        Coverage of the interval, in (0, 1).
    seed : int or None
        Seed of ``np.random.default_rng``.
    paired : bool
        Resample condition and baseline trials together (needs equal trial counts).

    Returns
    -------
    low, high : ndarray, shape (...)
        Interval bounds of the index.
    """
    c = np.asarray(cond_power, dtype=np.float64)
    b = np.asarray(base_power, dtype=np.float64)
    if c.shape[0] == 0 or b.shape[0] == 0:
        raise SignalError(
            f"bootstrap_ci needs at least one condition and one baseline trial, got "
            f"{c.shape[0]} and {b.shape[0]}"
        )
    if int(n_boot) < 1:
        raise SignalError(f"n_boot must be a positive integer, got {n_boot}")
    if not 0.0 < float(ci) < 1.0:
        raise SignalError(f"ci must be in (0, 1), got {ci}")
    if paired and c.shape[0] != b.shape[0]:
        raise SignalError(
            f"paired bootstrap needs as many baseline as condition trials, got "
            f"{b.shape[0]} and {c.shape[0]}"
        )
    rng = np.random.default_rng(seed)
    n_boot = int(n_boot)
    # Chunks keep the (n_boot, n_trials, ...) index arrays small for 64-channel montages.
    stats = np.empty((n_boot, *c.shape[1:]))
    chunk = max(1, 2_000_000 // max(1, c[0].size * max(c.shape[0], b.shape[0])))
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        ic = rng.integers(0, c.shape[0], size=(k, c.shape[0]))
        ib = ic if paired else rng.integers(0, b.shape[0], size=(k, b.shape[0]))
        stats[start : start + k] = np.log10(c[ic].mean(axis=1) / b[ib].mean(axis=1))
    alpha = (1.0 - float(ci)) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha], axis=0)
    return low, high


@dataclass(frozen=True)
class MuSuppressionResult:
    """Mu-suppression indices of one condition against one baseline.

    Attributes
    ----------
    channels : tuple of str
        Sensorimotor channels, in the order of the arrays' first axis.
    bands : dict of str to (float, float)
        Band name -> edges in Hz, in the order of the arrays' second axis.
    index : ndarray, shape (n_channels, n_bands)
        ``log10(mean condition power / mean baseline power)``; negative = suppression.
    effect_size : ndarray, shape (n_channels, n_bands)
        Cohen's d of per-trial log10 power, condition vs baseline (negative = suppression).
    ci_low, ci_high : ndarray, shape (n_channels, n_bands) or None
        Bootstrap percentile interval (None when ``n_boot=0``).
    cond_power, base_power : ndarray, shape (n_trials, n_channels, n_bands)
        Per-trial band powers (unit of the data squared).
    occipital_channels : tuple of str
        Occipital channels present in the montage (may be empty).
    alpha_band : (float, float)
        Occipital alpha band in Hz.
    occipital_index, occipital_effect_size : ndarray, shape (n_occipital,)
    occipital_ci_low, occipital_ci_high : ndarray, shape (n_occipital,) or None
    ci : float
        Coverage of the interval.
    nperseg : int
        Welch segment length used for both sides.
    """

    channels: tuple[str, ...]
    bands: dict[str, tuple[float, float]]
    index: np.ndarray
    effect_size: np.ndarray
    ci_low: np.ndarray | None
    ci_high: np.ndarray | None
    cond_power: np.ndarray
    base_power: np.ndarray
    occipital_channels: tuple[str, ...] = ()
    alpha_band: tuple[float, float] = ALPHA_BAND
    occipital_index: np.ndarray = field(default_factory=lambda: np.zeros(0))
    occipital_effect_size: np.ndarray = field(default_factory=lambda: np.zeros(0))
    occipital_ci_low: np.ndarray | None = None
    occipital_ci_high: np.ndarray | None = None
    ci: float = 0.95
    nperseg: int = 0

    @property
    def n_condition(self) -> int:
        return int(self.cond_power.shape[0])

    @property
    def n_baseline(self) -> int:
        return int(self.base_power.shape[0])

    def value(self, channel: str, band: str = "mu") -> float:
        """The index of one channel and band."""
        ci = pick_channels(self.channels, [channel])[0]
        if band not in self.bands:
            raise SignalError(f"Unknown band {band!r}. Must be one of: {', '.join(self.bands)}")
        return float(self.index[ci, list(self.bands).index(band)])

    def mean_index(self, band: str = "mu") -> float:
        """Mean index over the channels for one band."""
        if band not in self.bands:
            raise SignalError(f"Unknown band {band!r}. Must be one of: {', '.join(self.bands)}")
        return float(np.mean(self.index[:, list(self.bands).index(band)]))

    @property
    def occipital_alpha(self) -> float | None:
        """Mean occipital alpha index, or None when the montage has no occipital channel."""
        if len(self.occipital_channels) == 0:
            return None
        return float(np.mean(self.occipital_index))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (no per-trial arrays)."""

        def _f(x: Any) -> float | None:
            x = float(x)
            return None if math.isnan(x) else round(x, 6)

        chans: dict[str, dict[str, dict[str, float | None]]] = {}
        for i, ch in enumerate(self.channels):
            chans[ch] = {}
            for j, band in enumerate(self.bands):
                entry = {"index": _f(self.index[i, j]), "d": _f(self.effect_size[i, j])}
                if self.ci_low is not None and self.ci_high is not None:
                    entry["ci_low"] = _f(self.ci_low[i, j])
                    entry["ci_high"] = _f(self.ci_high[i, j])
                chans[ch][band] = entry
        occ: dict[str, dict[str, float | None]] = {}
        for i, ch in enumerate(self.occipital_channels):
            entry = {
                "index": _f(self.occipital_index[i]),
                "d": _f(self.occipital_effect_size[i]),
            }
            if self.occipital_ci_low is not None and self.occipital_ci_high is not None:
                entry["ci_low"] = _f(self.occipital_ci_low[i])
                entry["ci_high"] = _f(self.occipital_ci_high[i])
            occ[ch] = entry
        return {
            "channels": chans,
            "bands": {k: list(v) for k, v in self.bands.items()},
            "index": {b: _f(self.mean_index(b)) for b in self.bands},
            "occipital_alpha": None if self.occipital_alpha is None else _f(self.occipital_alpha),
            "occipital": occ,
            "alpha_band": list(self.alpha_band),
            "n_condition": self.n_condition,
            "n_baseline": self.n_baseline,
            "ci": self.ci,
            "nperseg": self.nperseg,
        }


def mu_suppression(
    cond: np.ndarray,
    baseline: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str],
    channels: Sequence[str] = DEFAULT_CHANNELS,
    bands: Mapping[str, tuple[float, float]] = DEFAULT_BANDS,
    *,
    occipital: Sequence[str] = OCCIPITAL_CHANNELS,
    alpha_band: tuple[float, float] = ALPHA_BAND,
    nperseg: int | None = None,
    n_boot: int = 0,
    ci: float = 0.95,
    seed: int | None = 0,
    paired: bool = False,
) -> MuSuppressionResult:
    """Mu-suppression index per channel and band: ``log10(condition / baseline power)``.

    Parameters
    ----------
    cond : ndarray, shape (n_epochs, n_channels, n_times) or (n_channels, n_times)
        Condition trials (e.g. 0.5-2.5 s after the cue), any unit.
    baseline : ndarray, shape (n_base_epochs, n_channels, n_base_times) or (n_channels, n_times)
        Baseline trials (rest trials, pre-cue intervals, or a baseline run cut into epochs;
        one long array is one trial). Its length may differ from the condition's.
    sfreq : float
        Sampling rate in Hz.
    ch_names : sequence of str
        Names of the ``n_channels`` channels of both arrays.
    channels : sequence of str
        Sensorimotor channels to report (case-insensitive); each must exist.
    bands : mapping of str to (float, float)
        Band name -> (low, high) in Hz.
    occipital : sequence of str
        Attention-control channels, used where present (none present -> none reported).
    alpha_band : (float, float)
        Band of the occipital control in Hz.
    nperseg : int or None
        Welch segment length for both sides; default one second, or the shorter side.
    n_boot : int
        Bootstrap resamples for the confidence interval; 0 skips it.
    ci : float
        Interval coverage.
    seed : int or None
        Bootstrap seed.
    paired : bool
        Condition and baseline trials come in pairs (pre-cue baseline of each trial).

    Returns
    -------
    MuSuppressionResult

    Raises
    ------
    SignalError
        No baseline, a channel the montage lacks, a window too short for a band, NaN, or
        shapes that disagree with ``ch_names``.
    """
    ch_names = list(ch_names)
    sfreq = float(sfreq)
    picks = pick_channels(ch_names, channels)
    chan_labels = tuple(ch_names[i] for i in picks)
    bands_ = _check_bands(bands, sfreq)
    alpha_ = check_band(alpha_band, sfreq, "alpha_band")
    c = _as_epochs(cond, "condition", len(ch_names))
    b = _as_epochs(baseline, "baseline", len(ch_names))
    shortest = min(c.shape[2], b.shape[2])
    for bname, band in [*bands_.items(), ("alpha", alpha_)]:
        need = min_samples(sfreq, band)
        if shortest < need:
            which = "condition" if c.shape[2] <= b.shape[2] else "baseline"
            raise SignalError(
                f"{which} window of {shortest} samples ({shortest / sfreq:.3g} s) is too short "
                f"for band {bname!r} {band[0]:g}-{band[1]:g} Hz at {sfreq:g} Hz: need at least "
                f"{need} samples ({need / sfreq:.3g} s)"
            )
    seg = default_nperseg(sfreq, shortest) if nperseg is None else int(nperseg)
    if not 1 <= seg <= shortest:
        raise SignalError(f"nperseg must be in 1..{shortest} (shortest window), got {nperseg}")
    est = WelchBandPower(sfreq, bands_, seg)
    cp = est(c[:, picks])
    bp = est(b[:, picks])
    occ_labels = tuple(_present(ch_names, occipital))
    occ_picks = pick_channels(ch_names, occ_labels) if occ_labels else []
    occ_kw: dict[str, Any] = {}
    if occ_picks:
        est_a = WelchBandPower(sfreq, {"alpha": alpha_}, seg)
        oc = est_a(c[:, occ_picks])[..., 0]
        ob = est_a(b[:, occ_picks])[..., 0]
        occ_kw = {
            "occipital_index": log_ratio(oc, ob),
            "occipital_effect_size": cohens_d(oc, ob),
        }
        if n_boot > 0:
            olo, ohi = bootstrap_ci(oc, ob, n_boot=n_boot, ci=ci, seed=seed, paired=paired)
            occ_kw["occipital_ci_low"], occ_kw["occipital_ci_high"] = olo, ohi
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    if n_boot > 0:
        lo, hi = bootstrap_ci(cp, bp, n_boot=n_boot, ci=ci, seed=seed, paired=paired)
    return MuSuppressionResult(
        channels=chan_labels,
        bands=bands_,
        index=log_ratio(cp, bp),
        effect_size=cohens_d(cp, bp),
        ci_low=lo,
        ci_high=hi,
        cond_power=cp,
        base_power=bp,
        occipital_channels=occ_labels,
        alpha_band=alpha_,
        ci=float(ci),
        nperseg=seg,
        **occ_kw,
    )


def smoothing_from_time_constant(tau_s: float, step_s: float) -> float:
    """The smoothing factor that gives an exponential time constant ``tau_s``.

    With one window every ``step_s`` seconds, ``smoothing = exp(-step_s / tau_s)``; a step
    response then reaches 63% after ``tau_s`` seconds.
    """
    if tau_s < 0 or step_s <= 0:
        raise SignalError(
            f"tau_s must be >= 0 and step_s > 0 seconds, got tau_s={tau_s}, step_s={step_s}"
        )
    return 0.0 if tau_s == 0 else float(math.exp(-step_s / tau_s))


class OnlineMuSuppression:
    """A neurofeedback mu-suppression value per window, against a baseline set once.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    ch_names : sequence of str
        Channel names of the windows, in order.
    channels : sequence of str
        Sensorimotor channels (each must exist in ``ch_names``).
    bands : mapping of str to (float, float)
        Band name -> (low, high) in Hz.
    smoothing : float
        Exponential smoothing factor in [0, 1): the weight of the previous smoothed value,
        ``smoothed = smoothing * smoothed + (1 - smoothing) * index``. 0 = no smoothing.
        For a time constant ``tau`` seconds with a window every ``step`` seconds use
        :func:`smoothing_from_time_constant` (``exp(-step / tau)``); 0.5 at 16 windows/s
        is ~90 ms.
    window_s : float
        Length of the windows that :meth:`process` receives, in seconds. Sets the Welch
        segment (one second, or the whole window if shorter); longer or shorter windows are
        accepted down to one segment.
    index_band : str
        The band whose mean over ``channels`` is the feedback ``"index"``.
    occipital : sequence of str
        Attention-control channels, used where present.
    alpha_band : (float, float)
        Occipital alpha band in Hz.

    Notes
    -----
    Each call costs one batched real FFT of the selected channels (about 20-60 µs for
    3-6 channels x 500 samples); the segment window and band weights are made in ``__init__``.
    """

    def __init__(
        self,
        sfreq: float,
        ch_names: Sequence[str],
        channels: Sequence[str] = DEFAULT_CHANNELS,
        bands: Mapping[str, tuple[float, float]] = DEFAULT_BANDS,
        smoothing: float = 0.5,
        window_s: float = 2.0,
        *,
        index_band: str = "mu",
        occipital: Sequence[str] = OCCIPITAL_CHANNELS,
        alpha_band: tuple[float, float] = ALPHA_BAND,
    ) -> None:
        self.sfreq = float(sfreq)
        self.ch_names = list(ch_names)
        self._picks = pick_channels(self.ch_names, channels)
        self.channels = tuple(self.ch_names[i] for i in self._picks)
        self.bands = _check_bands(bands, self.sfreq)
        if index_band not in self.bands:
            raise SignalError(
                f"index_band {index_band!r} is not one of the bands: {', '.join(self.bands)}"
            )
        self.index_band = index_band
        if not 0.0 <= float(smoothing) < 1.0:
            raise SignalError(
                f"smoothing must be a factor in [0, 1) (weight of the previous value), "
                f"got {smoothing}; use smoothing_from_time_constant() for a time constant"
            )
        self.smoothing = float(smoothing)
        if window_s <= 0:
            raise SignalError(f"window_s must be positive seconds, got {window_s}")
        self.window_s = float(window_s)
        n_times = round(self.window_s * self.sfreq)
        self.alpha_band = check_band(alpha_band, self.sfreq, "alpha_band")
        self.occipital = tuple(_present(self.ch_names, occipital))
        self._occ_picks = pick_channels(self.ch_names, self.occipital) if self.occipital else []
        all_bands = {**self.bands, "__alpha__": self.alpha_band}
        need = max(min_samples(self.sfreq, b) for b in all_bands.values())
        if n_times < need:
            raise SignalError(
                f"window_s={self.window_s:g} s ({n_times} samples) is too short for the bands "
                f"at {self.sfreq:g} Hz: need at least {need} samples ({need / self.sfreq:.3g} s)"
            )
        self.nperseg = default_nperseg(self.sfreq, n_times)
        self._est = WelchBandPower(self.sfreq, self.bands, self.nperseg)
        self._est_alpha = WelchBandPower(self.sfreq, {"alpha": self.alpha_band}, self.nperseg)
        self._index_col = list(self.bands).index(index_band)
        self._base: np.ndarray | None = None  # (n_channels_sel, n_bands)
        self._base_alpha: np.ndarray | None = None  # (n_occipital,)
        self._smoothed: float | None = None
        self.n_windows = 0

    @property
    def has_baseline(self) -> bool:
        return self._base is not None

    def _check_window(self, data: Any, name: str) -> np.ndarray:
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != len(self.ch_names):
            raise SignalError(
                f"{name} must be (n_channels={len(self.ch_names)}, n_times), got shape "
                f"{np.shape(data)}"
            )
        if x.shape[1] < self.nperseg:
            raise SignalError(
                f"{name} of {x.shape[1]} samples ({x.shape[1] / self.sfreq:.3g} s) is too short: "
                f"need at least {self.nperseg} samples ({self.nperseg / self.sfreq:.3g} s)"
            )
        return x

    def set_baseline(self, data: np.ndarray) -> None:
        """Set the reference power from a baseline recording or the last rest period.

        Parameters
        ----------
        data : ndarray, shape (n_channels, n_times)
            All channels of the stream, at least one Welch segment long (longer is better:
            the whole period's segments are averaged). Resets the smoothing.
        """
        x = self._check_window(data, "baseline")
        if not np.isfinite(x).all():
            raise SignalError("baseline contains NaN or infinite values; clean or drop them")
        base = self._est(x[self._picks])
        if np.any(base <= 0):
            flat = [self.channels[i] for i in np.flatnonzero(np.any(base <= 0, axis=1))]
            raise SignalError(f"baseline has no power in a band at channels {flat} (flat signal?)")
        self._base = base
        self._base_alpha = self._est_alpha(x[self._occ_picks])[:, 0] if self._occ_picks else None
        self._smoothed = None

    def reset(self) -> None:
        """Forget the smoothing state (keeps the baseline)."""
        self._smoothed = None
        self.n_windows = 0

    def process(self, window: np.ndarray) -> dict[str, Any]:
        """The mu-suppression values of one window.

        Parameters
        ----------
        window : ndarray, shape (n_channels, n_times)

        Returns
        -------
        dict
            JSON-ready: ``{"channels": {"C3": {"mu": -0.21, "beta": -0.1}, ...},
            "index": mean index_band value over the channels, "smoothed": smoothed index,
            "band": index_band, "occipital_alpha": mean occipital alpha index or None,
            "occipital": {"O1": ..., ...}, "n_windows": windows processed}``.

        Raises
        ------
        SignalError
            Before :meth:`set_baseline`, or for a window of the wrong shape, too short, or
            with NaN.
        """
        if self._base is None:
            raise SignalError(
                "no baseline: call set_baseline(data) with a baseline recording or the last "
                "rest period (n_channels, n_times) before process()"
            )
        x = self._check_window(window, "window")
        sel = x[self._picks]
        if not np.isfinite(sel).all():
            raise SignalError("window contains NaN or infinite values; clean or drop them")
        power = self._est(sel)
        if np.any(power <= 0):
            flat = [self.channels[i] for i in np.flatnonzero(np.any(power <= 0, axis=1))]
            raise SignalError(f"window has no power in a band at channels {flat} (flat signal?)")
        idx = np.log10(power / self._base)
        index = float(np.mean(idx[:, self._index_col]))
        if self._smoothed is None or not math.isfinite(self._smoothed):
            self._smoothed = index
        else:
            self._smoothed = self.smoothing * self._smoothed + (1.0 - self.smoothing) * index
        self.n_windows += 1
        occ: dict[str, float | None] = {}
        occ_mean: float | None = None
        if self._base_alpha is not None:
            # A flat occipital channel must not stop the feedback: it reports None.
            with np.errstate(divide="ignore", invalid="ignore"):
                oa = np.log10(self._est_alpha(x[self._occ_picks])[:, 0] / self._base_alpha)
            ok = np.isfinite(oa)
            occ = {
                ch: (float(v) if good else None)
                for ch, v, good in zip(self.occipital, oa, ok, strict=True)
            }
            occ_mean = float(np.mean(oa[ok])) if ok.any() else None
        names = list(self.bands)
        return {
            "channels": {
                ch: {b: float(idx[i, j]) for j, b in enumerate(names)}
                for i, ch in enumerate(self.channels)
            },
            "index": index,
            "smoothed": float(self._smoothed),
            "band": self.index_band,
            "occipital_alpha": occ_mean,
            "occipital": occ,
            "n_windows": self.n_windows,
        }
