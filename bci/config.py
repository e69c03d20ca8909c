"""Service settings, read once from the environment (prefix ``BCI_``) or a TOML file.

Also locates the shipped ``configs/`` folder (headsets, paradigms, LSL configuration).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bci.errors import ConfigError
from bci.registry import Registry

__all__ = [
    "Settings",
    "client_token",
    "configs_dir",
    "get_settings",
    "is_loopback",
    "load_registry",
    "load_settings",
    "load_toml_model",
    "service_token",
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
    # A decision goes to each WebSocket client as one frame built once and written to its
    # socket (bci/api/frames.py); false sends every message over ASGI (bench/capacity.py).
    ws_direct: bool = True
    # Sessions sharing a model are decoded with one call per engine round (bench/capacity.py).
    engine_batch: bool = True
    # An engine round (poll every session, decode what is due) starts every this many ms:
    # the most a chunk waits to be pulled; shorter polls more (bench/capacity.py).
    engine_period_ms: float = Field(4.0, gt=0, le=1000)
    # After a chunk, a session is not polled for this fraction of its chunk interval
    # (at most 25 ms). Off by default: it saves a few % of a core at 50 sessions and costs
    # a few ms of median latency (README "Capacity").
    engine_hold: float = Field(0.0, ge=0, lt=1)
    # Every session records raw EEG, markers and predictions to data_dir/recordings/*.xdf.
    record: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # ---- security (README "Security"): who may call the API, from where, with what
    # The bearer token; None -> generated once into data_dir/token (mode 0600).
    token: SecretStr | None = None
    # Extra browser origins allowed on the WebSocket and by CORS, e.g. "http://tablet.lan:5173".
    # The service's own origin (same host and port) and loopback origins are always allowed.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Extra Host header values served (the names this machine is reached by on the LAN).
    # Loopback names, the bound address and this machine's hostname are always trusted.
    trusted_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Folders whose files POST /replays may publish (besides data_dir/recordings).
    replay_roots: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    # Largest JSON request body; model uploads have their own cap (the model file limit).
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_concurrent_uploads: int = Field(2, ge=1, le=16)
    # POST /models/train runs at once (each a few seconds of CPU on a 2-core machine).
    max_concurrent_trainings: int = Field(2, ge=1, le=16)
    # WebSocket events a client may send per second (token bucket; burst = 2 s of rate).
    ws_event_rate: float = Field(20.0, gt=0, le=10_000)
    # Stream resolutions (POST /sessions, GET /streams) running at once, and waiting at most.
    max_concurrent_resolves: int = Field(4, ge=1, le=32)
    max_pending_resolves: int = Field(16, ge=0, le=1024)

    @field_validator("allowed_origins", "trusted_hosts", "replay_roots", mode="before")
    @classmethod
    def _split_list(cls, v: Any) -> Any:
        """``BCI_REPLAY_ROOTS=/a:/b`` or ``"a,b"`` or a JSON list, as well as a TOML list."""
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                import json

                return json.loads(v)
            sep = "," if "," in v or "://" in v else os.pathsep
            return [x.strip() for x in v.split(sep) if x.strip()]
        return v

    @field_validator("token")
    @classmethod
    def _token_strong(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 16:
            raise ValueError(
                f"token must be at least 16 characters, got {len(v.get_secret_value())}"
            )
        return v

    @field_validator("h_freq")
    @classmethod
    def _band_ordered(cls, v: float, info: Any) -> float:
        lo = info.data.get("l_freq")
        if lo is not None and v <= lo:
            raise ValueError(f"h_freq must be above l_freq ({lo}), got {v}")
        return v


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the service on this machine (127.0.0.0/8, ::1, localhost)."""
    h = host.strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def service_token(settings: Settings) -> str:
    """The API bearer token: ``settings.token`` (``BCI_TOKEN``), else the one in ``data_dir``.

    On first use a random token (256 bits) is written to ``data_dir/token`` with mode 0600;
    later starts read it back. Delete the file (or set ``BCI_TOKEN``) to rotate it.

    Raises
    ------
    ConfigError
        The token file cannot be written or read, or is readable by other users.
    """
    if settings.token is not None:
        return settings.token.get_secret_value()
    path = Path(settings.data_dir) / "token"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"Cannot create the token file {path}: {exc}") from exc
    else:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
    try:
        mode = path.stat().st_mode & 0o777
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the token file {path}: {exc}") from exc
    if mode & 0o077:
        raise ConfigError(
            f"The token file {path} has mode {mode:o}; it must be readable by its owner only: "
            f"chmod 600 {path}"
        )
    if len(token) < 16:
        raise ConfigError(
            f"The token file {path} holds {len(token)} characters, expected at least 16: "
            "delete it to generate a new token"
        )
    return token


def client_token(settings: Settings) -> str | None:
    """The token a local client (``bci calibrate``) sends: ``BCI_TOKEN``, else the token file.

    Never creates a file: None when neither exists.
    """
    if settings.token is not None:
        return settings.token.get_secret_value()
    try:
        return (Path(settings.data_dir) / "token").read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


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
