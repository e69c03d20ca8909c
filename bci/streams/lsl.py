"""Lab Streaming Layer: loading liblsl, stream metadata, discovery and a non-blocking inlet.

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

import numpy as np

from bci.errors import LSLUnavailableError, StreamError, StreamNotFoundError
from bci.types import Chunk, StreamDescription

__all__ = [
    "Inlet",
    "MarkerInlet",
    "configure_lsl",
    "describe",
    "get_pylsl",
    "liblsl_status",
    "list_streams",
    "local_clock",
    "make_eeg_info",
    "make_marker_info",
    "resolve_stream",
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


def local_clock() -> float:
    """The LSL clock (seconds), the one time base of samples, markers and predictions."""
    return float(get_pylsl().local_clock())


def make_eeg_info(
    name: str,
    ch_names: list[str] | tuple[str, ...],
    sfreq: float,
    source_id: str,
    stype: str = "EEG",
    units: str = "microvolts",
    manufacturer: str = "bci",
) -> Any:
    """A pylsl ``StreamInfo`` for float32 EEG with channel labels, units and types in desc."""
    pylsl = get_pylsl()
    info = pylsl.StreamInfo(name, stype, len(ch_names), float(sfreq), pylsl.cf_float32, source_id)
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


_FORMATS = {1: "float32", 2: "double64", 3: "string", 4: "int32", 5: "int16", 6: "int8", 7: "int64"}


def _channel_labels(info: Any) -> list[str]:
    labels: list[str] = []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty() if hasattr(ch, "empty") else ch.name():
        labels.append(ch.child_value("label"))
        ch = ch.next_sibling()
    return labels


def describe(info: Any) -> StreamDescription:
    """Turn a pylsl ``StreamInfo`` into a :class:`StreamDescription`."""
    labels = _channel_labels(info)
    n = int(info.channel_count())
    if len(labels) != n or not all(labels):
        labels = [f"ch{i + 1}" for i in range(n)]
    return StreamDescription(
        name=info.name(),
        type=info.type(),
        n_channels=n,
        sfreq=float(info.nominal_srate()),
        source_id=info.source_id(),
        channel_format=_FORMATS.get(int(info.channel_format()), str(info.channel_format())),
        hostname=info.hostname(),
        uid=info.uid(),
        ch_names=labels,
    )


def list_streams(timeout: float = 1.0, full: bool = True) -> list[StreamDescription]:
    """Every LSL stream visible within ``timeout`` seconds.

    With ``full``, each stream's full metadata (channel labels) is fetched too, within one more
    ``timeout`` in total (streams left when it is spent keep the short header), so the call
    takes at most about twice ``timeout`` however many streams are on the network.
    """
    pylsl = get_pylsl()
    out = []
    infos = pylsl.resolve_streams(wait_time=timeout)
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
    found = pylsl.resolve_bypred(pred, 1, timeout)
    if not found:
        visible = [f"{d.name} ({d.type}, {d.source_id})" for d in list_streams(0.5, full=False)]
        raise StreamNotFoundError(
            f"No LSL stream with {pred.replace(' and ', ', ')} found within {timeout:g} s. "
            f"Visible streams: {', '.join(visible) or 'none'}"
        )
    return found[0]


class Inlet:
    """A non-blocking EEG inlet that survives the outlet going away and coming back.

    Parameters
    ----------
    info : pylsl.StreamInfo
        From :func:`resolve_stream`.
    max_buflen : int
        Seconds of data liblsl buffers if we fall behind.

    Attributes
    ----------
    n_samples, n_gaps, n_dropped : int
        Samples received; gaps in the timestamps; samples missing in those gaps.
    """

    def __init__(self, info: Any, max_buflen: int = 30) -> None:
        pylsl = get_pylsl()
        self._pylsl = pylsl
        # No dejitter: it would smooth away the timestamp jumps that reveal dropped samples.
        flags = pylsl.proc_clocksync | pylsl.proc_monotonize
        self._inlet = pylsl.StreamInlet(
            info, max_buflen=max_buflen, recover=True, processing_flags=flags
        )
        full = self._inlet.info(timeout=5.0)
        self.description = describe(full)
        self.sfreq = self.description.sfreq
        self.n_channels = self.description.n_channels
        self._last_t: float | None = None
        self.n_samples = 0
        self.n_gaps = 0
        self.n_dropped = 0
        self._buf = np.empty(
            (int(max(1, self.sfreq) * max_buflen) + 1, self.n_channels), np.float32
        )
        self._inlet.open_stream(timeout=5.0)
        # The first clock offset estimate blocks ~0.6 s; take it here, at session start,
        # not in the first pull of a loop that serves other sessions too.
        try:
            self._inlet.time_correction(timeout=5.0)
        except Exception:  # the outlet vanished already; recover will retry
            logger.warning("initial LSL time correction failed for %s", self.description.name)

    def pull(self) -> Chunk:
        """Return what has arrived since the last call (possibly nothing); never blocks."""
        try:
            _, ts = self._inlet.pull_chunk(
                timeout=0.0, max_samples=self._buf.shape[0], dest_obj=self._buf
            )
        except self._pylsl.LostError:  # only without recover; keep the contract anyway
            return Chunk(np.empty((0, self.n_channels), np.float32), np.empty(0))
        n = len(ts)
        if n == 0:
            return Chunk(np.empty((0, self.n_channels), np.float32), np.empty(0))
        t = np.asarray(ts, dtype=np.float64)
        data = self._buf[:n].copy()
        self._count(t)
        return Chunk(data, t)

    def _count(self, t: np.ndarray) -> None:
        self.n_samples += t.size
        if self.sfreq <= 0:
            return
        period = 1.0 / self.sfreq
        prev = self._last_t
        dt = np.diff(t) if prev is None else np.diff(np.concatenate([[prev], t]))
        big = dt > 1.5 * period
        if big.any():
            self.n_gaps += int(big.sum())
            self.n_dropped += int(np.maximum(np.round(dt[big] / period) - 1, 0).sum())
        self._last_t = float(t[-1])

    def close(self) -> None:
        try:
            self._inlet.close_stream()
        except Exception:  # closing a dead inlet must not raise
            logger.debug("closing inlet failed", exc_info=True)


class MarkerInlet:
    """A non-blocking inlet on a string marker stream (cues, app events, annotations)."""

    def __init__(self, info: Any) -> None:
        pylsl = get_pylsl()
        self._inlet = pylsl.StreamInlet(
            info, recover=True, processing_flags=pylsl.proc_clocksync | pylsl.proc_monotonize
        )
        self.description = describe(self._inlet.info(timeout=5.0))
        self._inlet.open_stream(timeout=5.0)
        try:
            self._inlet.time_correction(timeout=5.0)
        except Exception:
            logger.warning("initial LSL time correction failed for %s", self.description.name)

    def pull(self) -> list[tuple[float, str]]:
        """Markers that arrived since the last call, as (LSL time, first channel value)."""
        samples, ts = self._inlet.pull_chunk(timeout=0.0)
        return [(float(t), str(s[0])) for s, t in zip(samples, ts, strict=True)]

    def close(self) -> None:
        try:
            self._inlet.close_stream()
        except Exception:
            logger.debug("closing marker inlet failed", exc_info=True)
