"""Record a session's raw EEG, markers and predictions into one XDF file.

The session already holds every chunk with its LSL timestamps, so the recorder writes them
directly (no LSL round trip, timestamps exact, nothing lost before a network inlet would have
connected) with :class:`~bci.streams.xdf_writer.XDFWriter`. Each push is one flushed chunk:
a process killed with SIGKILL leaves a file that ``pyxdf.load_xdf`` reads up to the last push.

Examples
--------
>>> with Recorder("session.xdf") as rec:  # doctest: +SKIP
...     rec.add_stream("eeg", "bci-eeg", "EEG", ch_names=["C3", "Cz", "C4"], sfreq=250.0)
...     rec.add_stream("markers", "bci-markers", "Markers", n_channels=1, fmt="string")
...     rec.push("eeg", chunk, timestamps)  # chunk (n_samples, 3), timestamps (n_samples,)
...     rec.push_marker("markers", "left", t)
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bci.errors import DataError, SignalError
from bci.streams.xdf_writer import (
    CHANNEL_FORMATS,
    TAG_SAMPLES,
    XDFWriter,
    encode_numeric_samples,
    encode_string_samples,
    footer_xml,
    text,
)

__all__ = ["Recorder", "StreamSpec", "spec_from_header"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSpec:
    """What the recorder writes in a stream's header.

    Attributes
    ----------
    key : str
        The name pushes use to address this stream.
    name, type : str
        LSL stream name and content type (``EEG``, ``Markers``, ``Predictions``...).
    ch_names : list of str
        One label per channel (``ch1``... if only a count was given).
    sfreq : float
        Nominal sampling rate in Hz; 0 for irregular streams (markers, predictions).
    fmt : str
        XDF channel format: float32, double64, int8, int16, int32, int64 or string.
    units : str
        Unit of every channel (``microvolts`` for EEG).
    source_id : str
        LSL source id (empty if unknown).
    ch_types : list of str
        Channel type per channel (``EEG`` by default for numeric streams).
    manufacturer : str
        Written in ``desc/manufacturer``.
    header : str
        A source stream's own header (``StreamInfo.as_xml()``), written verbatim as
        LabRecorder does (``desc``, uid, source_id, channel locations and units kept); the
        other fields must agree with it (:func:`spec_from_header` makes such a spec).
    """

    key: str
    name: str
    type: str
    ch_names: list[str]
    sfreq: float = 0.0
    fmt: str = "float32"
    units: str = "microvolts"
    source_id: str = ""
    ch_types: list[str] = field(default_factory=list)
    manufacturer: str = "bci"
    header: str = field(default="", repr=False)

    @property
    def n_channels(self) -> int:
        return len(self.ch_names)

    def header_xml(self, created_at: float) -> bytes:
        """The StreamHeader XML of this stream (a source's own header when it has one)."""
        if self.header:
            return self.header.encode("utf-8")
        types = self.ch_types or [self.type] * self.n_channels
        channels = "".join(
            f"<channel><label>{text(ch)}</label><unit>{text(self.units)}</unit>"
            f"<type>{text(ct)}</type></channel>"
            for ch, ct in zip(self.ch_names, types, strict=True)
        )
        srate = repr(float(self.sfreq)) if self.sfreq else "0"
        body = (
            f"<name>{text(self.name)}</name><type>{text(self.type)}</type>"
            f"<channel_count>{self.n_channels}</channel_count>"
            f"<nominal_srate>{srate}</nominal_srate>"
            f"<channel_format>{self.fmt}</channel_format>"
            f"<source_id>{text(self.source_id)}</source_id>"
            f"<version>1.1</version><created_at>{created_at!r}</created_at>"
            f"<uid>{uuid.uuid4()}</uid><session_id>default</session_id>"
            f"<hostname>{text(socket.gethostname())}</hostname>"
            f"<desc><manufacturer>{text(self.manufacturer)}</manufacturer>"
            f"<channels>{channels}</channels></desc>"
        )
        return ('<?xml version="1.0"?><info>' + body + "</info>").encode("utf-8")


def spec_from_header(key: str, header: str) -> StreamSpec:
    """A :class:`StreamSpec` that records a source stream with its own header, verbatim.

    Parameters
    ----------
    key : str
        The name pushes use.
    header : str
        The source's ``StreamInfo.as_xml()`` (name, format, channels, units... are read
        from it; the file gets it unchanged).
    """
    from bci.streams.lsl_header import parse_header

    d = parse_header(header)
    if d.channel_format not in CHANNEL_FORMATS:
        raise SignalError(
            f"Stream {d.name!r}: channel_format must be one of {', '.join(CHANNEL_FORMATS)}, "
            f"got {d.channel_format!r}"
        )
    return StreamSpec(
        key=key,
        name=d.name,
        type=d.type,
        ch_names=list(d.source_ch_names or d.ch_names),
        sfreq=d.sfreq,
        fmt=d.channel_format,
        units=d.units[0] if d.units else "",
        source_id=d.source_id,
        ch_types=list(d.ch_types) if all(d.ch_types) else [],
        header=header,
    )


def _now() -> float:
    """The LSL clock if liblsl is loaded, else the monotonic clock (header metadata only)."""
    try:
        from bci.streams.lsl import local_clock

        return local_clock()
    except Exception:  # liblsl missing: created_at is informative only
        return time.monotonic()


class _StreamState:
    def __init__(self, stream_id: int, spec: StreamSpec) -> None:
        self.id = stream_id
        self.spec = spec
        self.dtype = CHANNEL_FORMATS[spec.fmt]
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0


class Recorder:
    """Write streams of this process (EEG chunks, markers, predictions) into one XDF file.

    Parameters
    ----------
    path : path
        The ``.xdf`` file to create. An existing file is never overwritten.
    streams : iterable of StreamSpec, optional
        Streams to declare at once (more can be added with :meth:`add_stream`).
    on_exists : {"error", "rename"}
        If ``path`` exists: raise :class:`~bci.errors.DataError`, or record to the first free
        ``<stem>_N.xdf`` (see :attr:`path`).
    fsync : bool
        ``os.fsync`` after every chunk (power-cut safety; a killed process is safe without it).

    Attributes
    ----------
    path : Path
        The file being written.
    error : DataError or None
        Why recording stopped early (disk full...), if it did.

    Notes
    -----
    Any write failure (``OSError``, disk full included) closes the file at the last complete
    chunk and raises :class:`~bci.errors.DataError` once; later pushes raise
    :class:`~bci.errors.DataError` saying the recorder is stopped, so the caller can drop it
    and carry on with the session.
    """

    def __init__(
        self,
        path: str | Path,
        streams: Iterable[StreamSpec] = (),
        *,
        on_exists: str = "error",
        fsync: bool = False,
    ) -> None:
        self._writer = XDFWriter(path, on_exists=on_exists, fsync=fsync)
        self.path: Path = self._writer.path
        self.error: DataError | None = None
        self._streams: dict[str, _StreamState] = {}
        self._lock = threading.Lock()
        for spec in streams:
            self._add(spec)
        logger.info("recording to %s", self.path)

    # ------------------------------------------------------------------ streams
    def add_stream(
        self,
        key: str,
        name: str,
        type: str = "EEG",
        ch_names: Sequence[str] | None = None,
        n_channels: int | None = None,
        sfreq: float = 0.0,
        fmt: str = "float32",
        units: str = "microvolts",
        source_id: str = "",
        ch_types: Sequence[str] | None = None,
    ) -> StreamSpec:
        """Declare a stream and write its header.

        Give ``ch_names`` or ``n_channels`` (labels ``ch1``, ``ch2``... then). String streams
        (``fmt="string"``) carry markers, or predictions as JSON; they are irregular
        (``sfreq=0``) in practice.

        Returns
        -------
        spec : StreamSpec
        """
        if ch_names is None:
            if n_channels is None or int(n_channels) < 1:
                raise SignalError(
                    f"add_stream({key!r}) needs ch_names or n_channels >= 1, got "
                    f"ch_names=None, n_channels={n_channels}"
                )
            names = [f"ch{i + 1}" for i in range(int(n_channels))]
        else:
            names = [str(c) for c in ch_names]
            if not names:
                raise SignalError(f"add_stream({key!r}): ch_names must not be empty")
            if n_channels is not None and int(n_channels) != len(names):
                raise SignalError(
                    f"add_stream({key!r}): n_channels={n_channels} but {len(names)} ch_names"
                )
        spec = StreamSpec(
            key=key,
            name=name,
            type=type,
            ch_names=names,
            sfreq=float(sfreq),
            fmt=fmt,
            units=units,
            source_id=source_id,
            ch_types=list(ch_types) if ch_types is not None else [],
        )
        self._add(spec)
        return spec

    def add_spec(self, spec: StreamSpec) -> StreamSpec:
        """Declare a stream from a ready :class:`StreamSpec` and write its header."""
        self._add(spec)
        return spec

    def _add(self, spec: StreamSpec) -> None:
        if spec.fmt not in CHANNEL_FORMATS:
            raise SignalError(
                f"Stream {spec.key!r}: fmt must be one of {', '.join(CHANNEL_FORMATS)}, "
                f"got {spec.fmt!r}"
            )
        if spec.sfreq < 0 or not np.isfinite(spec.sfreq):
            raise SignalError(f"Stream {spec.key!r}: sfreq must be >= 0, got {spec.sfreq}")
        if spec.ch_types and len(spec.ch_types) != spec.n_channels:
            raise SignalError(
                f"Stream {spec.key!r}: {len(spec.ch_types)} ch_types for {spec.n_channels} channels"
            )
        with self._lock:
            self._check_open()
            if spec.key in self._streams:
                raise DataError(f"Stream key {spec.key!r} is already declared in {self.path}")
            state = _StreamState(len(self._streams) + 1, spec)
            now = _now()

            def write() -> None:
                self._writer.write_stream_header(state.id, spec.header_xml(now))
                # Samples are already on this machine's LSL clock: the offset is 0. Writing it
                # lets pyxdf's default clock synchronisation run without complaint.
                self._writer.write_clock_offset(state.id, now, 0.0)

            self._guard(write)
            self._streams[spec.key] = state

    @property
    def streams(self) -> dict[str, StreamSpec]:
        """Declared streams by key."""
        return {k: s.spec for k, s in self._streams.items()}

    def sample_count(self, key: str) -> int:
        """Samples written so far to stream ``key``."""
        return self._state(key).count

    # ------------------------------------------------------------------ pushes
    def push(self, key: str, data: Any, timestamps: Any) -> None:
        """Write a chunk of samples with their timestamps.

        Parameters
        ----------
        key : str
            A declared stream.
        data : array-like, shape (n_samples, n_channels)
            Numeric values (cast to the stream's format), or for a string stream a sequence of
            samples each a sequence of ``n_channels`` strings (a flat sequence of str is
            accepted for one-channel streams).
        timestamps : array-like, shape (n_samples,)
            float64 LSL times of each sample.
        """
        ts = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        with self._lock:
            self._check_open()
            st = self._state(key)
            spec = st.spec
            if st.dtype is None:
                values = self._string_samples(spec, data)
                n = len(values)
            else:
                arr = np.asarray(data)
                if arr.ndim == 1 and spec.n_channels == 1:
                    arr = arr[:, None]
                if arr.ndim != 2 or arr.shape[1] != spec.n_channels:
                    raise SignalError(
                        f"Stream {key!r}: data must have shape (n_samples, {spec.n_channels}), "
                        f"got {arr.shape}"
                    )
                n = arr.shape[0]
            if ts.shape[0] != n:
                raise SignalError(f"Stream {key!r}: {ts.shape[0]} timestamps for {n} samples")
            if n == 0:
                return
            if st.dtype is None:
                content = encode_string_samples(st.id, values, ts)
            else:
                content = encode_numeric_samples(st.id, arr, ts, st.dtype)
            self._guard(lambda: self._writer.write_chunk(TAG_SAMPLES, content))
            st.count += n
            st.first = float(ts[0]) if st.first is None else st.first
            st.last = float(ts[-1])

    def push_marker(self, key: str, value: str, t: float) -> None:
        """Write one string marker at LSL time ``t`` on a one-channel string stream."""
        self.push(key, [[str(value)]], [float(t)])

    def push_json(self, key: str, obj: Any, t: float) -> None:
        """Write ``obj`` as a JSON string (a prediction, an app event) at LSL time ``t``."""
        self.push(key, [[json.dumps(obj, separators=(",", ":"))]], [float(t)])

    @staticmethod
    def _string_samples(spec: StreamSpec, data: Any) -> list[list[str]]:
        if isinstance(data, str):
            raise SignalError(
                f"Stream {spec.key!r}: give a sequence of samples, not a bare string "
                "(use push_marker for one value)"
            )
        out: list[list[str]] = []
        for sample in data:
            row = [sample] if isinstance(sample, str) else list(sample)
            if len(row) != spec.n_channels or not all(isinstance(v, str) for v in row):
                raise SignalError(
                    f"Stream {spec.key!r}: each sample must be {spec.n_channels} string(s), "
                    f"got {sample!r}"
                )
            out.append(row)
        return out

    # ------------------------------------------------------------------ state
    def _state(self, key: str) -> _StreamState:
        try:
            return self._streams[key]
        except KeyError:
            raise DataError(
                f"No stream {key!r} in recording {self.path}. Declared: "
                f"{', '.join(self._streams) or 'none'} (use add_stream first)"
            ) from None

    def _check_open(self) -> None:
        if self.error is not None:
            raise DataError(f"Recorder for {self.path} is stopped after an error: {self.error}")
        if self._writer.closed:
            raise DataError(f"Recorder for {self.path} is closed")

    def _guard(self, write: Any) -> None:
        try:
            write()
        except DataError as exc:
            if self.error is None and self._writer.closed:
                self.error = exc
                logger.error("recording stopped: %s", exc)
            raise

    @property
    def closed(self) -> bool:
        return self._writer.closed

    def close(self) -> None:
        """Write each stream's footer and close the file (idempotent)."""
        with self._lock:
            if self._writer.closed:
                return
            try:
                now = _now()
                for st in self._streams.values():
                    self._writer.write_clock_offset(st.id, now, 0.0)
                    if st.count:
                        xml = footer_xml(st.first or 0.0, st.last or 0.0, st.count)
                        self._writer.write_stream_footer(st.id, xml)
            except DataError as exc:
                self.error = self.error or exc
                logger.error("could not write footers of %s: %s", self.path, exc)
            finally:
                self._writer.close()
        logger.info("recording %s closed", self.path)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"Recorder({str(self.path)!r}, streams={list(self._streams)}, {state})"
