"""Continuous EEG + events -> epochs (X, y): the one epoching path of the package.

:func:`cut_epochs` is the only place that cuts epochs out of continuous data (by sample
offset, dropping epochs outside the data or across a ``BAD`` annotation);
:func:`find_events` the only place that turns annotations or a stim channel into cue
samples; :func:`fixed_length_epochs` cuts a continuous baseline into consecutive epochs.
:func:`make_epochs`, :func:`epochs_from_raw` and :func:`load_eegbci_epochs` (evaluation,
calibration from a file, the pseudo-online comparison) and the ERD reports of
:mod:`bci.analysis.erd` all go through them.

The continuous signal is band-passed causally (:func:`bci.signal.filter_continuous`, the
offline twin of the live :class:`~bci.signal.CausalFilter`) and only then cut, so an epoch
holds the same numbers as the live window that ends where the epoch ends. Epochs are
half-open ``[cue + tmin, cue + tmax)``: ``round((tmax - tmin) * sfreq)`` samples, the length
of a live window of ``tmax - tmin`` seconds. Everything is in microvolts, like live streams.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError, SignalError
from bci.signal.filters import filter_continuous

__all__ = [
    "bad_spans",
    "cut_epochs",
    "epochs_from_raw",
    "find_events",
    "fixed_length_epochs",
    "load_eegbci_epochs",
    "make_epochs",
]

logger = logging.getLogger(__name__)

#: MOABB's protocol for PhysioNet motor imagery: 8-32 Hz, 0-3 s after the cue.
MOABB_BAND: tuple[float, float] = (8.0, 32.0)


def _check_window(tmin: float, tmax: float, sfreq: float) -> int:
    if not tmax > tmin:
        raise DataError(f"tmax ({tmax}) must be greater than tmin ({tmin})")
    n_times = round((tmax - tmin) * sfreq)
    if n_times < 2:
        raise DataError(
            f"The epoch [{tmin}, {tmax}) s is {n_times} sample(s) at {sfreq} Hz; need at least 2"
        )
    return n_times


def cut_epochs(
    data: np.ndarray,
    onsets: Sequence[int] | np.ndarray,
    offset: int,
    n_times: int,
    *,
    sfreq: float | None = None,
    bad: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``data[:, s + offset : s + offset + n_times]`` for each onset ``s``.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_total)
    onsets : sequence of int, shape (n_events,)
        Sample index of each event (0 = first sample of ``data``).
    offset : int
        Epoch start relative to the onset, in samples (negative: before it).
    n_times : int
        Samples per epoch (>= 1).
    sfreq : float or None
        Sampling rate in Hz; needed with ``bad``.
    bad : ndarray, shape (n_spans, 2), or None
        ``(onset, end)`` in seconds from the first sample of spans to avoid
        (:func:`bad_spans`); an epoch that overlaps one is dropped, as MNE's
        ``reject_by_annotation`` does.

    Returns
    -------
    X : ndarray, shape (n_kept, n_channels, n_times)
        A copy, in the dtype of ``data``.
    kept : ndarray of int, shape (n_kept,)
        Indices into ``onsets`` of the epochs cut; the others lie (partly) outside the data or
        across a bad span.
    """
    arr = np.asarray(data)
    starts = np.asarray(onsets, dtype=np.int64).reshape(-1) + int(offset)
    n = int(n_times)
    if n < 1:
        raise DataError(f"n_times must be >= 1 sample, got {n_times}")
    ok = (starts >= 0) & (starts + n <= arr.shape[1])
    if bad is not None and len(bad):
        if sfreq is None:
            raise DataError("cut_epochs needs sfreq (Hz) to compare epochs with bad spans")
        spans = np.asarray(bad, dtype=np.float64).reshape(-1, 2)
        # the overlap test of mne.io.BaseRaw._check_bad_segment, in seconds
        t0 = starts[:, None] / float(sfreq)
        t1 = (starts[:, None] + n) / float(sfreq)
        across = ((spans[None, :, 0] < t1) & (spans[None, :, 1] > t0)).any(axis=1)
        ok &= ~across
    kept = np.flatnonzero(ok)
    X = np.empty((len(kept), arr.shape[0], n), dtype=arr.dtype)
    for k, i in enumerate(kept):
        X[k] = arr[:, starts[i] : starts[i] + n]
    return X, kept


def fixed_length_epochs(data: np.ndarray, n_times: int, what: str = "The data") -> np.ndarray:
    """Continuous data cut into consecutive, non-overlapping epochs of ``n_times`` samples.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_total)
    n_times : int
    what : str
        What ``data`` is, for the error message ("The baseline recording").

    Returns
    -------
    X : ndarray, shape (n_total // n_times, n_channels, n_times)
        The samples after the last whole epoch are left out.

    Raises
    ------
    DataError
        ``data`` is shorter than one epoch.
    """
    arr = np.asarray(data)
    n = arr.shape[1] // int(n_times)
    if n == 0:
        raise DataError(
            f"{what} has {arr.shape[1]} samples, shorter than one epoch ({n_times} samples)"
        )
    X, _ = cut_epochs(arr, np.arange(n) * int(n_times), 0, int(n_times))
    return X


def bad_spans(raw: Any) -> np.ndarray:
    """``(onset, end)`` in seconds from the first sample of ``raw``'s ``BAD*`` annotations.

    Returns
    -------
    spans : ndarray, shape (n_spans, 2)
        For :func:`cut_epochs`'s ``bad``; run boundaries of concatenated raws are
        zero-length ``BAD boundary`` annotations.
    """
    ann = raw.annotations
    rows = [
        (float(o) - raw.first_time, float(o) - raw.first_time + float(d))
        for o, d, desc in zip(ann.onset, ann.duration, ann.description, strict=True)
        if str(desc).lower().startswith("bad")
    ]
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def make_epochs(
    data: np.ndarray,
    sfreq: float,
    events: Iterable[tuple[int, str]],
    tmin: float,
    tmax: float,
    band: tuple[float, float] | None,
    notch: float | None = None,
    order: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Filter a continuous recording causally, then cut one epoch per event.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Unfiltered continuous EEG (µV).
    sfreq : float
        Sampling rate in Hz.
    events : iterable of (int, str)
        (sample index of the cue, class label), in any order.
    tmin, tmax : float
        Epoch start and end in seconds relative to the cue; the epoch is
        ``[cue + tmin, cue + tmax)``.
    band : (float, float) or None
        Band-pass in Hz (Butterworth, causal, as online); None: no filter.
    notch : float or None
        Line frequency to notch out as well (50 or 60 Hz).
    order : int
        Butterworth order of each band edge.

    Returns
    -------
    X : ndarray, shape (n_epochs, n_channels, n_times), float64
        Epochs in event order; events whose epoch does not fit in the data are dropped
        (logged).
    y : ndarray of str, shape (n_epochs,)

    Raises
    ------
    SignalError
        ``data`` is not 2-D or holds NaN/inf.
    DataError
        Bad window, no events, or no epoch fits in the data.
    """
    X, y, _ = _filtered_epochs(data, sfreq, events, (tmin, tmax), (band, notch, order))
    return X, y


def _filtered_epochs(
    data: np.ndarray,
    sfreq: float,
    events: Iterable[tuple[int, str]],
    window: tuple[float, float],
    filt: tuple[tuple[float, float] | None, float | None, int],
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """:func:`make_epochs` (``window`` = (tmin, tmax), ``filt`` = (band, notch, order)), plus
    the sample of each epoch's event."""
    (tmin, tmax), (band, notch, order) = window, filt
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 2:
        raise SignalError(f"data must be 2-D (n_channels, n_times), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise SignalError(
            f"data holds {int((~np.isfinite(arr)).sum())} NaN/inf values; repair or crop them "
            "before filtering (a causal filter spreads them to every later sample)"
        )
    sfreq = float(sfreq)
    n_t = _check_window(tmin, tmax, sfreq)
    evs = [(int(s), str(lab)) for s, lab in events]
    if not evs:
        raise DataError("No events given: nothing to epoch")
    if band is not None or notch is not None:
        lo, hi = band if band is not None else (None, None)
        arr = filter_continuous(arr, sfreq, lo, hi, order=order, notch=notch)
    X, kept = cut_epochs(arr, [s for s, _ in evs], round(tmin * sfreq), n_t)
    if len(kept) < len(evs):
        logger.info(
            "%d of %d events have an epoch outside the data and were dropped",
            len(evs) - len(kept),
            len(evs),
        )
    if not len(kept):
        raise DataError(
            f"No epoch [{tmin}, {tmax}) s fits in the {arr.shape[1]} samples of the data "
            f"({len(evs)} events)"
        )
    y = np.array([evs[i][1] for i in kept], dtype=str)
    return X, y, [evs[i][0] for i in kept]


def find_events(raw: Any, event_map: Mapping[str, str]) -> list[tuple[int, str]]:
    """Cue samples of ``raw`` from its annotations, else from its stim channel.

    Parameters
    ----------
    raw : mne.io.BaseRaw
    event_map : mapping of str to str
        Annotation description (or stim-channel code, as text) -> label. Other events are
        ignored.

    Returns
    -------
    events : list of (int, str)
        (sample from the first sample of ``raw``, label), in time order.

    Raises
    ------
    DataError
        No event of ``event_map`` is in the recording (the message lists what is).
    """
    import mne

    descs = {str(d) for d in raw.annotations.description}
    wanted = [k for k in event_map if k in descs]
    if wanted:
        ids = {k: i + 1 for i, k in enumerate(wanted)}
        events, _ = mne.events_from_annotations(raw, event_id=ids, verbose="error")
        back = {v: event_map[k] for k, v in ids.items()}
        return [(int(s) - raw.first_samp, back[int(c)]) for s, _, c in events]
    stim = mne.pick_types(raw.info, meg=False, stim=True)
    if len(stim):
        codes = {}
        for k, v in event_map.items():
            try:
                codes[int(k)] = v
            except ValueError:
                continue
        if codes:
            events = mne.find_events(raw, shortest_event=1, verbose="error")
            return [(int(s) - raw.first_samp, codes[int(c)]) for s, _, c in events if c in codes]
    available = sorted(descs)
    raise DataError(
        f"None of the events {sorted(event_map)} is in the recording; its annotations are "
        f"{available if available else 'none'}"
        + (" and it has a stim channel (give integer codes, e.g. 1=left)" if len(stim) else "")
    )


def epochs_from_raw(
    raw: Any,
    event_map: Mapping[str, str],
    tmin: float = 0.0,
    tmax: float = 3.0,
    band: tuple[float, float] | None = MOABB_BAND,
    notch: float | None = None,
    picks: str | Sequence[str] = "eeg",
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Epochs of any MNE ``Raw`` (EDF/BDF/GDF/FIF/BrainVision, or a Recording's ``to_raw()``).

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Data in volts (MNE's convention); converted to µV.
    event_map : mapping of str to str
        Annotation description (or stim-channel code, as text) -> class label, e.g.
        ``{"T1": "left", "T2": "right"}``. Other annotations are ignored.
    tmin, tmax : float
        Epoch window relative to each event, in seconds.
    band : (float, float) or None
        Causal band-pass in Hz applied to the continuous data before cutting.
    notch : float or None
    picks : str or list of str
        Channels to keep (MNE picks; ``"eeg"`` by default).

    Returns
    -------
    X : ndarray, shape (n_epochs, n_channels, n_times), float64, µV
    y : ndarray of str, shape (n_epochs,)
    meta : dict
        ``sfreq``, ``ch_names``, ``band``, ``notch``, ``tmin``, ``tmax``, ``event_map``,
        ``samples`` (cue sample of each epoch).

    Raises
    ------
    DataError
        No event of ``event_map`` in the recording, no channel picked, or no epoch fits.
    """
    if not event_map:
        raise DataError("event_map is empty: name at least one event, e.g. {'T1': 'left'}")
    try:
        picked = raw.copy().pick(picks)
    except ValueError as exc:
        raise DataError(f"Cannot pick channels {picks!r} from the recording: {exc}") from None
    if not picked.ch_names:
        raise DataError(f"No channel matches picks={picks!r}")
    data = picked.get_data() * 1e6
    ch_names = list(picked.ch_names)
    sfreq = float(raw.info["sfreq"])
    evs = find_events(raw, event_map)
    X, y, samples = _filtered_epochs(data, sfreq, evs, (tmin, tmax), (band, notch, 4))
    meta: dict[str, Any] = {
        "sfreq": sfreq,
        "ch_names": list(ch_names),
        "band": None if band is None else (float(band[0]), float(band[1])),
        "notch": notch,
        "tmin": float(tmin),
        "tmax": float(tmax),
        "event_map": dict(event_map),
        "samples": samples,
    }
    return X, y, meta


def load_eegbci_epochs(
    subjects: int | Sequence[int],
    paradigm: str,
    path: str | Path | None = None,
    band: tuple[float, float] | None = MOABB_BAND,
    tmin: float = 0.0,
    tmax: float = 3.0,
    notch: float | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Epochs of PhysioNet eegmmidb for a named paradigm (MOABB's protocol by default).

    Each run is filtered on its own (a fresh causal filter per run, as a new live session
    would), then cut ``[tmin, tmax)`` s after each cue.

    Parameters
    ----------
    subjects : int or sequence of int
        Subjects 1..109.
    paradigm : str
        ``imagery-left-right``, ``imagery-hands-feet``, ``executed-left-right``,
        ``imagery-4class`` or ``movement-rest`` (see :mod:`bci.datasets.paradigms`).
    path : str or Path, optional
        Data folder in MNE's layout; default ``BCI_DATA_PATH`` (then MNE's default).
    band : (float, float) or None
        Causal band-pass in Hz (MOABB: 8-32).
    tmin, tmax : float
        Epoch window after the cue in seconds (MOABB: 0-3).
    notch : float or None

    Returns
    -------
    X : ndarray, shape (n_epochs, 64, n_times), float64, µV
    y : ndarray of str, shape (n_epochs,)
    meta : dict
        ``dataset`` ("eegbci"), ``paradigm``, ``subjects``, ``sfreq``, ``ch_names``, ``band``,
        ``tmin``, ``tmax``, ``notch``, and per epoch ``subject`` and ``run`` (lists).

    Raises
    ------
    UnknownNameError
        Unknown paradigm.
    DataError
        Subject or files not available.
    """
    from bci.datasets.eegbci import load_raw
    from bci.datasets.paradigms import get_eegbci_paradigm

    par = get_eegbci_paradigm(paradigm)
    subs = [int(subjects)] if isinstance(subjects, int | np.integer) else [int(s) for s in subjects]
    if not subs:
        raise DataError("subjects is empty: give at least one eegbci subject (1..109)")
    Xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    subject_of: list[int] = []
    run_of: list[int] = []
    sfreq: float | None = None
    ch_names: list[str] | None = None
    for sub in subs:
        for runs, event_map in par.blocks:
            for run in runs:
                raw = load_raw(sub, [run], path=path)
                X, y, m = epochs_from_raw(raw, event_map, tmin, tmax, band, notch=notch)
                if sfreq is None:
                    sfreq, ch_names = m["sfreq"], m["ch_names"]
                elif m["sfreq"] != sfreq or m["ch_names"] != ch_names:
                    raise DataError(
                        f"eegbci subject {sub} run {run} has {m['sfreq']} Hz / "
                        f"{len(m['ch_names'])} channels, earlier runs {sfreq} Hz / "
                        f"{len(ch_names or [])} channels"
                    )
                Xs.append(X)
                ys.append(y)
                subject_of += [sub] * len(y)
                run_of += [run] * len(y)
    meta: dict[str, Any] = {
        "dataset": "eegbci",
        "paradigm": par.name,
        "subjects": subs,
        "sfreq": sfreq,
        "ch_names": ch_names,
        "band": None if band is None else (float(band[0]), float(band[1])),
        "tmin": float(tmin),
        "tmax": float(tmax),
        "notch": notch,
        "subject": subject_of,
        "run": run_of,
    }
    return np.concatenate(Xs), np.concatenate(ys), meta
