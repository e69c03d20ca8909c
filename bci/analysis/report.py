"""The ERD report: its options, entries, ERDS maps, table, JSON and figures.

:mod:`bci.analysis.erd` computes the entries of an :class:`ErdReport`;
:func:`write_outputs` writes the numbers as JSON, the maps as PNG and an ``.npz``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError, SignalError
from bci.signal.bandpower import DEFAULT_BANDS
from bci.signal.erd import DEFAULT_CHANNELS, MuSuppressionResult

__all__ = [
    "REFERENCES",
    "ErdEntry",
    "ErdOptions",
    "ErdReport",
    "ErdsMap",
    "write_outputs",
]

logger = logging.getLogger(__name__)

#: Reference kinds: rest trials of the same runs, a baseline recording, each trial's pre-cue.
REFERENCES = ("rest", "baseline", "pre-cue")
_REF_LABELS = {"rest": "rest", "baseline": "baseline run", "pre-cue": "pre-cue"}
_REFERENCE_MODES = ("auto", "average", "none")


@dataclass(frozen=True)
class ErdOptions:
    """Settings of an ERD report.

    Attributes
    ----------
    tmin, tmax : float
        Condition (and rest) window relative to the cue, seconds; the reference windows of a
        baseline run have the same length.
    precue : (float, float)
        Pre-cue baseline interval relative to the cue, seconds.
    channels : tuple of str
        Sensorimotor channels of the table and the ERDS maps.
    bands : dict of str to (float, float)
        Bands of the table, Hz.
    n_boot, ci, seed
        Bootstrap resamples, interval coverage and seed.
    reference : {"auto", "average", "none"}
        EEG re-referencing: common average, as recorded, or ``auto`` = average when the
        recording has at least 32 EEG channels (a sparse montage's average would contain the
        sensorimotor rhythm itself), as recorded otherwise.
    erds : bool
        Compute ERDS time-frequency maps.
    erds_freqs : (float, float)
        Frequency range of the maps, Hz (1 Hz steps, Morlet with ``freq / 2`` cycles).
    erds_tmax : float or None
        End of the maps relative to the cue (default ``tmax + 1.5``).
    erds_mode : {"percent", "logratio"}
        Baseline correction of the maps against the pre-cue interval.
    """

    tmin: float = 0.5
    tmax: float = 2.5
    precue: tuple[float, float] = (-1.0, 0.0)
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    bands: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_BANDS))
    n_boot: int = 2000
    ci: float = 0.95
    seed: int = 0
    reference: str = "auto"
    erds: bool = True
    erds_freqs: tuple[float, float] = (4.0, 35.0)
    erds_tmax: float | None = None
    erds_mode: str = "percent"

    def __post_init__(self) -> None:
        if not self.tmax > self.tmin:
            raise SignalError(f"tmax ({self.tmax}) must be greater than tmin ({self.tmin})")
        if not self.precue[1] > self.precue[0]:
            raise SignalError(f"precue {self.precue} must be (start, end) with start < end")
        if self.precue[1] > 0:
            raise SignalError(f"precue {self.precue} must end at or before the cue (0 s)")
        if self.reference not in _REFERENCE_MODES:
            raise SignalError(
                f"Unknown reference {self.reference!r}. Must be one of: "
                f"{', '.join(_REFERENCE_MODES)}"
            )
        if self.erds_mode not in ("percent", "logratio"):
            raise SignalError(
                f"Unknown erds_mode {self.erds_mode!r}. Must be one of: percent, logratio"
            )
        if self.n_boot < 0:
            raise SignalError(f"n_boot must be >= 0, got {self.n_boot}")

    @property
    def map_tmax(self) -> float:
        return self.tmax + 1.5 if self.erds_tmax is None else float(self.erds_tmax)


@dataclass(frozen=True)
class ErdEntry:
    """One condition against one reference.

    Attributes
    ----------
    group : str
        eegbci run type, or ``"recording"``.
    condition : str
        Condition label (``imagine_left``...).
    reference : str
        One of :data:`REFERENCES`.
    result : MuSuppressionResult
        Table numbers (sensorimotor channels x bands, occipital alpha).
    topomap : ndarray, shape (n_eeg_channels,)
        Mu index of every EEG channel (``ErdReport.ch_names`` order).
    """

    group: str
    condition: str
    reference: str
    result: MuSuppressionResult
    topomap: np.ndarray

    def to_dict(self, ch_names: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "group": self.group,
            "condition": self.condition,
            "reference": self.reference,
        }
        out.update(self.result.to_dict())
        out["topomap_mu"] = {
            c: round(float(v), 6) for c, v in zip(ch_names, self.topomap, strict=True)
        }
        return out


@dataclass(frozen=True)
class ErdsMap:
    """Trial-averaged ERDS time-frequency map of one condition.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_freqs, n_times)
        Power change against the pre-cue interval: percent (-30 = 30% less power) or log10
        ratio, per ``mode``.
    """

    group: str
    condition: str
    channels: tuple[str, ...]
    freqs: np.ndarray
    times: np.ndarray
    data: np.ndarray
    mode: str
    n_epochs: int


@dataclass
class ErdReport:
    """Everything one ``bci erd`` run computed.

    Attributes
    ----------
    source : str
        What was analysed ("eegbci subject 1", a file path).
    sfreq : float
    ch_names : list of str
        EEG channels of the topomaps.
    reference : str
        The EEG reference applied ("average" or "none").
    options : ErdOptions
    entries : list of ErdEntry
    erds : list of ErdsMap
    notes : list of str
        Dropped epochs, missing references and similar remarks.
    info : mne.Info or None
        Channel positions for the topomaps (not serialised).
    """

    source: str
    sfreq: float
    ch_names: list[str]
    reference: str
    options: ErdOptions
    entries: list[ErdEntry] = field(default_factory=list)
    erds: list[ErdsMap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    info: Any = None

    def get(self, condition: str, reference: str, group: str | None = None) -> MuSuppressionResult:
        """The result of one condition against one reference."""
        for e in self.entries:
            if e.condition == condition and e.reference == reference:
                if group is None or e.group == group:
                    return e.result
        have = sorted({(e.condition, e.reference) for e in self.entries})
        raise DataError(
            f"No result for condition {condition!r} against {reference!r}; have: {have}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers of the report."""
        opts = asdict(self.options)
        opts["bands"] = {k: list(v) for k, v in self.options.bands.items()}
        return {
            "source": self.source,
            "sfreq": self.sfreq,
            "eeg_reference": self.reference,
            "options": opts,
            "definition": (
                "index = log10(mean condition band power / mean reference band power), "
                "Welch PSD; negative = suppression. d = Cohen's d of per-trial log10 power "
                "(pooled SD), condition minus reference. CI = percentile bootstrap over trials."
            ),
            "entries": [e.to_dict(self.ch_names) for e in self.entries],
            "erds_maps": [
                {
                    "group": m.group,
                    "condition": m.condition,
                    "channels": list(m.channels),
                    "mode": m.mode,
                    "n_epochs": m.n_epochs,
                    "mean_in_window": _erds_window_means(m, self.options),
                }
                for m in self.erds
            ],
            "notes": list(self.notes),
        }

    def table(self) -> str:
        """The per-condition, per-channel table as text."""
        opts = self.options
        chans = list(opts.channels)
        head = (
            f"{self.source}: mu suppression = log10(condition / reference power), negative = "
            f"suppression; EEG reference: {self.reference}; condition window "
            f"{opts.tmin:g}-{opts.tmax:g} s after the cue; pre-cue {opts.precue[0]:g}-"
            f"{opts.precue[1]:g} s"
        )
        if opts.n_boot:
            head += f"; [{opts.ci:.0%} bootstrap CI, {opts.n_boot} resamples]"
        head += "; d = Cohen's d of per-trial log power"
        cols = [*chans, "occ alpha"]
        cell_w = 30 if opts.n_boot else 16
        lines = [
            head,
            f"{'group':<21}{'condition':<15}{'reference':<14}{'n':>7}  {'band':<5}"
            + "".join(f"{c:<{cell_w}}" for c in cols),
        ]
        for e in self.entries:
            r = e.result
            n = f"{r.n_condition}/{r.n_baseline}"
            for j, band in enumerate(r.bands):
                cells = []
                for i in range(len(r.channels)):
                    lo = None if r.ci_low is None else r.ci_low[i, j]
                    hi = None if r.ci_high is None else r.ci_high[i, j]
                    cells.append(_cell(r.index[i, j], lo, hi, r.effect_size[i, j]))
                if j == 0 and r.occipital_alpha is not None:
                    lo = hi = None
                    if r.occipital_ci_low is not None and r.occipital_ci_high is not None:
                        lo = float(np.mean(r.occipital_ci_low))
                        hi = float(np.mean(r.occipital_ci_high))
                    occ = _cell(r.occipital_alpha, lo, hi, float(np.mean(r.occipital_effect_size)))
                else:
                    occ = ""
                cells.append(occ)
                lines.append(
                    f"{e.group:<21}{e.condition:<15}{_REF_LABELS[e.reference]:<14}{n:>7}  "
                    f"{band:<5}" + "".join(f"{c:<{cell_w}}" for c in cells)
                )
        if self.notes:
            lines.append("notes: " + "; ".join(self.notes))
        return "\n".join(line.rstrip() for line in lines)


def _cell(v: float, lo: float | None, hi: float | None, d: float) -> str:
    ds = "nan" if math.isnan(d) else f"{d:+.2f}"
    if lo is None or hi is None:
        return f"{v:+.3f} d={ds}"
    return f"{v:+.3f} [{lo:+.2f},{hi:+.2f}] d={ds}"


def _erds_window_means(m: ErdsMap, opts: ErdOptions) -> dict[str, dict[str, float]]:
    tmask = (m.times >= opts.tmin) & (m.times <= opts.tmax)
    out: dict[str, dict[str, float]] = {}
    for i, ch in enumerate(m.channels):
        out[ch] = {}
        for band, (lo, hi) in opts.bands.items():
            fmask = (m.freqs >= lo) & (m.freqs <= hi)
            if fmask.any() and tmask.any():
                out[ch][band] = round(float(m.data[i][np.ix_(fmask, tmask)].mean()), 4)
    return out


# --------------------------------------------------------------------------------------
# Outputs


def _slug(*parts: str) -> str:
    return "_".join(p.replace("/", "-").replace(" ", "-") for p in parts if p)


def write_outputs(report: ErdReport, output: str | Path, figures: bool = True) -> list[Path]:
    """Write ``erd.json``, ``erd_table.txt``, ERDS maps (PNG + ``erds_maps.npz``), topomaps.

    Returns
    -------
    paths : list of Path
        Files written.
    """
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    js = out / "erd.json"
    js.write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    written.append(js)
    txt = out / "erd_table.txt"
    txt.write_text(report.table() + "\n", encoding="utf-8")
    written.append(txt)
    if report.erds:
        npz = out / "erds_maps.npz"
        arrays: dict[str, np.ndarray] = {}
        for m in report.erds:
            key = _slug(m.group, m.condition)
            arrays[f"{key}__data"] = m.data
            arrays[f"{key}__freqs"] = m.freqs
            arrays[f"{key}__times"] = m.times
        np.savez_compressed(npz, **arrays)  # type: ignore[arg-type]
        written.append(npz)
    if figures:
        written += _plot_erds(report, out)
        written += _plot_topomaps(report, out)
    return written


def _plot_erds(report: ErdReport, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    paths = []
    for m in report.erds:
        fig, axes = plt.subplots(
            1, len(m.channels), figsize=(4.2 * len(m.channels), 3.4), layout="constrained"
        )
        axes = np.atleast_1d(axes)
        lim = float(np.nanpercentile(np.abs(m.data), 98)) or 1.0
        unit = "%" if m.mode == "percent" else "log10"
        im = None
        for ax, ch, d in zip(axes, m.channels, m.data, strict=True):
            im = ax.pcolormesh(
                m.times, m.freqs, d, cmap="RdBu_r", vmin=-lim, vmax=lim, shading="auto"
            )
            ax.axvline(0.0, color="k", lw=0.8)
            ax.set_title(ch)
            ax.set_xlabel("time from cue (s)")
        axes[0].set_ylabel("frequency (Hz)")
        fig.suptitle(f"ERDS {m.group} {m.condition} (n={m.n_epochs}, vs pre-cue)")
        if im is not None:
            fig.colorbar(im, ax=list(axes), label=f"ERDS ({unit})", shrink=0.9)
        p = out / f"erds_{_slug(m.group, m.condition)}.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    return paths


def _plot_topomaps(report: ErdReport, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import mne

    if report.info is None or not report.entries:
        return []
    info = report.info
    locs = np.array([ch["loc"][:3] for ch in info["chs"]])
    has_pos = np.isfinite(locs).all(axis=1) & (np.abs(locs).sum(axis=1) > 0)
    if has_pos.sum() < 3:
        report.notes.append("topomaps skipped: fewer than 3 channels have positions")
        return []
    sub = mne.pick_info(info, np.flatnonzero(has_pos))
    paths = []
    groups = list(dict.fromkeys(e.group for e in report.entries))
    for g in groups:
        ents = [e for e in report.entries if e.group == g]
        conds = list(dict.fromkeys(e.condition for e in ents))
        refs = list(dict.fromkeys(e.reference for e in ents))
        lim = max(float(np.max(np.abs(e.topomap[has_pos]))) for e in ents) or 0.1
        fig, axes = plt.subplots(
            len(refs),
            len(conds),
            figsize=(2.8 * len(conds), 2.7 * len(refs)),
            squeeze=False,
            layout="constrained",
        )
        im = None
        for r_i, ref in enumerate(refs):
            for c_i, cond in enumerate(conds):
                ax = axes[r_i, c_i]
                ent = next((e for e in ents if e.condition == cond and e.reference == ref), None)
                if ent is None:
                    ax.axis("off")
                    continue
                im, _ = mne.viz.plot_topomap(
                    ent.topomap[has_pos],
                    sub,
                    axes=ax,
                    show=False,
                    cmap="RdBu_r",
                    vlim=(-lim, lim),
                    contours=4,
                )
                ax.set_title(f"{cond}\nvs {_REF_LABELS[ref]}", fontsize=9)
        if im is not None:
            fig.colorbar(im, ax=axes.ravel().tolist(), label="mu index log10(cond/ref)", shrink=0.8)
        fig.suptitle(f"{report.source} {g}: mu (8-13 Hz) suppression")
        p = out / f"topomap_mu_{_slug(g)}.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    return paths
