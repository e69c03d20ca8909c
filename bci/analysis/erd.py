"""Offline mu-suppression / ERD reports of recordings and of the PhysioNet eegbci dataset.

For each condition (a cue label of a recording, or an eegbci run type's T1/T2), against each
reference (rest trials within the same runs, a baseline run or file cut into epochs, the
pre-cue interval of each trial), the report holds per channel and band the index
``log10(condition / reference power)`` with a bootstrap confidence interval and Cohen's d
(:func:`bci.signal.erd.mu_suppression`), the mu index over every channel for topomaps, and
ERDS time-frequency maps (Morlet, pre-cue baseline) of the sensorimotor channels.
The report itself (options, entries, table, outputs) is :mod:`bci.analysis.report`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bci.analysis.report import REFERENCES, ErdEntry, ErdOptions, ErdReport, ErdsMap
from bci.datasets.epochs import bad_spans, cut_epochs, find_events, fixed_length_epochs
from bci.errors import DataError
from bci.signal.erd import mu_suppression, pick_channels

__all__ = ["EEGBCI_RUN_TYPES", "eegbci_report", "read_raw_any", "recording_report"]

logger = logging.getLogger(__name__)

#: eegbci run types analysed, their runs and what T1/T2 mean there (Schalk et al. 2004).
EEGBCI_RUN_TYPES: dict[str, dict[str, Any]] = {
    "imagined-left-right": {"runs": [4, 8, 12], "T1": "imagine_left", "T2": "imagine_right"},
    "imagined-hands-feet": {"runs": [6, 10, 14], "T1": "imagine_hands", "T2": "imagine_feet"},
    "executed-left-right": {"runs": [3, 7, 11], "T1": "execute_left", "T2": "execute_right"},
    "executed-hands-feet": {"runs": [5, 9, 13], "T1": "execute_hands", "T2": "execute_feet"},
}
EEGBCI_BASELINE_RUN = 1  # eyes open

# Common average reference from this many EEG channels on (reference='auto').
_AUTO_CAR_MIN_CHANNELS = 32


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
            report = _new_report(f"eegbci subject {subject}", raw, applied, opts)
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
    report = _new_report(source, prepared, applied, opts)
    baseline = None
    if baseline_raw is not None:
        base_prep, _ = _prepare(baseline_raw, applied)
        n_win = round((opts.tmax - opts.tmin) * sf)
        baseline = _baseline_epochs(base_prep, prepared.ch_names, n_win, sf)
    _analyse(prepared, "recording", conditions, rest, refs, baseline, opts, report)
    if not report.entries:
        raise DataError(f"No condition of {source} could be analysed: " + "; ".join(report.notes))
    return report


def _new_report(source: str, raw: Any, applied: str, opts: ErdOptions) -> ErdReport:
    """An empty report on the channels, rate and reference of the prepared ``raw``."""
    return ErdReport(
        source=source,
        sfreq=float(raw.info["sfreq"]),
        ch_names=list(raw.ch_names),
        reference=applied,
        options=opts,
        info=raw.info,
    )


def _check_references(references: Sequence[str]) -> list[str]:
    refs = list(references)
    bad = [r for r in refs if r not in REFERENCES]
    if bad or not refs:
        raise DataError(
            f"Unknown reference {bad[0] if bad else None!r}. Must be one of: "
            f"{', '.join(REFERENCES)}"
        )
    return refs
