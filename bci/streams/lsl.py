"""Lab Streaming Layer: loading liblsl, stream metadata, discovery, outlet names.

The inlets are in :mod:`bci.streams.inlets`.

liblsl reads its configuration file at first use; :func:`get_pylsl` points ``LSLAPICFG`` at
the project's loopback-only configuration before that, unless the user set ``LSLAPICFG``
themselves or turned loopback off (``BCI_LSL_LOOPBACK=false``) to reach a headset on the LAN.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bci.errors import LSLUnavailableError, StreamError, StreamNotFoundError
from bci.streams.lsl_header import parse_header
from bci.types import StreamDescription

__all__ = [
    "configure_lsl",
    "describe",
    "get_pylsl",
    "held_call",
    "instance_id",
    "liblsl_status",
    "list_streams",
    "local_clock",
    "lost_error",
    "make_eeg_info",
    "make_marker_info",
    "resolve_stream",
    "service_outlet_ids",
]

logger = logging.getLogger(__name__)

_LSL_FIX = (
    "liblsl (the Lab Streaming Layer library) could not be loaded: {err}. "
    "pylsl >= 1.18 bundles liblsl for Linux x86_64 with glibc >= 2.35; elsewhere install "
    "liblsl (https://github.com/sccn/liblsl/releases, or `pip install mne-lsl` whose wheels "
    "bundle it) and set PYLSL_LIB to the path of liblsl.so / liblsl.dylib / lsl.dll."
)

_lock = threading.Lock()
_pylsl: ModuleType | None = None
_configured = False


def _loopback_cfg() -> Path:
    from bci.config import configs_dir

    return configs_dir() / "lsl" / "loopback.cfg"


def configure_lsl(loopback: bool = True, cfg: str | Path | None = None) -> str | None:
    """Choose liblsl's configuration file before its first use.

    Parameters
    ----------
    loopback : bool
        Keep discovery on 127.0.0.1 (tests, demo, synthetic headsets on this machine).
    cfg : path or None
        An explicit liblsl configuration file; wins over ``loopback``.

    Returns
    -------
    path : str or None
        The configuration file liblsl will read, or None for liblsl's defaults.
    """
    global _configured
    with _lock:
        if cfg is not None:
            os.environ["LSLAPICFG"] = str(cfg)
        elif loopback and "LSLAPICFG" not in os.environ:
            os.environ["LSLAPICFG"] = str(_loopback_cfg())
        _configured = True
        return os.environ.get("LSLAPICFG")


def get_pylsl() -> ModuleType:
    """Import pylsl (configuring LSL first); a clear error if liblsl cannot be loaded."""
    global _pylsl
    if _pylsl is not None:
        return _pylsl
    if not _configured:
        from bci.config import get_settings

        s = get_settings()
        configure_lsl(s.lsl_loopback, s.lsl_config)
    try:
        import pylsl

        pylsl.library_version()
    except Exception as exc:  # ImportError, OSError, RuntimeError from the loader
        raise LSLUnavailableError(_LSL_FIX.format(err=exc)) from exc
    _pylsl = pylsl
    return pylsl


def liblsl_status() -> dict[str, Any]:
    """What `bci sys-info` reports about liblsl."""
    try:
        pylsl = get_pylsl()
    except LSLUnavailableError as exc:
        return {"found": False, "error": str(exc)}
    return {
        "found": True,
        "library_version": pylsl.library_version(),
        "library_info": pylsl.library_info(),
        "pylsl_version": getattr(pylsl, "__version__", "unknown"),
        "config": os.environ.get("LSLAPICFG"),
    }


def held_call(name: str, restype: Any, argtypes: list[Any]) -> Any | None:
    """liblsl's function ``name`` called *without* letting go of the GIL, or None.

    pylsl loads liblsl with ``ctypes.CDLL``, which releases the GIL around every call. For
    the engine's calls that never wait (``lsl_samples_available``, ``lsl_local_clock``:
    well under a microsecond of C), that release is pure cost: when the event loop's thread
    wants the GIL it takes it at each release, and the engine thread then waits for it to
    come back (a GIL convoy). The same library loaded with ``ctypes.PyDLL`` (dlopen gives
    the same handle) keeps the GIL. Never use it for a call that can block. None when the
    library cannot be reached this way (a pylsl without ``pylsl.lib.lib``): callers fall
    back to pylsl's own method.
    """
    global _held_dll
    try:
        if _held_dll is None:
            import ctypes

            get_pylsl()
            from pylsl.lib import lib

            _held_dll = ctypes.PyDLL(lib._name)
        fn = getattr(_held_dll, name)
    except Exception:  # an unusual pylsl build: keep pylsl's calls
        logger.debug("liblsl %s not reachable through PyDLL", name, exc_info=True)
        return None
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


_held_dll: Any = None
_held_clock: Any = None


def local_clock() -> float:
    """The LSL clock (seconds), the one time base of samples, markers and predictions."""
    global _held_clock
    if _held_clock is None:
        import ctypes

        _held_clock = held_call("lsl_local_clock", ctypes.c_double, []) or (get_pylsl().local_clock)
    return float(_held_clock())


def make_eeg_info(
    name: str,
    ch_names: list[str] | tuple[str, ...],
    sfreq: float,
    source_id: str,
    stype: str = "EEG",
    units: str = "microvolts",
    manufacturer: str = "bci",
    fmt: str = "float32",
) -> Any:
    """A pylsl ``StreamInfo`` for EEG with channel labels, units and types in desc.

    ``fmt`` is the channel format (float32, double64, int8, int16, int32, int64).
    """
    pylsl = get_pylsl()
    try:
        cf = getattr(pylsl, f"cf_{fmt}")
    except AttributeError:
        raise StreamError(f"fmt must be an LSL numeric channel format, got {fmt!r}") from None
    info = pylsl.StreamInfo(name, stype, len(ch_names), float(sfreq), cf, source_id)
    desc = info.desc()
    desc.append_child_value("manufacturer", manufacturer)
    chans = desc.append_child("channels")
    for ch in ch_names:
        c = chans.append_child("channel")
        c.append_child_value("label", ch)
        c.append_child_value("unit", units)
        c.append_child_value("type", "EEG")
    return info


def make_marker_info(name: str, source_id: str, stype: str = "Markers") -> Any:
    """A pylsl ``StreamInfo`` for an irregular string marker stream."""
    pylsl = get_pylsl()
    return pylsl.StreamInfo(name, stype, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, source_id)


def describe(info: Any) -> StreamDescription:
    """Turn a pylsl ``StreamInfo`` into a :class:`StreamDescription` (its full header)."""
    return parse_header(info.as_xml())


def lost_error() -> type[BaseException]:
    """pylsl's ``LostError`` (in ``pylsl.util`` since 1.18; at the top level before)."""
    pylsl = get_pylsl()
    try:
        from pylsl.util import LostError

        return LostError  # type: ignore[no-any-return]
    except ImportError:
        return getattr(pylsl, "LostError", RuntimeError)  # type: ignore[no-any-return]


def instance_id(*parts: object) -> str:
    """A short id of this service instance, stable across restarts of the same service.

    Derived from the host name and ``parts`` (the service's data folder and port), so two
    services on one machine get different ids and a restarted one gets its old id back
    (LSL inlets with ``recover`` reattach to an outlet with the same ``source_id``).
    """
    import hashlib
    import socket

    key = "|".join([socket.gethostname(), *map(str, parts)])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:6]


def service_outlet_ids(instance: str, session_id: str, kind: str) -> tuple[str, str]:
    """Name and source_id of an outlet the service creates for a session (cues, predictions).

    Returns
    -------
    name : str
        ``bci-session-{session_id}-{kind}-{instance}``: unique per service on a machine.
    source_id : str
        ``bci.{instance}.session-{session_id}.{kind}``: stable across restarts.
    """
    return (
        f"bci-session-{session_id}-{kind}-{instance}",
        f"bci.{instance}.session-{session_id}.{kind}",
    )


def _wait(timeout: float) -> float:
    """``timeout`` for a liblsl resolve, nudged off exactly 0.5 s.

    liblsl 1.16 (pylsl 1.18.6) takes 5.5 s, not 0.5 s, for a resolve whose wait time is
    exactly 0.5 s (``resolve_streams(0.5)`` and ``resolve_bypred(..., 0.5)``; 0.49 and 0.51
    take what they say; measured here). 0.51 keeps the caller's intent.
    """
    return 0.51 if abs(timeout - 0.5) < 1e-6 else timeout


def list_streams(timeout: float = 1.0, full: bool = True) -> list[StreamDescription]:
    """Every LSL stream visible within ``timeout`` seconds.

    With ``full``, each stream's full metadata (channel labels) is fetched too, within one more
    ``timeout`` in total (streams left when it is spent keep the short header), so the call
    takes at most about twice ``timeout`` however many streams are on the network.
    """
    pylsl = get_pylsl()
    out = []
    infos = pylsl.resolve_streams(wait_time=_wait(timeout))
    deadline = time.monotonic() + timeout
    for info in infos:
        left = deadline - time.monotonic()
        out.append(describe(_full_info(info, min(1.0, left)) if full and left > 0.01 else info))
    return sorted(out, key=lambda d: (d.name, d.source_id))


def _full_info(info: Any, timeout: float = 1.0) -> Any:
    """The resolver returns a short header; an inlet's ``info()`` has the desc (channels)."""
    pylsl = get_pylsl()
    try:
        inlet = pylsl.StreamInlet(info, max_buflen=1)
        full = inlet.info(timeout=timeout)
        inlet.close_stream()
        return full
    except Exception:  # the stream vanished between resolve and open: keep the short header
        return info


def resolve_stream(
    name: str | None = None,
    type: str | None = None,
    source_id: str | None = None,
    timeout: float = 2.0,
) -> Any:
    """Find one stream by name, type and/or source_id (all given must match).

    Raises
    ------
    StreamNotFoundError
        Nothing matched within ``timeout`` seconds; the message lists what is visible.
    """
    pylsl = get_pylsl()
    clauses = []
    for key, val in (("name", name), ("type", type), ("source_id", source_id)):
        if val is not None:
            if "'" in val:
                raise StreamError(f"{key} must not contain a quote, got {val!r}")
            clauses.append(f"{key}='{val}'")
    if not clauses:
        raise StreamError("Give at least one of name, type or source_id to find a stream")
    pred = " and ".join(clauses)
    found = pylsl.resolve_bypred(pred, 1, _wait(timeout))
    if not found:
        visible = [f"{d.name} ({d.type}, {d.source_id})" for d in list_streams(0.5, full=False)]
        raise StreamNotFoundError(
            f"No LSL stream with {pred.replace(' and ', ', ')} found within {timeout:g} s. "
            f"Visible streams: {', '.join(visible) or 'none'}"
        )
    return found[0]
