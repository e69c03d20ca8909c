"""Model store: save/load round trips for every pipeline, the store's bookkeeping, atomic writes."""

from __future__ import annotations

import logging
import os
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import skops.io as sio

from bci.decoders.model import Model
from bci.decoders.store import (
    EARLIER_TYPES,
    SUFFIX,
    TRUSTED_TYPES,
    ModelExistsError,
    ModelStore,
    dump_model,
    parse_model_bytes,
)
from bci.errors import DataError, ModelNotFoundError

CH = ["FC3", "FC4", "C3", "Cz", "C4", "CP3", "CP4", "Pz"]
SFREQ = 250.0


def _fallback_pipelines() -> dict[str, Callable[[], Any]]:
    from mne.decoding import CSP
    from pyriemann.classification import MDM, FgMDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return {
        "ts-lr": lambda: make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()),
        "mdm": lambda: make_pipeline(Covariances("oas"), MDM()),
        "fgmdm": lambda: make_pipeline(Covariances("oas"), FgMDM()),
        "csp-lda": lambda: make_pipeline(CSP(4, log=True), LinearDiscriminantAnalysis()),
    }


def _pipelines() -> tuple[dict[str, Callable[[], Any]], bool]:
    """The registered pipelines (with and without re-centring) when the registry exists,
    else pyRiemann ones built here."""
    try:
        from bci.decoders import get_pipeline, make_pipeline, pipeline_names
    except ImportError:
        return _fallback_pipelines(), False
    out: dict[str, Callable[[], Any]] = {}
    for n in pipeline_names():
        out[n] = lambda n=n: make_pipeline(n, sfreq=SFREQ)
        if "recentering" in get_pipeline(n).parameters():
            out[f"{n}+recentering"] = lambda n=n: make_pipeline(n, sfreq=SFREQ, recentering=True)
    return out, True


PIPELINES, REGISTERED = _pipelines()


@pytest.fixture(scope="module")
def epochs() -> tuple[np.ndarray, np.ndarray]:
    """40 epochs (8 ch x 2 s at 250 Hz) with a variance difference on C3/C4 between classes."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, len(CH), int(2 * SFREQ)))
    X[:20, 2] *= 2.0
    X[20:, 4] *= 2.0
    y = np.array(["left"] * 20 + ["right"] * 20)
    return X, y


_FITTED: dict[str, Any] = {}


def _fitted(name: str, epochs: tuple[np.ndarray, np.ndarray]) -> Any:
    if name not in _FITTED:
        _FITTED[name] = PIPELINES[name]().fit(*epochs)
    return _FITTED[name]


def _model(pipe: Any, name: str = "ts-lr", **kw: Any) -> Model:
    return Model(
        pipeline=pipe,
        pipeline_name=name,
        classes=[str(c) for c in pipe.classes_],
        ch_names=list(CH),
        sfreq=SFREQ,
        band=(8.0, 30.0),
        window_s=2.0,
        cv_score=0.875,
        cv_metric="roc_auc",
        n_trials=40,
        fingerprint="0123456789abcdef",
        paradigm="imagery-left-right",
        params={"cv_accuracy": np.float64(0.8)},
        **kw,
    )


@pytest.fixture
def store(tmp_path) -> ModelStore:
    return ModelStore(tmp_path / "models")


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_round_trip_every_pipeline(name, epochs, store, tmp_path):
    X = epochs[0]
    model = _model(_fitted(name, epochs), name)
    path = store.save(model)
    assert path == tmp_path / "models" / f"{model.model_id}{SUFFIX}"
    loaded = store.load(model.model_id)
    assert loaded is not model
    assert loaded.card() == model.card()
    rng = np.random.default_rng(11)
    Z = rng.standard_normal((5, len(CH), X.shape[2]))
    np.testing.assert_array_equal(loaded.pipeline.predict_proba(Z), model.pipeline.predict_proba(Z))
    np.testing.assert_array_equal(loaded.predict_proba(Z), model.predict_proba(Z))
    assert list(loaded.pipeline.predict(X[:4])) == list(model.pipeline.predict(X[:4]))


def test_trusted_types_are_exactly_what_the_pipelines_use(epochs):
    """TRUSTED_TYPES is the union of skops' untrusted types over our pipelines (and over the
    files earlier versions wrote), no more."""
    used: set[str] = set()
    for name in PIPELINES:
        used |= set(sio.get_untrusted_types(data=sio.dumps(_fitted(name, epochs))))
    if REGISTERED:
        assert used | EARLIER_TYPES == set(TRUSTED_TYPES)
        assert not used & EARLIER_TYPES
    else:  # without the registry only the pyRiemann/MNE part can be checked
        assert used <= set(TRUSTED_TYPES)


def test_card_holds_the_provenance_and_pipeline_hash(epochs, store):
    model = _model(_fitted("ts-lr", epochs))
    store.save(model)
    (card,) = store.list()
    for key in ("id", "created", "pipeline", "params", "classes", "ch_names", "sfreq", "band"):
        assert card[key] == model.card()[key]
    assert card["window_s"] == 2.0 and card["cv_score"] == 0.875
    assert card["fingerprint"] == "0123456789abcdef" and card["versions"]["numpy"]
    assert card["params"] == {"cv_accuracy": 0.8}
    with zipfile.ZipFile(store.path(model.model_id)) as zf:
        assert zf.namelist() == ["card.json", "pipeline.skops"]
        import hashlib

        assert card["pipeline_sha256"] == hashlib.sha256(zf.read("pipeline.skops")).hexdigest()
    assert card["size_bytes"] == store.path(model.model_id).stat().st_size
    assert store.card(model.model_id) == card


def test_get_caches_and_notices_outside_changes(epochs, store):
    a = _model(_fitted("ts-lr", epochs), model_id="m-a")
    b = _model(_fitted("mdm", epochs), "mdm", model_id="m-b")
    store.save(a)
    assert store.get("m-a") is a  # saved models are cached as they are
    store.save(b)
    assert store.ids() == ["m-a", "m-b"] and len(store) == 2 and "m-a" in store
    # another process (bci models rm) deletes the file: the cache must not hide it
    store.path("m-a").unlink()
    with pytest.raises(ModelNotFoundError, match=r"^No model with id 'm-a'\. Known models: m-b$"):
        store.get("m-a")
    # another process replaces a file: the new content is loaded
    other = ModelStore(store.root)
    data = dump_model(_model(_fitted("ts-lr", epochs), model_id="m-b"))
    os.replace(_write(store.root / ".incoming", data), store.path("m-b"))
    assert store.get("m-b").pipeline_name == "ts-lr"
    assert other.get("m-b") is other.get("m-b")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_unknown_and_invalid_ids(store):
    with pytest.raises(ModelNotFoundError, match=r"No model with id 'm-x'\. Known models: none"):
        store.get("m-x")
    with pytest.raises(ModelNotFoundError, match=r"No model with id '\.\./secret'"):
        store.get("../secret")
    with pytest.raises(ModelNotFoundError):
        store.delete("m-x")
    with pytest.raises(ModelNotFoundError):
        store.export_bytes("m-x")
    assert store.list() == [] and store.ids() == []


def test_export_import_delete(epochs, store, tmp_path):
    model = _model(_fitted("ts-lr", epochs))
    store.save(model)
    data = store.export_bytes(model.model_id)
    assert data == store.path(model.model_id).read_bytes()
    other = ModelStore(tmp_path / "elsewhere")
    imported = other.import_bytes(data)
    assert imported.card() == model.card()
    assert other.export_bytes(model.model_id) == data  # byte-identical after a round trip
    assert other.import_bytes(data) is other.get(model.model_id)  # idempotent
    # same id, different content: refused, the stored one is kept
    clash = dump_model(_model(_fitted("mdm", epochs), "mdm", model_id=model.model_id))
    with pytest.raises(ModelExistsError, match=f"A different model with id '{model.model_id}'"):
        other.import_bytes(clash)
    assert other.get(model.model_id).pipeline_name == "ts-lr"
    card = other.delete(model.model_id)
    assert card["id"] == model.model_id and other.ids() == []


def test_list_is_ordered_and_skips_unreadable_files(epochs, store, caplog):
    pipe = _fitted("ts-lr", epochs)
    store.save(_model(pipe, model_id="m-2", created="2026-01-02T00:00:00+00:00"))
    store.save(_model(pipe, model_id="m-1", created="2026-01-03T00:00:00+00:00"))
    store.save(_model(pipe, model_id="m-0", created="2026-01-02T00:00:00+00:00"))
    (store.root / f"m-junk{SUFFIX}").write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING, logger="bci.decoders.store"):
        assert [c["id"] for c in store.list()] == ["m-0", "m-2", "m-1"]
    assert "skipping unreadable model file" in caplog.text and "m-junk" in caplog.text


def test_atomic_write_keeps_the_old_file_on_failure(epochs, store, monkeypatch):
    model = _model(_fitted("ts-lr", epochs))
    path = store.save(model)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    model.cv_score = 0.5
    with pytest.raises(DataError, match=r"Cannot write model file .*: No space left on device"):
        store.save(model)
    assert path.read_bytes() == before
    assert sorted(p.name for p in store.root.iterdir()) == [path.name]  # no temp file left
    monkeypatch.undo()
    assert parse_model_bytes(before).cv_score == 0.875
