"""Helpers shared by ``bci evaluate`` and its transfer protocols (:mod:`bci.cli._transfer`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bci.errors import DataError

__all__ = [
    "DEFAULT_OUTPUT",
    "data_specs",
    "parse_channels",
    "parse_subjects",
    "parse_trials",
    "print_failures",
]

DEFAULT_OUTPUT = "bci-evaluation"


def parse_subjects(text: str) -> list[int]:
    """``"1"``, ``"1,2,5"`` or ``"1-3"`` (or a mix) -> sorted unique subject numbers."""
    out: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if b < a:
                    raise ValueError
                out.update(range(a, b + 1))
            else:
                out.add(int(part))
        except ValueError:
            raise DataError(
                f"--subjects: cannot read {part!r}; expected numbers like 1 or 1,2,5 or 1-10"
            ) from None
    if not out:
        raise DataError(f"--subjects: no subject in {text!r}")
    return sorted(out)


def parse_trials(text: str) -> list[int]:
    """``"2,5,10,20"`` -> ``[2, 5, 10, 20]`` (labelled trials per class, each >= 1)."""
    try:
        out = sorted({int(t) for t in str(text).split(",") if t.strip()})
    except ValueError:
        raise DataError(
            f"--trials: cannot read {text!r}; expected numbers like 2,5,10,20"
        ) from None
    if not out or out[0] < 1:
        raise DataError(f"--trials must be numbers >= 1, got {text!r}")
    return out


def parse_channels(text: str | None, default: str) -> tuple[str, ...] | None:
    """``all`` -> None; ``motor`` -> :data:`MOTOR_CHANNELS`; else comma-separated names."""
    value = (text or default).strip()
    if value.lower() == "all":
        return None
    if value.lower() == "motor":
        from bci.evaluation.tasks import MOTOR_CHANNELS

        return MOTOR_CHANNELS
    names = tuple(c.strip() for c in value.split(",") if c.strip())
    if len(names) < 2:
        raise DataError(f"--channels needs 'all', 'motor' or >= 2 names, got {value!r}")
    return names


def _arg(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    return getattr(args, name, default)


def data_specs(args: argparse.Namespace, channels: tuple[str, ...] | None) -> list[Any]:
    """One :class:`~bci.evaluation.tasks.DataSpec` per ``--subjects`` entry (paths resolved)."""
    from bci.datasets.eegbci import data_path
    from bci.datasets.paradigms import get_eegbci_paradigm
    from bci.evaluation.tasks import DataSpec

    if _arg(args, "dataset") is None:
        raise DataError("This protocol needs --dataset eegbci (with --subjects)")
    if _arg(args, "file") is not None:
        raise DataError("Give exactly one of --dataset eegbci or --file PATH")
    paradigm = get_eegbci_paradigm(_arg(args, "paradigm") or "imagery-left-right").name
    folder = data_path(_arg(args, "data_path"))
    notch = _arg(args, "notch")
    return [
        DataSpec(
            subject=sub,
            paradigm=paradigm,
            data_path=None if folder is None else str(Path(folder).resolve()),
            tmin=float(_arg(args, "tmin", 0.0)),
            tmax=float(_arg(args, "tmax", 3.0)),
            notch=None if notch is None else float(notch),
            channels=channels,
        )
        for sub in parse_subjects(_arg(args, "subjects", "1"))
    ]


def print_failures(failures: list[Any]) -> None:
    """Name every failed task on stderr (the others' results are kept)."""
    for f in failures:
        print(f"error: {f}", file=sys.stderr)
