"""``bci models list|show|rm`` on a store folder."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from pyriemann.classification import MDM
from pyriemann.estimation import Covariances
from sklearn.pipeline import make_pipeline

from bci.cli import models as store_cli
from bci.config import get_settings
from bci.decoders.model import Model
from bci.decoders.store import ModelStore
from bci.errors import ModelNotFoundError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bci")
    store_cli.register(p.add_subparsers(dest="command"))
    return p


def _run(*argv: str) -> int:
    args = _parser().parse_args(list(argv))
    return int(args.func(args))


@pytest.fixture
def data_dir(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 3, 50))
    y = np.array(["left", "right"] * 6)
    pipe = make_pipeline(Covariances("oas"), MDM()).fit(X, y)
    store = ModelStore(tmp_path / "models")
    for mid, score in (("m-one", 0.91234), ("m-two", None)):
        store.save(
            Model(
                pipeline=pipe,
                pipeline_name="mdm",
                classes=["left", "right"],
                ch_names=["C3", "Cz", "C4"],
                sfreq=250.0,
                band=(8.0, 30.0),
                window_s=0.2,
                model_id=mid,
                created=f"2026-01-0{1 if mid == 'm-one' else 2}T00:00:00+00:00",
                cv_score=score,
                cv_metric="roc_auc" if score else None,
            )
        )
    return tmp_path


def test_list(data_dir, capsys):
    assert _run("models", "--data-dir", str(data_dir), "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "CREATED", "PIPELINE", "CLASSES", "CH", "SFREQ", "CV"]
    assert lines[1].split() == [
        "m-one",
        "2026-01-01T00:00:00+00:00",
        "mdm",
        "left,right",
        "3",
        "250",
        "roc_auc=0.912",
    ]
    assert lines[2].split()[0] == "m-two" and lines[2].split()[-1] == "-"


def test_list_json_and_empty(data_dir, tmp_path, capsys):
    _run("models", "--data-dir", str(data_dir), "list", "--json")
    cards = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in cards] == ["m-one", "m-two"]
    _run("models", "--data-dir", str(tmp_path / "empty"), "list")
    assert capsys.readouterr().out.strip() == f"No models in {tmp_path / 'empty' / 'models'}"


def test_show_and_rm_use_the_settings_data_dir(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("BCI_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        assert _run("models", "show", "m-one") == 0
        card = json.loads(capsys.readouterr().out)
        assert card["id"] == "m-one" and card["ch_names"] == ["C3", "Cz", "C4"]
        assert len(card["pipeline_sha256"]) == 64
        assert _run("models", "rm", "m-one") == 0
        out = capsys.readouterr().out.strip()
        assert out == "Deleted model m-one (mdm, created 2026-01-01T00:00:00+00:00)"
        with pytest.raises(
            ModelNotFoundError, match=r"No model with id 'm-one'\. Known models: m-two"
        ):
            _run("models", "show", "m-one")
    finally:
        get_settings.cache_clear()
    assert ModelStore(data_dir / "models").ids() == ["m-two"]
