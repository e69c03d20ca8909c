"""The model registry on disk: one safe file per model, with its model card.

A model file (``<id>.bcimodel``) is a zip container with exactly two members:

``card.json``
    The model card (:meth:`bci.decoders.model.Model.card`) plus ``format``,
    ``format_version``, ``pipeline_sha256`` (SHA-256 of ``pipeline.skops``) and
    ``card_sha256`` (SHA-256 of the canonical JSON of the card without that key).
``pipeline.skops``
    The fitted scikit-learn pipeline in the skops format.

Loading never executes code from a file: there is no pickle anywhere, the container and the
card are parsed with :mod:`zipfile` and :mod:`json`, both hashes are checked, and the pipeline is
rebuilt by skops only when every type it names is either one skops trusts by default
(builtins, numpy, scikit-learn) or on :data:`TRUSTED_TYPES` (the classes our pipelines use).
skops imports nothing before that check. The hashes detect corruption and careless edits;
the safety against a crafted file comes from the type allow-list, not from the hashes (anyone
can recompute a SHA-256).

Writes are atomic: a temporary file in the same folder, ``fsync``, then ``os.replace``.
"""

# Long module: the .bcimodel format (card, container, allow-listed loading) and the ModelStore that
# reads and writes it are one file-format contract, kept in one place so reader and writer change
# together.

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickletools
import re
import threading
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bci.decoders.model import Model
from bci.errors import DataError, DecoderError, ModelExistsError, ModelNotFoundError

__all__ = [
    "EARLIER_TYPES",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "SUFFIX",
    "TRUSTED_TYPES",
    "ModelExistsError",
    "ModelStore",
    "dump_model",
    "parse_model_bytes",
]

logger = logging.getLogger(__name__)

FORMAT = "bci-model"
FORMAT_VERSION = 1
SUFFIX = ".bcimodel"
CARD_MEMBER = "card.json"
PIPELINE_MEMBER = "pipeline.skops"
#: Largest model file accepted (download, upload, disk).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Largest uncompressed content of the container and of the skops archive inside it.
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
#: Largest compression ratio of a member above 1 MiB: fitted arrays compress a few times at
#: most; a zip bomb (zeros) compresses ~1000 times.
MAX_COMPRESSION_RATIO = 100

#: Types of files written by earlier versions of bci and still loaded: fgmdm models fitted
#: before it moved to :class:`bci.decoders.fgda.CholeskyFgMDM` hold pyRiemann's own classes.
EARLIER_TYPES: frozenset[str] = frozenset(
    {"pyriemann.classification.FgMDM", "pyriemann.tangentspace.FGDA"}
)
#: Types outside skops' default trust (builtins, numpy, scikit-learn) that our pipelines use.
#: Found with ``skops.io.get_untrusted_types`` on files made from every registered pipeline
#: (``tests/decoders/test_store_roundtrip.py`` checks that the list stays exact). A file that
#: names any other such type is refused before anything is built or imported.
TRUSTED_TYPES: frozenset[str] = EARLIER_TYPES | frozenset(
    {
        "bci.decoders.fgda.CholeskyFGDA",
        "bci.decoders.fgda.CholeskyFgMDM",
        "bci.decoders.filterbank.FilterBankTangentSpace",
        "bci.decoders.recentering.Recentering",
        "bci.decoders.selection.NestedSelection",
        "bci.decoders.selection.SoftVote",
        "mne.decoding.csp.CSP",
        "pyriemann.classification.MDM",
        "pyriemann.estimation.Covariances",
        "pyriemann.tangentspace.TangentSpace",
        # private scikit-learn helpers of CalibratedClassifierCV (ts-svm, fbts-svm)
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
    }
)

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_PICKLE_HINT = (
    "it looks like a Python pickle, which bci never loads because unpickling can run "
    "arbitrary code; export the model with `bci` (GET /models/{id}/file) instead"
)


# --------------------------------------------------------------------------- the card


class _Card(BaseModel):
    """The stored card, validated field by field (a file may come from anywhere)."""

    model_config = ConfigDict(extra="ignore")

    format: str
    format_version: int = Field(ge=1)
    id: str
    created: str
    pipeline: str = Field(min_length=1)
    params: dict[str, Any] = {}
    classes: list[str] = Field(min_length=2)
    ch_names: list[str] = Field(min_length=1)
    sfreq: float = Field(gt=0)
    band: tuple[float, float]
    window_s: float = Field(gt=0)
    cv_score: float | None = None
    cv_metric: str | None = None
    n_trials: int = Field(0, ge=0)
    fingerprint: str = ""
    paradigm: str | None = None
    versions: dict[str, str] = {}
    source: dict[str, Any] | None = None
    pipeline_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    card_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("id")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError(
                "must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit"
            )
        return v

    @field_validator("ch_names", "classes")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"names must be unique, got {v}")
        return v

    @field_validator("band")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= v[0] < v[1]:
            raise ValueError(f"must be (low, high) with 0 <= low < high, got {list(v)}")
        return v


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _canonical(card: dict[str, Any]) -> bytes:
    body = {k: v for k, v in card.items() if k != "card_sha256"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _public(card: dict[str, Any], size: int) -> dict[str, Any]:
    out = {k: v for k, v in card.items() if k not in ("format", "format_version", "card_sha256")}
    out["size_bytes"] = size
    return out


# --------------------------------------------------------------------------- file format


def dump_model(model: Model) -> bytes:
    """Serialise ``model`` to the bytes of a ``.bcimodel`` file.

    Raises
    ------
    DecoderError
        The pipeline cannot be serialised, or it contains a type outside the trusted list (the
        file could not be loaded back, so it is not written).
    """
    import skops.io as sio

    if not _ID_RE.match(str(model.model_id)):
        raise DecoderError(
            f"Model id {model.model_id!r} cannot be stored: use 1-128 letters, digits, '_', '.' "
            "or '-', starting with a letter or digit"
        )
    try:
        pipe_bytes = sio.dumps(model.pipeline, compression=zipfile.ZIP_DEFLATED)
    except Exception as exc:
        raise DecoderError(
            f"Cannot serialise the pipeline of model {model.model_id}: {exc}"
        ) from exc
    untrusted = set(sio.get_untrusted_types(data=pipe_bytes)) - TRUSTED_TYPES
    if untrusted:
        raise DecoderError(
            f"Model {model.model_id} cannot be stored: its pipeline contains types the model "
            f"store does not trust: {', '.join(sorted(untrusted))}. If they are safe to rebuild "
            "from data, add them to TRUSTED_TYPES in bci/decoders/store.py"
        )
    card: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, **model.card()}
    card["pipeline_sha256"] = _sha256(pipe_bytes)
    try:
        card["card_sha256"] = _sha256(_canonical(card))
        card_bytes = json.dumps(card, indent=2, default=_json_default).encode()
    except (TypeError, ValueError) as exc:
        raise DecoderError(
            f"The card of model {model.model_id} cannot be written as JSON: {exc}"
        ) from exc
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(CARD_MEMBER, card_bytes)
        # skops already compressed its members; the outer zip only stores it.
        zf.writestr(PIPELINE_MEMBER, pipe_bytes, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def _is_pickle(data: bytes) -> bool:
    """True for a pickle stream (parsed with pickletools: opcodes only, nothing executed)."""
    if data[:1] == b"\x80":  # protocol 2+ header
        return True
    try:
        ops = [op.name for op, _, _ in pickletools.genops(data[: 1024 * 1024])]
    except Exception:
        return False
    return bool(ops) and ops[-1] == "STOP"


def _describe_foreign(data: bytes) -> str:
    if _is_pickle(data):
        return _PICKLE_HINT
    return f"it starts with {data[:16]!r}"


def _check_members(infos: list[zipfile.ZipInfo], source: str, what: str) -> None:
    """Refuse a zip whose declared sizes or compression ratios are out of bounds (no I/O)."""
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise DataError(
            f"{source}: {what} unpacks to {total} bytes; the limit is {MAX_UNCOMPRESSED_BYTES}"
        )
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > MAX_COMPRESSION_RATIO * max(
            i.compress_size, 1
        ):
            raise DataError(
                f"{source}: {what} member {i.filename!r} expands {i.compress_size} bytes to "
                f"{i.file_size} (more than {MAX_COMPRESSION_RATIO}x): refused as a zip bomb"
            )


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> bytes:
    """A member's bytes, read in pieces; never more than its declared size (checked by CRC)."""
    out = bytearray()
    with zf.open(info) as f:
        while piece := f.read(1 << 16):
            out += piece
            if len(out) > info.file_size:  # zipfile stops at the declared size; belt and braces
                raise DataError(f"{source}: member {info.filename!r} is larger than declared")
    return bytes(out)


def _read_container(data: bytes, source: str) -> tuple[dict[str, Any], _Card, bytes]:
    """Check the container, the card and both hashes.

    Returns
    -------
    raw : dict
        The card as stored.
    card : _Card
        The validated card.
    pipe_bytes : bytes
        The skops archive (not opened yet).
    """
    if not data:
        raise DataError(f"{source} is empty")
    if len(data) > MAX_FILE_BYTES:
        raise DataError(
            f"{source} is {len(data)} bytes; model files are limited to {MAX_FILE_BYTES} bytes"
        )
    if not data.startswith(b"PK\x03\x04"):
        raise DataError(
            f"{source} is not a bci model file (a zip with {CARD_MEMBER} and "
            f"{PIPELINE_MEMBER}): {_describe_foreign(data)}"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            if sorted(names) != sorted([CARD_MEMBER, PIPELINE_MEMBER]):
                raise DataError(
                    f"{source} is not a bci model file: expected exactly the members "
                    f"{[CARD_MEMBER, PIPELINE_MEMBER]}, found {names[:10]}"
                )
            _check_members(infos, source, "the container")
            by_name = {i.filename: i for i in infos}
            card_bytes = _read_member(zf, by_name[CARD_MEMBER], source)
            pipe_bytes = _read_member(zf, by_name[PIPELINE_MEMBER], source)
    except DataError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, ...: all mean damaged
        raise DataError(
            f"{source} is damaged (truncated or modified): {type(exc).__name__}: {exc}"
        ) from None
    try:
        raw = json.loads(card_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{source}: {CARD_MEMBER} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise DataError(
            f"{source}: {CARD_MEMBER} must hold a JSON object, got {type(raw).__name__}"
        )
    if raw.get("format") != FORMAT:
        raise DataError(
            f"{source} is not a bci model file: card field 'format' is {raw.get('format')!r}, "
            f"expected {FORMAT!r}"
        )
    version = raw.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DataError(
            f"{source} has model format version {version!r}; this bci reads versions up to "
            f"{FORMAT_VERSION}: upgrade bci"
        )
    try:
        card = _Card.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise DataError(f"{source} has an invalid model card: {problems}") from None
    if _sha256(_canonical(raw)) != card.card_sha256:
        raise DataError(
            f"{source} failed its integrity check: the model card was modified after the "
            "model was saved (card_sha256 does not match)"
        )
    if _sha256(pipe_bytes) != card.pipeline_sha256:
        raise DataError(
            f"{source} failed its integrity check: {PIPELINE_MEMBER} does not match the "
            "pipeline_sha256 in its card (the file was modified or damaged)"
        )
    return raw, card, pipe_bytes


def _load_pipeline(pipe_bytes: bytes, source: str) -> Any:
    """Rebuild the pipeline with skops after the trusted-type audit."""
    import skops.io as sio

    try:
        with zipfile.ZipFile(io.BytesIO(pipe_bytes)) as zf:
            _check_members(zf.infolist(), source, "the pipeline")
        # Reads the schema only: nothing is imported or built here.
        untrusted = set(sio.get_untrusted_types(data=pipe_bytes))
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"{source}: {PIPELINE_MEMBER} is not a valid skops pipeline: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    refused = untrusted - TRUSTED_TYPES
    if refused:
        raise DataError(
            f"{source} was refused: its pipeline names types that bci does not trust: "
            f"{', '.join(sorted(refused))}. Only pipelines built from bci's registered "
            f"components load (trusted beyond scikit-learn and numpy: "
            f"{', '.join(sorted(TRUSTED_TYPES))})"
        )
    try:
        return sio.loads(pipe_bytes, trusted=sorted(TRUSTED_TYPES))
    except Exception as exc:
        raise DecoderError(
            f"{source}: the pipeline could not be rebuilt: {type(exc).__name__}: {exc}"
        ) from None


def _warn_versions(model_id: str, trained: dict[str, str]) -> None:
    from bci.decoders.model import library_versions

    now = library_versions()
    differ = [
        f"{pkg} {trained[pkg]} (installed {now[pkg]})"
        for pkg in ("numpy", "scikit-learn", "pyriemann", "mne")
        if pkg in trained and trained[pkg] != now.get(pkg)
    ]
    if differ:
        logger.warning(
            "model %s was trained with %s: its predictions may differ slightly",
            model_id,
            ", ".join(differ),
        )


def parse_model_bytes(data: bytes, source: str = "model file") -> Model:
    """Check and load the bytes of a ``.bcimodel`` file. Never executes code from ``data``.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : str
        How to name the file in error messages.

    Raises
    ------
    DataError
        Not a model file, damaged, modified, invalid card, or untrusted types.
    DecoderError
        The pipeline could not be rebuilt or does not agree with its card.
    """
    _, card, pipe_bytes = _read_container(data, source)
    pipeline = _load_pipeline(pipe_bytes, source)
    if not hasattr(pipeline, "predict_proba"):
        raise DecoderError(
            f"{source}: the stored object ({type(pipeline).__name__}) has no predict_proba; "
            "a model must hold a fitted classifier pipeline"
        )
    fitted = getattr(pipeline, "classes_", None)
    if fitted is not None and [str(c) for c in fitted] != list(card.classes):
        raise DecoderError(
            f"{source}: the card lists classes {card.classes} but the pipeline predicts "
            f"{[str(c) for c in fitted]}"
        )
    _warn_versions(card.id, card.versions)
    return Model(
        pipeline=pipeline,
        pipeline_name=card.pipeline,
        classes=list(card.classes),
        ch_names=list(card.ch_names),
        sfreq=float(card.sfreq),
        band=(float(card.band[0]), float(card.band[1])),
        window_s=float(card.window_s),
        model_id=card.id,
        created=card.created,
        params=dict(card.params),
        cv_score=card.cv_score,
        cv_metric=card.cv_metric,
        n_trials=card.n_trials,
        fingerprint=card.fingerprint,
        paradigm=card.paradigm,
        versions=dict(card.versions),
        source=None if card.source is None else dict(card.source),
    )


# --------------------------------------------------------------------------- the store


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"Cannot write model file {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # some filesystems cannot fsync a directory; the data is already safe
        pass


class ModelStore:
    """Models on disk under ``root`` (normally ``settings.data_dir / "models"``).

    Thread-safe. :meth:`get` keeps loaded models in memory and notices files changed or removed
    by another process (``bci models rm``).

    Parameters
    ----------
    root : Path
        Folder of the ``<id>.bcimodel`` files; created on the first save.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._lock = threading.RLock()
        self._models: dict[str, tuple[Model, tuple[int, int, int]]] = {}
        self._cards: dict[str, tuple[dict[str, Any], tuple[int, int, int]]] = {}

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    # ----------------------------------------------------------------- paths
    def path(self, model_id: str) -> Path:
        """The file of ``model_id`` (it may not exist)."""
        if not isinstance(model_id, str) or not _ID_RE.match(model_id):
            raise ModelNotFoundError(
                f"No model with id {model_id!r}: model ids are letters, digits, '_', '.' or '-'"
            )
        return self.root / f"{model_id}{SUFFIX}"

    def ids(self) -> list[str]:
        """Ids of the stored models, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name[: -len(SUFFIX)]
            for p in self.root.glob(f"*{SUFFIX}")
            if not p.name.startswith(".")
        )

    def __contains__(self, model_id: object) -> bool:
        return (
            isinstance(model_id, str)
            and bool(_ID_RE.match(model_id))
            and (self.path(model_id).is_file())
        )

    def __len__(self) -> int:
        return len(self.ids())

    def _not_found(self, model_id: str) -> ModelNotFoundError:
        ids = self.ids()
        known = ", ".join(ids[:20]) + (f" ... ({len(ids) - 20} more)" if len(ids) > 20 else "")
        return ModelNotFoundError(f"No model with id {model_id!r}. Known models: {known or 'none'}")

    def _stamp(self, model_id: str) -> tuple[Path, tuple[int, int, int]]:
        path = self.path(model_id)
        try:
            st = path.stat()
        except FileNotFoundError:
            with self._lock:
                self._models.pop(model_id, None)
                self._cards.pop(model_id, None)
            raise self._not_found(model_id) from None
        return path, (st.st_mtime_ns, st.st_size, st.st_ino)

    # ----------------------------------------------------------------- write
    def save(self, model: Model) -> Path:
        """Write ``model`` (replacing a file with the same id) and cache it.

        Returns
        -------
        path : Path
            The model file.
        """
        data = dump_model(model)
        path = self.root / f"{model.model_id}{SUFFIX}"
        with self._lock:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataError(f"Cannot create the model folder {self.root}: {exc}") from exc
            _atomic_write(path, data)
            _, stamp = self._stamp(model.model_id)
            self._models[model.model_id] = (model, stamp)
            self._cards.pop(model.model_id, None)
        logger.info("stored model %s (%s) in %s", model.model_id, model.pipeline_name, path)
        return path

    def import_bytes(self, data: bytes) -> Model:
        """Check, load and store an uploaded model file.

        Uploading the same file twice is harmless (the stored model is returned).

        Raises
        ------
        DataError, DecoderError
            The bytes are not a valid, untampered model file with trusted types only.
        ModelExistsError
            A different model with the same id is stored.
        """
        model = parse_model_bytes(data, "the uploaded file")
        mid = model.model_id
        with self._lock:
            if mid in self:
                path = self.path(mid)
                _, old, _ = _read_container(self._read(path), f"Model file {path}")
                _, new, _ = _read_container(data, "the uploaded file")
                if (old.pipeline_sha256, old.card_sha256) == (
                    new.pipeline_sha256,
                    new.card_sha256,
                ):
                    return self.get(mid)
                raise ModelExistsError(
                    f"A different model with id {mid!r} is already stored; delete it first "
                    f"(DELETE /models/{mid} or `bci models rm {mid}`) to replace it"
                )
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataError(f"Cannot create the model folder {self.root}: {exc}") from exc
            path = self.root / f"{mid}{SUFFIX}"
            _atomic_write(path, data)  # the exact bytes: a re-download is identical
            _, stamp = self._stamp(mid)
            self._models[mid] = (model, stamp)
        logger.info("imported model %s (%s)", mid, model.pipeline_name)
        return model

    def delete(self, model_id: str) -> dict[str, Any]:
        """Remove a model file; returns its card."""
        with self._lock:
            card = self.card(model_id)
            try:
                self.path(model_id).unlink()
            except FileNotFoundError:
                raise self._not_found(model_id) from None
            except OSError as exc:
                raise DataError(f"Cannot delete model {model_id}: {exc}") from exc
            self._models.pop(model_id, None)
            self._cards.pop(model_id, None)
        logger.info("deleted model %s", model_id)
        return card

    # ----------------------------------------------------------------- read
    def load(self, model_id: str) -> Model:
        """Read and check a model from disk (no cache)."""
        path, _ = self._stamp(model_id)
        return parse_model_bytes(self._read(path), f"Model file {path}")

    def get(self, model_id: str) -> Model:
        """The model ``model_id``, from memory when its file is unchanged.

        Raises
        ------
        ModelNotFoundError
            No such model ("No model with id 'x'. Known models: ...").
        """
        with self._lock:
            path, stamp = self._stamp(model_id)
            hit = self._models.get(model_id)
            if hit is not None and hit[1] == stamp:
                return hit[0]
            model = parse_model_bytes(self._read(path), f"Model file {path}")
            self._models[model_id] = (model, stamp)
            return model

    def card(self, model_id: str) -> dict[str, Any]:
        """The model card of ``model_id`` (checked, without rebuilding the pipeline)."""
        with self._lock:
            path, stamp = self._stamp(model_id)
            hit = self._cards.get(model_id)
            if hit is not None and hit[1] == stamp:
                return dict(hit[0])
            raw, _, _ = _read_container(self._read(path), f"Model file {path}")
            card = _public(raw, stamp[1])
            self._cards[model_id] = (card, stamp)
            return dict(card)

    def list(self) -> list[dict[str, Any]]:
        """Cards of every readable model, oldest first. Unreadable files are logged, skipped."""
        cards = []
        for mid in self.ids():
            try:
                cards.append(self.card(mid))
            except ModelNotFoundError:
                continue  # removed meanwhile
            except (DataError, DecoderError) as exc:
                logger.warning("skipping unreadable model file: %s", exc)
        return sorted(cards, key=lambda c: (c["created"], c["id"]))

    def export_bytes(self, model_id: str) -> bytes:
        """The model file, checked, for download."""
        path, _ = self._stamp(model_id)
        data = self._read(path)
        _read_container(data, f"Model file {path}")
        return data

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise DataError(
                    f"Model file {path} is {size} bytes; model files are limited to "
                    f"{MAX_FILE_BYTES} bytes"
                )
            return path.read_bytes()
        except OSError as exc:
            raise DataError(f"Cannot read model file {path}: {exc}") from exc
