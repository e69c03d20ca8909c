"""The ``bci erd`` subcommand: mu-suppression / ERD reports of recordings and eegbci.

Examples
--------
``bci erd --dataset eegbci --subjects 1 --output results/erd``
``bci erd rec.fif --events T0=rest,T1=left,T2=right --baseline-file eyes_open.fif``
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from bci.cli._evaluation import parse_subjects
from bci.errors import DataError

__all__ = ["parse_events", "parse_subjects", "register", "run"]

logger = logging.getLogger(__name__)


def parse_events(text: str) -> dict[str, str]:
    """``"T0=rest,T1=left"`` -> ``{"T0": "rest", "T1": "left"}``."""
    out: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise DataError(
                f"--events entries must be DESCRIPTION=LABEL (e.g. T0=rest,T1=left), got {item!r}"
            )
        desc, label = (s.strip() for s in item.split("=", 1))
        if not desc or not label:
            raise DataError(f"--events entry {item!r} has an empty description or label")
        out[desc] = label
    if not out:
        raise DataError(f"--events names no event: {text!r}")
    return out


def _pair(text: str, name: str) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in text.split(","))
    except ValueError:
        raise DataError(f"{name} must be two numbers START,END (e.g. -1,0), got {text!r}") from None
    return a, b


def register(subparsers: Any) -> None:
    """Add the ``erd`` subcommand to the ``bci`` command's subparsers."""
    p = subparsers.add_parser(
        "erd",
        help="mu-suppression / ERD report of a recording or the eegbci dataset",
        description=(
            "Per condition, channel and band: log10(condition / reference power) (negative = "
            "suppression) with bootstrap CIs and Cohen's d, against rest trials, a baseline "
            "recording and the pre-cue interval; ERDS time-frequency maps and mu topomaps as "
            "PNG, the numbers as JSON."
        ),
    )
    p.add_argument("file", nargs="?", help="recording with cue annotations (FIF, EDF, XDF...)")
    p.add_argument("--dataset", choices=["eegbci"], help="analyse a public dataset instead")
    p.add_argument("--subjects", default="1", help="dataset subjects: 1, 1,3 or 1-5")
    p.add_argument(
        "--run-types",
        default=None,
        help="eegbci run types, comma separated (default: all imagined and executed)",
    )
    p.add_argument(
        "--events", default=None, help="DESCRIPTION=LABEL,... ('rest' marks rest trials)"
    )
    p.add_argument("--baseline-file", default=None, help="baseline recording (e.g. eyes open)")
    p.add_argument("--pre-cue", action="store_true", help="use the pre-cue interval reference")
    p.add_argument("--rest", action="store_true", help="use the rest-trial reference")
    p.add_argument("--output", default=None, help="output folder (default ./erd-<source>)")
    p.add_argument("--no-figures", action="store_true", help="numbers only, no PNG")
    p.add_argument("--channels", default="C3,Cz,C4")
    p.add_argument("--tmin", type=float, default=0.5, help="condition window start (s)")
    p.add_argument("--tmax", type=float, default=2.5, help="condition window end (s)")
    p.add_argument("--precue", default="-1,0", help="pre-cue interval START,END (s)")
    p.add_argument("--mu", default="8,13", help="mu band LOW,HIGH (Hz)")
    p.add_argument("--beta", default="13,30", help="beta band LOW,HIGH (Hz)")
    p.add_argument("--n-boot", type=int, default=2000)
    p.add_argument("--ci", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--reference",
        choices=["auto", "average", "none"],
        default="auto",
        help="EEG reference: average, as recorded, or auto (average with >= 32 channels)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``bci erd``; returns the exit code."""
    from bci.analysis import (
        ErdOptions,
        eegbci_report,
        read_raw_any,
        recording_report,
        write_outputs,
    )

    if (args.file is None) == (args.dataset is None):
        raise DataError("bci erd needs either a FILE or --dataset eegbci (not both)")
    options = ErdOptions(
        tmin=args.tmin,
        tmax=args.tmax,
        precue=_pair(args.precue, "--precue"),
        channels=tuple(c.strip() for c in args.channels.split(",") if c.strip()),
        bands={"mu": _pair(args.mu, "--mu"), "beta": _pair(args.beta, "--beta")},
        n_boot=args.n_boot,
        ci=args.ci,
        seed=args.seed,
        reference=args.reference,
        erds=not args.no_figures,
    )
    refs: list[str] = []
    if args.rest:
        refs.append("rest")
    if args.baseline_file or args.dataset:
        refs.append("baseline")
    if args.pre_cue:
        refs.append("pre-cue")
    explicit = args.rest or args.pre_cue

    reports = []
    if args.dataset == "eegbci":
        run_types = None if args.run_types is None else args.run_types.split(",")
        for subject in parse_subjects(args.subjects):
            rep = eegbci_report(
                subject,
                options=options,
                run_types=run_types,
                references=refs if explicit else ("rest", "baseline", "pre-cue"),
            )
            reports.append((rep, f"eegbci-s{subject:03d}"))
    else:
        path = Path(args.file)
        raw = read_raw_any(path)
        base = read_raw_any(args.baseline_file) if args.baseline_file else None
        rep = recording_report(
            raw,
            parse_events(args.events) if args.events else None,
            baseline_raw=base,
            references=refs if explicit else None,
            options=options,
            source=str(path),
        )
        reports.append((rep, path.stem))

    for rep, slug in reports:
        print(rep.table())
        out = Path(args.output) if args.output else Path(f"erd-{slug}")
        if len(reports) > 1:
            out = out / slug
        written = write_outputs(rep, out, figures=not args.no_figures)
        print(f"wrote {len(written)} files to {out}: " + ", ".join(p.name for p in written))
    return 0
