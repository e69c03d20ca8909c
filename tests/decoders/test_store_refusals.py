"""Model store: tampered and foreign files are refused with a clear error; nothing is executed."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from bci.decoders.model import Model
from bci.decoders.store import SUFFIX, ModelStore, dump_model, parse_model_bytes
from bci.errors import DataError, DecoderError

CH = ["C3", "Cz", "C4", "Pz"]


class FileCreator:
    """A pickle payload: unpickling it calls open(path, 'w'), which creates the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


class Passthrough(BaseEstimator, TransformerMixin):
    """A transformer of this test module: not on the store's trusted list."""

    def fit(self, X: Any, y: Any = None) -> Passthrough:
        return self

    def transform(self, X: Any) -> Any:
        return X


@pytest.fixture(scope="module")
def fitted() -> Any:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, len(CH), 100))
    X[10:, 0] *= 2
    y = np.array(["left"] * 10 + ["right"] * 10)
    pipe = make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression())
    return pipe.fit(X, y), X


def _model(pipe: Any, **kw: Any) -> Model:
    return Model(
        pipeline=pipe,
        pipeline_name="ts-lr",
        classes=[str(c) for c in pipe.classes_],
        ch_names=list(CH),
        sfreq=250.0,
        band=(8.0, 30.0),
        window_s=0.4,
        **kw,
    )


@pytest.fixture(scope="module")
def good(fitted) -> bytes:
    return dump_model(_model(fitted[0], model_id="m-good"))


def _members(data: bytes) -> tuple[dict[str, Any], bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("card.json")), zf.read("pipeline.skops")


def _forge(card: dict[str, Any], pipe_bytes: bytes, rehash: bool = True) -> bytes:
    """A container as an attacker would build it: hashes recomputed to match the content."""
    card = dict(card)
    if rehash:
        card["pipeline_sha256"] = hashlib.sha256(pipe_bytes).hexdigest()
        body = {k: v for k, v in card.items() if k != "card_sha256"}
        canon = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        card["card_sha256"] = hashlib.sha256(canon).hexdigest()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("card.json", json.dumps(card))
        zf.writestr("pipeline.skops", pipe_bytes)
    return buf.getvalue()


def _edit_schema(pipe_bytes: bytes, edit) -> bytes:
    """Rewrite schema.json inside a skops archive."""
    src = zipfile.ZipFile(io.BytesIO(pipe_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name == "schema.json":
                content = json.dumps(edit(json.loads(content))).encode()
            dst.writestr(name, content)
    return out.getvalue()


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


# ---------------------------------------------------------------- pickles: never unpickled


def test_payload_really_creates_a_file(tmp_path):
    """The control: plain unpickling of the payload does run code."""
    target = tmp_path / "control"
    pickle.loads(pickle.dumps(FileCreator(target))).close()
    assert target.exists()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_upload_is_refused_without_running_it(tmp_path, protocol):
    target = tmp_path / "pwned"
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DataError, match="looks like a Python pickle, which bci never loads"):
        store.import_bytes(pickle.dumps(FileCreator(target), protocol=protocol))
    assert not target.exists()
    assert store.ids() == []


def test_pickle_on_disk_is_refused_without_running_it(tmp_path):
    target = tmp_path / "pwned"
    store = ModelStore(tmp_path / "models")
    store.root.mkdir()
    store.path("m-evil").write_bytes(pickle.dumps(FileCreator(target), protocol=2))
    with pytest.raises(DataError, match=r"m-evil\.bcimodel is not a bci model file .*pickle"):
        store.get("m-evil")
    assert not target.exists()


def test_pickle_inside_a_valid_container_is_refused(tmp_path, good):
    target = tmp_path / "pwned"
    card, _ = _members(good)
    forged = _forge(card, pickle.dumps(FileCreator(target)))
    with pytest.raises(DataError, match=r"pipeline\.skops is not a valid skops pipeline"):
        parse_model_bytes(forged, "the uploaded file")
    assert not target.exists()


# ---------------------------------------------------------------- skops with untrusted types


def test_skops_with_os_system_is_refused(good):
    import os

    card, _ = _members(good)
    evil = sio.dumps({"steps": os.system})
    with pytest.raises(DataError, match=r"names types that bci does not trust: .*system"):
        parse_model_bytes(_forge(card, evil))


def test_unknown_class_is_refused_before_its_module_is_imported(tmp_path, monkeypatch, good):
    """A schema naming a class from a module whose import has side effects: never imported."""
    target = tmp_path / "imported"
    mod = tmp_path / "bci_probe_evil.py"
    mod.write_text(f"open({str(target)!r}, 'w').close()\nclass Boom:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    card, pipe_bytes = _members(good)

    def swap(schema):
        for node in _walk(schema):
            if node.get("__class__") == "TangentSpace":
                node["__module__"], node["__class__"] = "bci_probe_evil", "Boom"
        return schema

    with pytest.raises(DataError, match=r"does not trust: bci_probe_evil\.Boom\. Only pipelines"):
        parse_model_bytes(_forge(card, _edit_schema(pipe_bytes, swap)))
    assert not target.exists()


def test_saving_an_untrusted_pipeline_is_refused(tmp_path, fitted):
    pipe = make_pipeline(Passthrough(), Covariances(), TangentSpace(), LogisticRegression())
    pipe.fit(fitted[1], fitted[0].classes_[np.arange(20) // 10])
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DecoderError, match=r"store does not trust: .*Passthrough\. If they are"):
        store.save(_model(pipe, model_id="m-x"))
    assert not store.root.exists() or store.ids() == []


# ---------------------------------------------------------------- foreign and damaged files


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b'{"id": "m-1"}', r"is not a bci model file .*starts with b'\{\"id\": \"m-1\"\}'"),
        (b"PK\x03\x04" + bytes(60), r"is damaged \(truncated or modified\)"),
    ],
)
def test_foreign_bytes(data, message):
    with pytest.raises(DataError, match=message):
        parse_model_bytes(data, "the uploaded file")


def test_zip_of_random_content(good):
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.bin", rng.bytes(500))
    with pytest.raises(DataError, match=r"expected exactly the members .* found \['data\.bin'\]"):
        parse_model_bytes(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("card.json", rng.bytes(500))
        zf.writestr("pipeline.skops", rng.bytes(500))
    with pytest.raises(DataError, match=r"card\.json is not valid JSON"):
        parse_model_bytes(buf.getvalue())
    card, _ = _members(good)
    with pytest.raises(DataError, match=r"pipeline\.skops is not a valid skops pipeline"):
        parse_model_bytes(_forge(card, rng.bytes(500)))


@pytest.mark.parametrize("keep", [0.5, 0.9, -1])
def test_truncated_file(good, keep):
    n = len(good) - 1 if keep == -1 else int(len(good) * keep)
    with pytest.raises(DataError, match=r"is damaged \(truncated or modified\)"):
        parse_model_bytes(good[:n])


def test_flipped_bytes_never_give_a_different_model(good, fitted):
    """Flip one byte at 60 places: each load fails clearly, or yields the very same model."""
    reference = parse_model_bytes(good)
    X = fitted[1][:3]
    rng = np.random.default_rng(7)
    failures = 0
    for pos in rng.choice(len(good), 60, replace=False):
        bad = bytearray(good)
        bad[pos] ^= 0xFF
        try:
            m = parse_model_bytes(bytes(bad))
        except (DataError, DecoderError) as exc:
            assert str(exc)
            failures += 1
            continue
        # only zip metadata no one reads (e.g. a timestamp) was hit
        assert m.card() == reference.card()
        np.testing.assert_array_equal(m.predict_proba(X), reference.predict_proba(X))
    assert failures >= 50


def test_modified_card_is_detected(good):
    card, pipe_bytes = _members(good)
    card["ch_names"] = ["O1", "Oz", "O2", "Pz"]
    with pytest.raises(DataError, match="the model card was modified after the model was saved"):
        parse_model_bytes(_forge(card, pipe_bytes, rehash=False))


def test_swapped_pipeline_is_detected(good, fitted):
    card, _ = _members(good)
    other = sio.dumps(make_pipeline(Covariances(), TangentSpace(), LogisticRegression()))
    with pytest.raises(DataError, match=r"pipeline\.skops does not match the pipeline_sha256"):
        parse_model_bytes(_forge(card, other, rehash=False))


def test_card_that_disagrees_with_its_pipeline(good):
    card, pipe_bytes = _members(good)
    card["classes"] = ["feet", "tongue"]
    with pytest.raises(DecoderError, match=r"card lists classes \['feet', 'tongue'\] but the pipe"):
        parse_model_bytes(_forge(card, pipe_bytes))


def test_not_a_classifier(good):
    card, _ = _members(good)
    with pytest.raises(DecoderError, match=r"stored object \(dict\) has no predict_proba"):
        parse_model_bytes(_forge(card, sio.dumps({"a": 1})))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "../../etc/passwd", r"id: Value error, must be 1-128 letters"),
        ("sfreq", -250, r"sfreq: Input should be greater than 0 \(got -250\)"),
        ("band", [30, 8], r"band: Value error, must be \(low, high\)"),
        ("ch_names", ["C3", "C3"], r"ch_names: Value error, names must be unique"),
        ("format", "something-else", r"card field 'format' is 'something-else'"),
        ("format_version", 99, r"model format version 99; this bci reads versions up to 1"),
    ],
)
def test_invalid_card_fields(good, field, value, message):
    card, pipe_bytes = _members(good)
    card[field] = value
    with pytest.raises(DataError, match=message):
        parse_model_bytes(_forge(card, pipe_bytes))


def test_model_ids_cannot_escape_the_folder(tmp_path, fitted):
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DecoderError, match=r"Model id '\.\./x' cannot be stored"):
        store.save(_model(fitted[0], model_id="../x"))
    assert list(tmp_path.iterdir()) == []


def test_oversized_upload(monkeypatch):
    import bci.decoders.store as store_mod

    monkeypatch.setattr(store_mod, "MAX_FILE_BYTES", 10)
    with pytest.raises(DataError, match="model files are limited to 10 bytes"):
        parse_model_bytes(b"PK\x03\x04" + bytes(20))


def test_suffix_constant():
    assert SUFFIX == ".bcimodel"
