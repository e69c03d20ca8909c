"""Offline mu-suppression / ERD reports of recordings and of the PhysioNet eegbci dataset.

For each condition (a cue label of a recording, or an eegbci run type's T1/T2), against each
reference (rest trials within the same runs, a baseline run or file cut into epochs, the
pre-cue interval of each trial), the report holds per channel and band the index
``log10(condition / reference power)`` with a bootstrap confidence interval and Cohen's d
(:func:`bci.signal.erd.mu_suppression`), the mu index over every channel for topomaps, and
ERDS time-frequency maps (Morlet, pre-cue baseline) of the sensorimotor channels.
:func:`write_outputs` writes the numbers as JSON, the maps as PNG and an ``.npz``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bci.datasets.epochs import bad_spans, cut_epochs, find_events, fixed_length_epochs
from bci.errors import DataError, SignalError
from bci.signal.bandpower import DEFAULT_BANDS
from bci.signal.erd import DEFAULT_CHANNELS, MuSuppressionResult, mu_suppression, pick_channels

__all__ = [
    "EEGBCI_RUN_TYPES",
    "REFERENCES",
    "ErdEntry",
    "ErdOptions",
    "ErdReport",
    "ErdsMap",
    "eegbci_report",
    "read_raw_any",
    "recording_report",
    "write_outputs",
]

logger = logging.getLogger(__name__)

#: eegbci run types analysed, their runs and what T1/T2 mean there (Schalk et al. 2004).
EEGBCI_RUN_TYPES: dict[str, dict[str, Any]] = {
    "imagined-left-right": {"runs": [4, 8, 12], "T1": "imagine_left", "T2": "imagine_right"},
    "imagined-hands-feet": {"runs": [6, 10, 14], "T1": "imagine_hands", "T2": "imagine_feet"},
    "executed-left-right": {"runs": [3, 7, 11], "T1": "execute_left", "T2": "execute_right"},
    "executed-hands-feet": {"runs": [5, 9, 13], "T1": "execute_hands", "T2": "execute_feet"},
}
EEGBCI_BASELINE_RUN = 1  # eyes open

#: Reference kinds: rest trials of the same runs, a baseline recording, each trial's pre-cue.
REFERENCES = ("rest", "baseline", "pre-cue")
_REF_LABELS = {"rest": "rest", "baseline": "baseline run", "pre-cue": "pre-cue"}
_REFERENCE_MODES = ("auto", "average", "none")
_AUTO_CAR_MIN_CHANNELS = 32


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
# Reading and preparing data


def read_raw_any(path: str | Path) -> Any:
    """Read any recording ``bci.recordings`` knows as ``mne.io.Raw`` (preloaded)."""
    from bci.recordings import read_recording

    p = Path(path)
    if not p.exists():
        raise DataError(f"Recording file not found: {p}")
    return read_recording(p).to_raw()


def _prepare(raw: Any, reference: str) -> tuple[Any, str]:
    """EEG channels only, montage positions if missing, re-referenced. Works on a copy."""
    from bci.headsets import standard_montage

    raw = raw.copy()
    raw.load_data(verbose="error")
    try:
        raw.pick("eeg", verbose="error")
    except ValueError:
        raise DataError("The recording has no EEG channels") from None
    montage = standard_montage()
    _standardize_names(raw, montage.ch_names)
    if raw.get_montage() is None:
        raw.set_montage(montage, on_missing="ignore", match_case=False)
    n = len(raw.ch_names)
    applied = reference
    if reference == "auto":
        applied = "average" if n >= _AUTO_CAR_MIN_CHANNELS else "none"
    if applied == "average":
        raw.set_eeg_reference("average", projection=False, verbose="error")
    return raw, applied


def _standardize_names(raw: Any, known: Sequence[str]) -> None:
    """Rename channels to their 10-05 spelling ("C3..", "FCZ" -> "C3", "FCz").

    EDF files from BCI2000 pad labels with dots; other writers change the case. Names that
    match no 10-05 label, or would collide, are left alone.
    """
    lookup = {k.lower(): k for k in known}
    mapping = {}
    for ch in raw.ch_names:
        std = lookup.get(ch.strip().strip(".").lower())
        if std is not None and std != ch:
            mapping[ch] = std
    targets = list(mapping.values())
    if (
        mapping
        and len(set(targets)) == len(targets)
        and not set(targets) & (set(raw.ch_names) - set(mapping))
    ):
        raw.rename_channels(mapping, verbose="error")


def _events(raw: Any, mapping: Mapping[str, str]) -> list[tuple[int, str]]:
    """(sample, description) of the annotations named in ``mapping`` (description -> label)."""
    present = {str(d) for d in raw.annotations.description}
    if not present & set(mapping):
        raise DataError(
            f"None of the event names {sorted(mapping)} is in the recording's annotations "
            f"(found: {sorted(present) or 'none'})"
        )
    return find_events(raw, {d: d for d in mapping})


def _span(start: float, stop: float, sf: float) -> tuple[int, int]:
    """``[start, stop)`` s as (first sample, number of samples) relative to the cue."""
    return round(start * sf), round((stop - start) * sf)


def _baseline_epochs(raw: Any, ch_names: Sequence[str], n_times: int, sfreq: float) -> np.ndarray:
    """A baseline recording cut into epochs of the condition length, channels reordered."""
    if abs(raw.info["sfreq"] - sfreq) > 1e-6:
        raise DataError(
            f"The baseline recording's sampling rate ({raw.info['sfreq']} Hz) differs from the "
            f"recording's ({sfreq} Hz)"
        )
    picks = pick_channels(raw.ch_names, list(ch_names))
    # Samples inside BAD annotations (artefacts, run boundaries) are left out.
    cont = raw.get_data(picks=picks, reject_by_annotation="omit") * 1e6
    return fixed_length_epochs(cont, n_times, "The baseline recording")


# --------------------------------------------------------------------------------------
# Core analysis


def _analyse(
    raw: Any,
    group: str,
    conditions: Mapping[str, str],
    rest: Sequence[str],
    references: Sequence[str],
    baseline: np.ndarray | None,
    opts: ErdOptions,
    report: ErdReport,
) -> None:
    """Add the entries (and ERDS maps) of one block of runs to ``report``.

    ``conditions`` maps annotation descriptions to condition labels; ``rest`` lists the
    descriptions of rest trials.
    """
    sf = float(raw.info["sfreq"])
    ch_names = list(raw.ch_names)
    mapping = {**dict(conditions), **{d: "rest" for d in rest}}
    events = _events(raw, mapping)
    onsets = np.array([s for s, _ in events], dtype=np.int64)
    descs = np.array([d for _, d in events], dtype=object)
    data = raw.get_data() * 1e6
    bad = bad_spans(raw)

    # Condition trials with their pre-cue interval, from the same epochs so they pair: an
    # epoch spans both windows and is dropped if any of it is outside the data or bad.
    c0, cn = _span(opts.tmin, opts.tmax, sf)
    p0, pn = _span(opts.precue[0], opts.precue[1], sf)
    first = min(c0, p0)
    cdata, ckept = cut_epochs(data, onsets, first, max(c0 + cn, p0 + pn) - first, sfreq=sf, bad=bad)
    cdescs = descs[ckept]
    rest_data = None
    if "rest" in references:
        is_rest = np.isin(descs, list(rest))
        if is_rest.any():
            rest_data, _ = cut_epochs(data, onsets[is_rest], c0, cn, sfreq=sf, bad=bad)
            if len(rest_data) == 0:
                rest_data = None
        if rest_data is None:
            report.notes.append(f"{group}: no rest trials, reference 'rest' skipped")

    sel_all = {"rest": rest_data, "baseline": baseline}
    for desc, cond in conditions.items():
        if desc not in set(descs):
            report.notes.append(f"{group}: no {desc!r} events, condition {cond!r} skipped")
            continue
        mask = cdescs == desc
        n_events = int(np.sum(descs == desc))
        if mask.sum() < n_events:
            report.notes.append(
                f"{group}/{cond}: {n_events - int(mask.sum())} of {n_events} trials dropped "
                "(outside the data or across a boundary)"
            )
        if mask.sum() == 0:
            continue
        cond_data = cdata[mask][..., c0 - first : c0 - first + cn]
        for ref in references:
            paired = ref == "pre-cue"
            base: np.ndarray | None
            if paired:
                base = cdata[mask][..., p0 - first : p0 - first + pn]
            else:
                base = sel_all.get(ref)
            if base is None:
                continue
            res = mu_suppression(
                cond_data,
                base,
                sf,
                ch_names,
                opts.channels,
                opts.bands,
                n_boot=opts.n_boot,
                ci=opts.ci,
                seed=opts.seed,
                paired=paired,
            )
            topo = mu_suppression(
                cond_data,
                base,
                sf,
                ch_names,
                ch_names,
                {"mu": opts.bands.get("mu", next(iter(opts.bands.values())))},
                occipital=(),
                nperseg=res.nperseg,
            )
            report.entries.append(ErdEntry(group, cond, ref, res, topo.index[:, 0]))
        if opts.erds:
            report.erds.append(_erds_map(raw, onsets[descs == desc], bad, group, cond, opts))


def _erds_map(
    raw: Any, onsets: np.ndarray, bad: np.ndarray, group: str, cond: str, opts: ErdOptions
) -> ErdsMap:
    """Morlet ERDS map of the sensorimotor channels against the pre-cue interval."""
    import mne

    pad = 0.5
    picks = pick_channels(raw.ch_names, opts.channels)
    sf = raw.info["sfreq"]
    # MNE's epoch [tmin, tmax] includes both ends: one sample more than the half-open span.
    first = round((opts.precue[0] - pad) * sf)
    n = round((opts.map_tmax + pad) * sf) - first + 1
    X, _ = cut_epochs(raw.get_data(picks=picks), onsets, first, n, sfreq=sf, bad=bad)
    ep = mne.EpochsArray(
        X, mne.pick_info(raw.info, picks), tmin=first / sf, baseline=None, verbose="error"
    )
    freqs = np.arange(opts.erds_freqs[0], opts.erds_freqs[1] + 0.5, 1.0)
    decim = max(1, int(sf // 40))  # ~40 time points a second is plenty for a figure
    tfr = ep.compute_tfr(
        "morlet",
        freqs,
        n_cycles=freqs / 2.0,
        average=True,
        return_itc=False,
        decim=decim,
        verbose="error",
    )
    tfr.apply_baseline(opts.precue, mode=opts.erds_mode, verbose="error")
    tfr.crop(opts.precue[0], opts.map_tmax)
    data = tfr.data * (100.0 if opts.erds_mode == "percent" else 1.0)
    return ErdsMap(
        group=group,
        condition=cond,
        channels=tuple(tfr.ch_names),
        freqs=np.asarray(tfr.freqs),
        times=np.asarray(tfr.times),
        data=np.asarray(data),
        mode=opts.erds_mode,
        n_epochs=len(ep),
    )


def eegbci_report(
    subject: int = 1,
    *,
    path: str | Path | None = None,
    options: ErdOptions | None = None,
    run_types: Sequence[str] | None = None,
    references: Sequence[str] = REFERENCES,
) -> ErdReport:
    """Mu suppression of the PhysioNet eegbci imagined and executed runs of one subject.

    Each run type's T1 and T2 (left/right fist, both fists/both feet; imagined or executed)
    against rest T0 of the same runs, the eyes-open baseline run 1 cut into epochs of the
    condition length, and the pre-cue interval of each trial.

    Parameters
    ----------
    subject : int
        Subject 1..109.
    path : str or Path or None
        Data folder in MNE's layout (default ``BCI_DATA_PATH``).
    options : ErdOptions or None
    run_types : sequence of str or None
        Keys of :data:`EEGBCI_RUN_TYPES` (default all).
    references : sequence of str
        Subset of :data:`REFERENCES`.

    Returns
    -------
    ErdReport
    """
    from bci.datasets.eegbci import load_raw

    opts = options or ErdOptions()
    types = list(EEGBCI_RUN_TYPES) if run_types is None else list(run_types)
    unknown = [t for t in types if t not in EEGBCI_RUN_TYPES]
    if unknown:
        raise DataError(
            f"Unknown eegbci run type {unknown[0]!r}. Must be one of: {', '.join(EEGBCI_RUN_TYPES)}"
        )
    refs = _check_references(references)
    report: ErdReport | None = None
    base_raw = None
    if "baseline" in refs:
        base_raw, _ = _prepare(load_raw(subject, [EEGBCI_BASELINE_RUN], path), opts.reference)
    for rt in types:
        spec = EEGBCI_RUN_TYPES[rt]
        raw, applied = _prepare(load_raw(subject, spec["runs"], path), opts.reference)
        sf = float(raw.info["sfreq"])
        if report is None:
            report = ErdReport(
                source=f"eegbci subject {subject}",
                sfreq=sf,
                ch_names=list(raw.ch_names),
                reference=applied,
                options=opts,
                info=raw.info,
            )
        baseline = None
        if base_raw is not None:
            n_win = round((opts.tmax - opts.tmin) * sf)
            baseline = _baseline_epochs(base_raw, raw.ch_names, n_win, sf)
        _analyse(
            raw,
            rt,
            {"T1": spec["T1"], "T2": spec["T2"]},
            ["T0"],
            refs,
            baseline,
            opts,
            report,
        )
    if report is None:
        raise DataError("No eegbci run type to analyse")
    return report


def recording_report(
    raw: Any,
    events: Mapping[str, str] | None = None,
    *,
    baseline_raw: Any = None,
    references: Sequence[str] | None = None,
    options: ErdOptions | None = None,
    source: str = "recording",
) -> ErdReport:
    """Mu suppression of a recording with cue annotations.

    Parameters
    ----------
    raw : mne.io.Raw
        The recording, with annotations at the cue onsets.
    events : mapping of str to str or None
        Annotation description -> condition label (``{"T0": "rest", "T1": "left"}``); the
        label ``"rest"`` marks rest trials. Default: every annotation that does not start
        with ``BAD``/``EDGE`` is its own condition, ``T0`` and ``rest`` are rest.
    baseline_raw : mne.io.Raw or None
        A baseline recording (same channels and rate), cut into condition-length epochs.
    references : sequence of str or None
        Subset of :data:`REFERENCES`; default every one available (rest if there are rest
        trials, baseline if ``baseline_raw`` is given, pre-cue always).
    options : ErdOptions or None
    source : str
        Name of the recording in the report.

    Returns
    -------
    ErdReport
    """
    opts = options or ErdOptions()
    prepared, applied = _prepare(raw, opts.reference)
    descs = [str(d) for d in prepared.annotations.description]
    if events is None:
        names = sorted({d for d in descs if not d.upper().startswith(("BAD", "EDGE"))})
        events = {d: ("rest" if d.lower() in ("t0", "rest") else d) for d in names}
    if not events:
        raise DataError(f"The recording {source} has no event annotations to analyse")
    conditions = {d: c for d, c in events.items() if c != "rest"}
    rest = [d for d, c in events.items() if c == "rest"]
    if not conditions:
        raise DataError(
            f"Every event of {sorted(events)} maps to 'rest'; name at least one condition"
        )
    if references is None:
        refs = [
            r
            for r in REFERENCES
            if (r != "rest" or rest) and (r != "baseline" or baseline_raw is not None)
        ]
    else:
        refs = _check_references(references)
    if "baseline" in refs and baseline_raw is None:
        raise DataError("Reference 'baseline' needs a baseline recording (--baseline-file)")
    sf = float(prepared.info["sfreq"])
    report = ErdReport(
        source=source,
        sfreq=sf,
        ch_names=list(prepared.ch_names),
        reference=applied,
        options=opts,
        info=prepared.info,
    )
    baseline = None
    if baseline_raw is not None:
        base_prep, _ = _prepare(baseline_raw, applied)
        n_win = round((opts.tmax - opts.tmin) * sf)
        baseline = _baseline_epochs(base_prep, prepared.ch_names, n_win, sf)
    _analyse(prepared, "recording", conditions, rest, refs, baseline, opts, report)
    if not report.entries:
        raise DataError(f"No condition of {source} could be analysed: " + "; ".join(report.notes))
    return report


def _check_references(references: Sequence[str]) -> list[str]:
    refs = list(references)
    bad = [r for r in refs if r not in REFERENCES]
    if bad or not refs:
        raise DataError(
            f"Unknown reference {bad[0] if bad else None!r}. Must be one of: "
            f"{', '.join(REFERENCES)}"
        )
    return refs


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
