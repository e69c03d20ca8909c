"""Service settings, read once from the environment (prefix ``BCI_``) or a TOML file.

Also locates the shipped ``configs/`` folder (headsets, paradigms, LSL configuration).
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bci.errors import ConfigError
from bci.registry import Registry

__all__ = [
    "Settings",
    "configs_dir",
    "get_settings",
    "load_registry",
    "load_settings",
    "load_toml_model",
]

_PKG_DIR = Path(__file__).resolve().parent


def configs_dir() -> Path:
    """Folder of the shipped configuration files.

    In a wheel the files live in ``bci/_configs``; in a source checkout (editable install,
    tests) they are the repository's ``configs/``.
    """
    for candidate in (_PKG_DIR / "_configs", _PKG_DIR.parent / "configs"):
        if (candidate / "headsets").is_dir():
            return candidate
    raise ConfigError(
        f"Cannot find the bci configuration folder (looked in {_PKG_DIR / '_configs'} and "
        f"{_PKG_DIR.parent / 'configs'}); reinstall the package"
    )


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bci"


class Settings(BaseSettings):
    """Settings of the service and the command line.

    Every field can be set with an environment variable ``BCI_<FIELD>`` (for example
    ``BCI_PORT=8001``) or in a TOML file given to ``bci serve --config FILE``.
    """

    model_config = SettingsConfigDict(env_prefix="BCI_", extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    data_dir: Path = Field(default_factory=_default_data_dir)
    # Real EEG data folder in MNE's layout (PhysioNet eegmmidb); None -> MNE's default.
    data_path: Path | None = None
    # Folder of the MOABB benchmark's result tables (CSV); None -> no reference column.
    reference_path: Path | None = None
    # LSL discovery stays on this machine unless a user with a LAN headset turns it off.
    lsl_loopback: bool = True
    lsl_config: Path | None = None
    resolve_timeout: float = Field(2.0, gt=0, le=60)
    window_s: float = Field(2.0, gt=0, le=30)
    step_s: float = Field(1 / 16, gt=0, le=10)
    l_freq: float = Field(8.0, gt=0)
    h_freq: float = Field(30.0, gt=0)
    pipeline: str = "ts-lr"
    headset: str = "openbci-cyton"
    # A session whose inlet delivers nothing for this long is reported as stalled.
    stall_timeout_s: float = Field(1.0, gt=0)
    ws_queue_size: int = Field(256, ge=1)
    # Sessions sharing a model are decoded with one call per engine round (bench/capacity.py).
    engine_batch: bool = True
    # Every session records raw EEG, markers and predictions to data_dir/recordings/*.xdf.
    record: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("h_freq")
    @classmethod
    def _band_ordered(cls, v: float, info: Any) -> float:
        lo = info.data.get("l_freq")
        if lo is not None and v <= lo:
            raise ValueError(f"h_freq must be above l_freq ({lo}), got {v}")
        return v


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, a TOML file (if given) and keyword overrides.

    Raises
    ------
    ConfigError
        The file is missing or not valid TOML, or a field has a bad value (the field is named).
    """
    values: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            values.update(tomllib.loads(p.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"Settings file {p} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Settings file {p} is not valid TOML: {exc}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise ConfigError(f"Invalid settings: {problems}") from None


M = TypeVar("M", bound=BaseModel)


def load_toml_model(path: str | Path, model: type[M], kind: str) -> M:
    """Parse one TOML file into a frozen pydantic model; a bad file fails with the field named.

    Parameters
    ----------
    kind : str
        What the file is ("Headset", "Paradigm"), for the message.
    """
    p = Path(path)
    try:
        return model(**tomllib.loads(p.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"{kind} file {p} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{kind} file {p} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{kind} file {p}: field {field!r}: {err['msg']}") from None


def load_registry(folder: str, model: type[M], kind: str) -> Registry[M]:
    """Every ``configs/<folder>/*.toml`` parsed into ``model``, by its ``name`` field."""
    reg: Registry[M] = Registry(kind.lower())
    for f in sorted((configs_dir() / folder).glob("*.toml")):
        item = load_toml_model(f, model, kind)
        reg.register(item.name, item)  # type: ignore[attr-defined]
    return reg


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment only), read once."""
    return load_settings()
