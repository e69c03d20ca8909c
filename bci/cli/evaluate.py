"""``bci evaluate``: score pipelines on a public dataset or any recording, MOABB's way.

Examples::

    bci evaluate --dataset eegbci --subjects 1 --paradigm imagery-left-right \\
        --pipelines all --folds 5 --seed 42 --output results/
    bci evaluate --file session.xdf --events left=left,right=right --tmin 0.5 --tmax 2.5
"""

# Over 500 lines while the command lives here: the multi-subject runner sits beside the
# single-recording one so the move of the CLI into its own package is a rename.

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from bci.cli._evaluation import (
    DEFAULT_OUTPUT,
    _arg,
    data_specs,
    parse_channels,
    parse_subjects,
    print_failures,
)
from bci.errors import BCIError, DataError

__all__ = ["build_parser", "parse_events", "parse_subjects", "register", "run"]

logger = logging.getLogger(__name__)

#: ``--protocol`` values.
PROTOCOLS = ("within-session", "cross-subject", "calibration-curve")


def parse_events(text: str) -> dict[str, str]:
    """``"T1=left,T2=right"`` -> ``{"T1": "left", "T2": "right"}`` (marker -> class)."""
    out: dict[str, str] = {}
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        marker, sep, label = part.partition("=")
        if not sep or not marker.strip() or not label.strip():
            raise DataError(
                f"--events: cannot read {part!r}; expected MARKER=CLASS pairs separated by "
                "commas, e.g. T1=left,T2=right"
            )
        out[marker.strip()] = label.strip()
    if len(set(out.values())) < 2:
        raise DataError(f"--events must map markers to at least 2 classes, got {out or text!r}")
    return out


def _pipelines(text: str) -> list[str]:
    from bci.decoders import META_PIPELINES, get_pipeline, pipeline_names

    if text.strip().lower() == "all":
        order = ["ts-lr", "ts-svm", "mdm", "fgmdm", "csp-lda", "fbts-lr", "fbts-svm"]
        # auto/ensemble refit the five single-band ones 4-16 times: by name only
        names = [n for n in pipeline_names() if n not in META_PIPELINES]
        return [n for n in order if n in names] + [n for n in names if n not in order]
    return [get_pipeline(p.strip()).name for p in text.split(",") if p.strip()]


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``evaluate`` options to ``parser``."""
    src = parser.add_argument_group("data (one of --dataset or --file)")
    src.add_argument("--dataset", choices=["eegbci"], default=None, help="public dataset")
    src.add_argument("--subjects", default="1", help="eegbci subjects: 1 | 1,2,5 | 1-10")
    src.add_argument(
        "--paradigm",
        default=None,
        help="eegbci paradigm: imagery-left-right (default), imagery-hands-feet, "
        "executed-left-right, imagery-4class, movement-rest; with --file, a label",
    )
    src.add_argument("--data-path", default=None, help="eegbci folder (default BCI_DATA_PATH)")
    src.add_argument(
        "--file", default=None, help="a recording (EDF/BDF/GDF/FIF/BrainVision/XDF/CSV)"
    )
    src.add_argument("--events", default=None, help="--file markers: T1=left,T2=right")
    proto = parser.add_argument_group("protocol")
    proto.add_argument(
        "--protocol",
        choices=list(PROTOCOLS),
        default="within-session",
        help="within-session k-fold (MOABB), cross-subject (leave one subject out, zero "
        "labelled trials of the target) or calibration-curve (first k trials per class of "
        "the target labelled)",
    )
    proto.add_argument(
        "--pipelines",
        default="all",
        help="'all' or names: ts-lr,mdm,...; auto, ensemble (nested selection, soft vote: "
        "by name, not in 'all'); with >= 2 subjects also tl-recenter, tl-rpa "
        "(each training fold adds the other subjects, aligned)",
    )
    proto.add_argument(
        "--methods",
        default=None,
        help="transfer protocols: methods, comma-separated (default: all of "
        "none,recenter,rpa,auto for cross-subject; within,recenter,rpa,mdwm,tlc-w,vote for "
        "calibration-curve); a '+ex' suffix adds the sources' executed runs",
    )
    proto.add_argument(
        "--source-runs",
        default="imagery",
        help="transfer protocols: 'imagery' (default) or 'imagery,executed': every method "
        "also run with the sources' executed left/right runs added (rows 'METHOD+ex'); "
        "the target is always scored on its imagined runs",
    )
    proto.add_argument(
        "--trials",
        default="2,5,10,20",
        help="calibration-curve: labelled trials per class, comma-separated",
    )
    proto.add_argument(
        "--channels",
        default=None,
        help="'all', 'motor' (the 21 FC/C/CP channels) or names C3,Cz,C4,...; default all "
        "(within-session) or motor (transfer protocols)",
    )
    proto.add_argument("--folds", type=int, default=5)
    proto.add_argument("--seed", type=int, default=42)
    proto.add_argument(
        "--permutations",
        type=int,
        default=20,
        help="label permutations for the chance level (0: none)",
    )
    proto.add_argument("--tmin", type=float, default=0.0, help="epoch start after the cue (s)")
    proto.add_argument("--tmax", type=float, default=3.0, help="epoch end after the cue (s)")
    proto.add_argument(
        "--band",
        nargs=2,
        type=float,
        default=(8.0, 32.0),
        metavar=("LOW", "HIGH"),
        help="band-pass of the single-band pipelines, Hz (MOABB: 8 32)",
    )
    proto.add_argument("--notch", type=float, default=None, help="line frequency to notch (Hz)")
    proto.add_argument(
        "--cov-estimator", default=None, help="covariance estimator: oas (default), lwf, scm"
    )
    proto.add_argument(
        "--online",
        action="store_true",
        help="run the recording through the online engine (pseudo-online) and compare its "
        "decisions with the offline score of the same pipeline, folds and windows",
    )
    dist = parser.add_argument_group("where the work runs (default: in this process)")
    dist.add_argument(
        "--workers",
        type=int,
        default=0,
        help="start a local Dask cluster of N single-threaded worker processes",
    )
    dist.add_argument(
        "--scheduler",
        default=None,
        help="address of an existing Dask scheduler, e.g. tcp://HOST:8786",
    )
    outg = parser.add_argument_group("output")
    outg.add_argument("--output", default=DEFAULT_OUTPUT, help="folder for results and figures")
    outg.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    outg.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` subcommand to the ``bci`` command's subparsers."""
    p = subparsers.add_parser(
        "evaluate",
        help="cross-validate pipelines on eegbci or a recording (MOABB protocol)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build_parser(p)
    p.set_defaults(func=run)


def _jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """One job per subject (eegbci) or one for the file: source, labels."""
    from bci.datasets import epochs_from_raw, load_eegbci_epochs

    tmin, tmax = float(_arg(args, "tmin", 0.0)), float(_arg(args, "tmax", 3.0))
    notch = _arg(args, "notch")
    dataset, file = _arg(args, "dataset"), _arg(args, "file")
    if (dataset is None) == (file is None):
        raise DataError("Give exactly one of --dataset eegbci or --file PATH")
    if dataset is not None:
        from bci.datasets.paradigms import get_eegbci_paradigm

        paradigm = get_eegbci_paradigm(_arg(args, "paradigm") or "imagery-left-right").name
        jobs = []
        for sub in parse_subjects(_arg(args, "subjects", "1")):

            def source(band: tuple[float, float], sub: int = sub) -> Any:
                return load_eegbci_epochs(
                    sub, paradigm, _arg(args, "data_path"), band, tmin, tmax, notch
                )

            jobs.append(
                {
                    "source": source,
                    "dataset": "eegbci",
                    "subject": f"S{sub:03d}",
                    "paradigm": paradigm,
                }
            )
        return jobs
    if not _arg(args, "events"):
        raise DataError("--file needs --events MARKER=CLASS,... (e.g. T1=left,T2=right)")
    event_map = parse_events(args.events)
    path = Path(file)
    if not path.exists():
        raise DataError(f"--file {path} does not exist")
    from bci.recordings import read_recording

    raw = read_recording(path).to_raw()

    def file_source(band: tuple[float, float]) -> Any:
        return epochs_from_raw(raw, event_map, tmin, tmax, band, notch=notch)

    label = _arg(args, "paradigm") or "-".join(sorted(set(event_map.values())))
    return [{"source": file_source, "dataset": path.name, "subject": None, "paradigm": label}]


def run(args: argparse.Namespace) -> int:
    """Run ``bci evaluate``; returns the exit code (0 ok, 1 error)."""
    try:
        return _run(args)
    except BCIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from bci.evaluation.figures import write_figures
    from bci.evaluation.protocol import evaluate
    from bci.evaluation.reference import moabb_reference
    from bci.evaluation.report import format_table, write_results

    protocol = _arg(args, "protocol", "within-session")
    if _arg(args, "online") and protocol == "cross-subject":
        return _run_online_adaptation(args)
    if _arg(args, "online"):
        return _run_online(args)
    if protocol != "within-session":
        from bci.cli._transfer import run_transfer

        return run_transfer(args, protocol)
    if _arg(args, "dataset") is not None:
        return _run_subjects(args)
    folds = int(_arg(args, "folds", 5))
    n_perm = int(_arg(args, "permutations", 20))
    if n_perm < 0:
        raise DataError(f"--permutations must be >= 0, got {n_perm}")
    band = tuple(float(b) for b in _arg(args, "band", (8.0, 32.0)))
    if len(band) != 2 or not 0 < band[0] < band[1]:
        raise DataError(f"--band must be LOW HIGH with 0 < LOW < HIGH, got {band}")
    pipelines = _pipelines(_arg(args, "pipelines", "all"))
    params: dict[str, Any] = {}
    if _arg(args, "cov_estimator"):
        from bci.decoders import COVARIANCE_ESTIMATORS

        COVARIANCE_ESTIMATORS.resolve(args.cov_estimator)
        params["cov_estimator"] = args.cov_estimator
    jobs = _jobs(args)
    out = Path(_arg(args, "output", DEFAULT_OUTPUT))
    all_scores = []
    for job in jobs:
        scores, data = evaluate(
            job["source"],
            pipelines,
            paradigm=job["paradigm"],
            dataset=job["dataset"],
            subject=job["subject"],
            band=band,
            n_folds=folds,
            seed=int(_arg(args, "seed", 42)),
            n_permutations=n_perm,
            params=params,
            progress=not _arg(args, "no_progress", False),
            reference=(
                (lambda p, par: moabb_reference(p, par, "eegbci"))
                if job["dataset"] == "eegbci"
                else None
            ),
        )
        all_scores.extend(scores)
        if not _arg(args, "no_figures", False):
            write_figures(scores, data, out / "figures")
        # write after every subject: a long run keeps what it has done
        write_results(all_scores, out)
    print(format_table(all_scores))
    print(
        f"\nwrote {out / 'results.json'}, {out / 'results.csv'}"
        + (f" and figures in {out / 'figures'}" if not _arg(args, "no_figures", False) else "")
    )
    return 0


def _run_subjects(args: argparse.Namespace) -> int:
    """Within-session over subjects: (subject, pipeline) tasks, serial or on Dask."""
    import json

    from bci.evaluation.figures import plot_subjects, write_figures
    from bci.evaluation.protocol import PipelineScore, set_chance
    from bci.evaluation.report import (
        format_subject_matrix,
        format_summary,
        format_table,
        summarise_subjects,
        write_results,
    )
    from bci.evaluation.runner import run_tasks
    from bci.evaluation.tasks import TRANSFER_PIPELINES, load_epochs, within_tasks

    n_perm = int(_arg(args, "permutations", 20))
    if n_perm < 0:
        raise DataError(f"--permutations must be >= 0, got {n_perm}")
    band = tuple(float(b) for b in _arg(args, "band", (8.0, 32.0)))
    if len(band) != 2 or not 0 < band[0] < band[1]:
        raise DataError(f"--band must be LOW HIGH with 0 < LOW < HIGH, got {band}")
    params: dict[str, Any] = {}
    if _arg(args, "cov_estimator"):
        from bci.decoders import COVARIANCE_ESTIMATORS

        COVARIANCE_ESTIMATORS.resolve(args.cov_estimator)
        params["cov_estimator"] = args.cov_estimator
    specs = data_specs(args, parse_channels(_arg(args, "channels"), "all"))
    text = str(_arg(args, "pipelines", "all"))
    names = [p.strip() for p in text.split(",") if p.strip()]
    transfer = [n for n in names if n.startswith("tl-")]
    plain = ",".join(n for n in names if not n.startswith("tl-"))
    tasks = within_tasks(
        specs,
        _pipelines(plain) if plain else [],
        band=(band[0], band[1]),
        n_folds=int(_arg(args, "folds", 5)),
        seed=int(_arg(args, "seed", 42)),
        n_permutations=n_perm,
        params=params,
        transfer=transfer,
    )
    results, failures = run_tasks(
        tasks,
        workers=int(_arg(args, "workers", 0) or 0),
        scheduler=_arg(args, "scheduler"),
        progress=not _arg(args, "no_progress", False),
        desc="within-session",
    )
    scores: list[PipelineScore] = []
    nulls: dict[str, tuple[str, list[float], int]] = {}
    for task, res in zip(tasks, results, strict=True):
        if res is None:
            continue
        if task.kind == "chance":
            nulls[task.data.label] = (task.pipeline, res["null"], task.n_permutations)
        else:
            scores.append(PipelineScore.from_dict(res["score"]))
    for s in scores:
        if s.subject in nulls:
            set_chance(s, nulls[s.subject][1], nulls[s.subject][0], nulls[s.subject][2])
    out = Path(_arg(args, "output", DEFAULT_OUTPUT))
    write_results(scores, out)
    summary = summarise_subjects(scores)
    summary["failures"] = [str(f) for f in failures]
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if not _arg(args, "no_figures", False) and scores:
        figs = out / "figures"
        plot_subjects(scores, figs / "subjects-within-session.png")
        for spec in specs:
            mine = [
                s
                for s in scores
                if s.subject == spec.label and s.pipeline not in TRANSFER_PIPELINES
            ]
            if mine:
                b = mine[0].band or band
                write_figures(mine, {"epochs": {tuple(b): load_epochs(spec, tuple(b))}}, figs)
    if len(specs) == 1:
        print(format_table(scores))
    else:
        print(format_subject_matrix(scores))
        print()
        print(format_summary(summary))
    print_failures(failures)
    print(f"\nwrote {out / 'results.json'}, {out / 'results.csv'}, {out / 'summary.json'}")
    return 1 if failures else 0


def _continuous(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Continuous recordings + cue events for the pseudo-online evaluation."""
    import numpy as np

    from bci.recordings import read_recording, recording_from_raw

    jobs = []
    if _arg(args, "dataset") is not None:
        from bci.datasets.eegbci import load_raw
        from bci.datasets.paradigms import get_eegbci_paradigm

        par = get_eegbci_paradigm(_arg(args, "paradigm") or "imagery-left-right")
        if len(par.blocks) != 1:
            raise DataError(
                f"--online needs a paradigm read from one block of runs; {par.name!r} mixes "
                "run types"
            )
        runs, mapping = par.blocks[0]
        for sub in parse_subjects(_arg(args, "subjects", "1")):
            rec = recording_from_raw(load_raw(sub, list(runs), _arg(args, "data_path")))
            jobs.append({"rec": rec, "map": mapping, "name": f"eegbci S{sub:03d} {par.name}"})
    else:
        if not _arg(args, "events"):
            raise DataError("--file needs --events MARKER=CLASS,... (e.g. T1=left,T2=right)")
        rec = read_recording(Path(args.file))
        jobs.append({"rec": rec, "map": parse_events(args.events), "name": Path(args.file).name})
    for job in jobs:
        rec = job["rec"]
        ts = np.asarray(rec.timestamps)
        events = [
            (int(np.searchsorted(ts, t - 0.5 / rec.sfreq)), job["map"][v])
            for t, v in rec.markers
            if v in job["map"]
        ]
        if not events:
            raise DataError(
                f"{job['name']}: none of the markers {sorted(job['map'])} occur in the recording"
            )
        job["events"] = events
    return jobs


def _run_online(args: argparse.Namespace) -> int:
    import json

    from bci.online.pseudo_online import pseudo_online

    names = _pipelines(_arg(args, "pipelines", "ts-lr"))
    out = Path(_arg(args, "output", DEFAULT_OUTPUT))
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'recording':<34}{'pipeline':<10}{'metric':<9}{'offline':>9}{'online':>9}{'diff':>8}")
    for job in _continuous(args):
        rec = job["rec"]
        for name in names:
            res = pseudo_online(
                rec.data,
                rec.sfreq,
                list(rec.ch_names),
                job["events"],
                pipeline=name,
                tmin=float(_arg(args, "tmin", 0.0)),
                tmax=float(_arg(args, "tmax", 3.0)),
                folds=int(_arg(args, "folds", 5)),
                seed=int(_arg(args, "seed", 42)),
            )
            row = {"recording": job["name"], **res.to_dict()}
            rows.append(row)
            print(
                f"{job['name']:<34}{name:<10}{res.metric:<9}{res.offline_mean:>9.3f}"
                f"{res.online_mean:>9.3f}{row['difference_points']:>+8.2f}"
            )
    (out / "online.json").write_text(json.dumps(rows, indent=2))
    print(f"\nwrote {out / 'online.json'} (difference in points = 100 x (online - offline))")
    return 0


def _run_online_adaptation(args: argparse.Namespace) -> int:
    """``--online --protocol cross-subject``: each held-out subject replayed through the
    engine from its first second, early vs late decisions with and without adaptation
    (:mod:`bci.evaluation.adaptation`)."""
    import json

    from bci.evaluation.adaptation import format_adaptation, run_adaptation

    if _arg(args, "dataset") is None:
        raise DataError("--online --protocol cross-subject needs --dataset eegbci --subjects")
    subjects = parse_subjects(_arg(args, "subjects", "1-10"))
    if len(subjects) < 2:
        raise DataError(f"--protocol cross-subject needs >= 2 subjects, got {subjects}")
    res = run_adaptation(
        subjects,
        orders=("time",),
        conditions=("static", "recenter-none", "recenter-weighted", "supervised-session", "oracle"),
        path=_arg(args, "data_path"),
        engine=True,
    )
    print(format_adaptation(res))
    out = Path(_arg(args, "output", DEFAULT_OUTPUT))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out / 'results.json'}")
    return 0
