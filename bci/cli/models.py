"""``bci models list|show ID|rm ID|build-population``: the model registry from the terminal."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``models`` subcommand to the ``bci`` command's subparsers."""
    p = subparsers.add_parser(
        "models",
        help="list, show or remove stored models",
        description="Stored models live in <data_dir>/models (setting BCI_DATA_DIR).",
    )
    p.add_argument(
        "--data-dir", default=None, help="data folder (default: the BCI_DATA_DIR setting)"
    )
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    s = sub.add_parser("list", help="one line per model")
    s.add_argument("--json", action="store_true", help="the cards as JSON")
    s = sub.add_parser("show", help="the model card of one model")
    s.add_argument("model_id", metavar="ID")
    s = sub.add_parser("rm", help="delete a model file")
    s.add_argument("model_id", metavar="ID")
    s = sub.add_parser(
        "build-population",
        help="fit a re-centred model for a headset preset from public data",
        description="A re-centred TS+LR decoder on the preset's channels from eegbci "
        "(bci.evaluation.population): decisions from a new user's first full window.",
    )
    s.add_argument("--dataset", choices=["eegbci"], default="eegbci")
    s.add_argument("--subjects", default="1-10", help="eegbci subjects: 1-10 | 1,2,5")
    s.add_argument("--headset", required=True, help="headset preset, e.g. openbci-cyton")
    s.add_argument("--paradigm", default="imagery-left-right")
    s.add_argument("--data-path", default=None, help="eegbci folder (default BCI_DATA_PATH)")
    p.set_defaults(func=run)


def _store(args: argparse.Namespace) -> Any:
    from bci.decoders.store import ModelStore

    if args.data_dir:
        root = Path(args.data_dir)
    else:
        from bci.config import get_settings

        root = get_settings().data_dir
    return ModelStore(root / "models")


def _score(card: dict[str, Any]) -> str:
    if card.get("cv_score") is None:
        return "-"
    return f"{card['cv_metric']}={card['cv_score']:.3f}"


def run(args: argparse.Namespace) -> int:
    """Run ``bci models``; returns the exit code (errors are raised as BCIError)."""
    store = _store(args)
    action = args.models_command
    if action == "build-population":
        return _build_population(args, store)
    if action == "list":
        cards = store.list()
        if args.json:
            print(json.dumps(cards, indent=2))
        elif not cards:
            print(f"No models in {store.root}")
        else:
            header = ("ID", "CREATED", "PIPELINE", "CLASSES", "CH", "SFREQ", "CV")
            rows = [
                (
                    c["id"],
                    c["created"],
                    c["pipeline"],
                    ",".join(c["classes"]),
                    str(len(c["ch_names"])),
                    f"{c['sfreq']:g}",
                    _score(c),
                )
                for c in cards
            ]
            widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
            for r in (header, *rows):
                print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        return 0
    if action == "show":
        print(json.dumps(store.card(args.model_id), indent=2))
        return 0
    if action == "rm":
        card = store.delete(args.model_id)
        print(f"Deleted model {card['id']} ({card['pipeline']}, created {card['created']})")
        return 0
    raise AssertionError(f"unreachable: {action}")  # argparse restricts the choices


def _build_population(args: argparse.Namespace, store: Any) -> int:
    """Build, store and describe a population model; the exit code."""
    from bci.cli._evaluation import parse_subjects
    from bci.evaluation.population import build_population

    model = build_population(
        parse_subjects(args.subjects),
        args.headset,
        paradigm=args.paradigm,
        data_path=args.data_path,
    )
    path = store.save(model)
    pop = model.params["population"]
    print(json.dumps({k: pop[k] for k in ("subjects", "channels", "sfreq")}))
    print(
        f"leave-one-subject-out ROC-AUC {pop['cv_mean']:.3f} ± {pop['cv_sd']:.3f}: "
        + ", ".join(f"{k} {v:.3f}" for k, v in pop["cv_per_subject"].items())
    )
    print(f"stored model {model.model_id} in {path}")
    return 0
