"""PNG figures of an evaluation: confusion matrices, per-fold scores, CSP patterns as topomaps.

Figures are drawn on ``matplotlib.figure.Figure`` objects (the Agg canvas, no pyplot, no GUI
backend), so they work headless and never touch global plotting state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bci.evaluation.protocol import PipelineScore

__all__ = [
    "plot_by_subject",
    "plot_confusion",
    "plot_fold_scores",
    "plot_patterns",
    "plot_subjects",
    "write_figures",
]

logger = logging.getLogger(__name__)


def _figure(w: float, h: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _slug(*parts: object) -> str:
    s = "-".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s)


def plot_confusion(result: PipelineScore, path: str | Path) -> Path:
    """Confusion matrix of the pooled out-of-fold predictions (counts and row %)."""
    cm = np.asarray(result.confusion, dtype=float)
    n = len(result.classes)
    fig = _figure(1.2 * n + 2.4, 1.1 * n + 1.8)
    ax = fig.add_subplot()
    rows = cm.sum(axis=1, keepdims=True)
    frac = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    im = ax.imshow(frac, vmin=0, vmax=1, cmap="Blues")
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                f"{int(cm[i, j])}\n{100 * frac[i, j]:.0f}%",
                ha="center",
                va="center",
                color="white" if frac[i, j] > 0.6 else "black",
                fontsize=9,
            )
    ax.set_xticks(range(n), result.classes)
    ax.set_yticks(range(n), result.classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{result.pipeline}: {result.metric} {result.mean:.3f}", fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8, label="fraction of true class")
    p = Path(path)
    fig.savefig(p)
    return p


def plot_fold_scores(results: Sequence[PipelineScore], path: str | Path) -> Path:
    """Per-fold scores of every pipeline (dots), mean ± sd, chance p95 and MOABB's mean."""
    fig = _figure(1.1 * len(results) + 2.5, 4.0)
    ax = fig.add_subplot()
    x = np.arange(len(results))
    for i, r in enumerate(results):
        folds = np.asarray(r.folds, dtype=float)
        jitter = np.linspace(-0.12, 0.12, len(folds)) if len(folds) > 1 else np.zeros(1)
        ax.scatter(i + jitter, folds, s=16, color="0.45", zorder=3)
        ax.errorbar(i, r.mean, yerr=r.std, fmt="o", color="C0", capsize=4, zorder=4)
        if r.moabb:
            ax.plot([i - 0.3, i + 0.3], [r.moabb["mean"]] * 2, color="C3", lw=2, zorder=2)
    first = results[0]
    if first.chance_p95 is not None:
        ax.axhline(first.chance_p95, color="0.6", ls="--", lw=1, label="chance (p95)")
    if any(r.moabb for r in results):
        ax.plot([], [], color="C3", lw=2, label="MOABB mean over subjects")
    ax.set_xticks(x, [r.pipeline for r in results], rotation=30, ha="right")
    ax.set_ylabel(first.metric)
    ax.set_ylim(min(0.3, ax.get_ylim()[0]), 1.02)
    who = first.subject if first.subject is not None else first.dataset
    ax.set_title(f"{who} {first.paradigm}: per-fold scores", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    p = Path(path)
    fig.savefig(p)
    return p


def plot_patterns(
    X: np.ndarray,
    y: np.ndarray,
    ch_names: Sequence[str],
    sfreq: float,
    path: str | Path,
    n_components: int = 4,
    title: str = "",
) -> Path | None:
    """CSP spatial patterns (MNE) as scalp topomaps.

    Returns None (and logs why) when fewer than 3 channels have a known 10-05 position.
    """
    import mne
    from mne.decoding import CSP

    from bci.headsets import standard_montage

    info = mne.create_info(list(ch_names), float(sfreq), "eeg")
    with mne.utils.use_log_level("error"):
        info.set_montage(standard_montage(), on_missing="ignore", match_case=False)
    pos_ok = [
        i
        for i, ch in enumerate(info["chs"])
        if np.isfinite(ch["loc"][:3]).all() and ch["loc"][:3].any()
    ]
    if len(pos_ok) < 3:
        logger.info("No topomap: fewer than 3 of %d channels have a 10-05 position", len(ch_names))
        return None
    info = mne.pick_info(info, pos_ok)
    Xp = X[:, pos_ok, :]
    n_comp = int(min(n_components, len(pos_ok)))
    with mne.utils.use_log_level("error"):
        csp = CSP(n_components=n_comp, reg="oas", log=True).fit(Xp, y)
    patterns = csp.patterns_[:n_comp]
    fig = _figure(2.2 * n_comp, 2.6)
    axes = fig.subplots(1, n_comp, squeeze=False)[0]
    for k, ax in enumerate(axes):
        mne.viz.plot_topomap(patterns[k], info, axes=ax, show=False, contours=4)
        ax.set_title(f"CSP {k + 1}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    p = Path(path)
    fig.savefig(p)
    return p


def write_figures(
    results: Sequence[PipelineScore], data: dict[str, Any], outdir: str | Path
) -> list[Path]:
    """All figures of one subject/paradigm evaluation into ``outdir``; returns their paths.

    ``data`` is the second value returned by :func:`bci.evaluation.protocol.evaluate`.
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    if not results:
        return []
    first = results[0]
    tag = _slug(first.dataset, first.subject, first.paradigm)
    paths = [plot_fold_scores(results, out / f"folds-{tag}.png")]
    for r in results:
        paths.append(plot_confusion(r, out / f"confusion-{tag}-{_slug(r.pipeline)}.png"))
    # patterns from the protocol band (the narrow-band epochs), where CSP is meaningful
    epochs = data.get("epochs", {})
    bands = {tuple(r.band) for r in results if r.band is not None and tuple(r.band) in epochs}
    narrow = sorted(bands, key=lambda b: b[1] - b[0])
    if narrow:
        X, y, meta = epochs[tuple(narrow[0])]
        try:
            p = plot_patterns(
                X,
                y,
                meta["ch_names"],
                meta["sfreq"],
                out / f"patterns-{tag}.png",
                title=f"{first.subject or first.dataset} {first.paradigm}: CSP patterns",
            )
        except Exception as exc:  # a figure must never lose the scores
            logger.warning("CSP pattern figure failed: %s", exc)
            p = None
        if p is not None:
            paths.append(p)
    return paths


def plot_by_subject(
    values: dict[str, dict[str, float]], path: str | Path, *, title: str, ylabel: str
) -> Path:
    """One column per method: each subject a dot (lines join a subject), mean ± sd over subjects.

    Parameters
    ----------
    values : dict
        ``values[method][subject] = score``.
    """
    names = list(values)
    subjects = sorted({s for v in values.values() for s in v})
    fig = _figure(1.2 * len(names) + 2.5, 4.0)
    ax = fig.add_subplot()
    for sub in subjects:
        xs = [i for i, n in enumerate(names) if sub in values[n]]
        ax.plot(xs, [values[names[i]][sub] for i in xs], color="0.75", lw=0.8, zorder=1)
        ax.scatter(xs, [values[names[i]][sub] for i in xs], s=14, color="0.45", zorder=3)
    for i, n in enumerate(names):
        v = np.array(list(values[n].values()), dtype=float)
        sd = float(np.nanstd(v, ddof=1)) if len(v) > 1 else 0.0
        ax.errorbar(i + 0.15, np.nanmean(v), yerr=sd, fmt="o", color="C0", capsize=4, zorder=4)
    ax.axhline(0.5, color="0.6", ls="--", lw=1)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_ylim(min(0.3, ax.get_ylim()[0]), 1.02)
    ax.set_title(title, fontsize=10)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p)
    return p


def plot_subjects(results: Sequence[PipelineScore], path: str | Path) -> Path:
    """Within-session scores of every subject per pipeline, with the mean ± sd over subjects."""
    values: dict[str, dict[str, float]] = {}
    for r in results:
        values.setdefault(r.pipeline, {})[str(r.subject)] = r.mean
    first = results[0]
    return plot_by_subject(
        values,
        path,
        title=f"{first.dataset} {first.paradigm}: {len(values[first.pipeline])} subjects",
        ylabel=first.metric,
    )
