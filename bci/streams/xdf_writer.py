"""A minimal XDF 1.0 writer: file header, stream headers, samples, boundaries, footers.

XDF (https://github.com/sccn/xdf/wiki/Specifications) is a sequence of chunks after the magic
``XDF:``. Each chunk is ``[NumLengthBytes][Length][Tag][Content]`` where ``Length`` counts the
tag and the content, and ``NumLengthBytes`` (1, 4 or 8) says how wide ``Length`` is. Tags:
FileHeader=1, StreamHeader=2, Samples=3, ClockOffset=4, Boundary=5, StreamFooter=6.

Every chunk is encoded in memory and handed to the operating system in one ``write`` on an
unbuffered file, so a process killed at any moment (SIGKILL) leaves a file that ends at a
chunk border or, rarely, inside the last chunk; ``pyxdf.load_xdf`` reads all complete chunks
either way. The writer never overwrites an existing file (``O_EXCL``).
"""

from __future__ import annotations

import errno
import logging
import os
import struct
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from bci.errors import DataError

__all__ = [
    "BOUNDARY_UUID",
    "CHANNEL_FORMATS",
    "XDFWriter",
    "encode_chunk",
    "encode_numeric_samples",
    "encode_string_samples",
    "varlen_int",
]

logger = logging.getLogger(__name__)

TAG_FILE_HEADER = 1
TAG_STREAM_HEADER = 2
TAG_SAMPLES = 3
TAG_CLOCK_OFFSET = 4
TAG_BOUNDARY = 5
TAG_STREAM_FOOTER = 6

#: The 16 bytes of every Boundary chunk (fixed by the specification).
BOUNDARY_UUID = bytes(
    [0x43, 0xA5, 0x46, 0xDC, 0xCB, 0xF5, 0x41, 0x0F, 0xB3, 0x0E, 0xD5, 0x46, 0x73, 0x83, 0xCB, 0xE4]
)

#: XDF channel format -> little-endian numpy dtype (``None`` for strings).
CHANNEL_FORMATS: dict[str, np.dtype | None] = {
    "float32": np.dtype("<f4"),
    "double64": np.dtype("<f8"),
    "int8": np.dtype("i1"),
    "int16": np.dtype("<i2"),
    "int32": np.dtype("<i4"),
    "int64": np.dtype("<i8"),
    "string": None,
}


def varlen_int(n: int) -> bytes:
    """XDF variable-length integer: a width byte (1, 4 or 8) then the value, little endian."""
    if n < 0:
        raise ValueError(f"varlen_int needs a non-negative integer, got {n}")
    if n < 1 << 8:
        return b"\x01" + struct.pack("<B", n)
    if n < 1 << 32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def encode_chunk(tag: int, content: bytes) -> bytes:
    """One chunk: ``[NumLengthBytes][Length][Tag][Content]`` with Length = 2 + len(content)."""
    return varlen_int(len(content) + 2) + struct.pack("<H", tag) + content


def encode_numeric_samples(
    stream_id: int, data: np.ndarray, timestamps: np.ndarray, dtype: np.dtype
) -> bytes:
    """Content of a Samples chunk for a numeric stream, every sample with its timestamp.

    Parameters
    ----------
    stream_id : int
        The stream's id in this file.
    data : ndarray, shape (n_samples, n_channels)
        Values, cast to ``dtype``.
    timestamps : ndarray, shape (n_samples,)
        float64 times (seconds).
    dtype : numpy dtype
        Little-endian dtype of the stream's channel format.
    """
    n, n_ch = data.shape
    rec = np.empty(n, dtype=np.dtype([("flag", "u1"), ("t", "<f8"), ("v", dtype, (n_ch,))]))
    rec["flag"] = 8
    rec["t"] = timestamps
    rec["v"] = data
    return struct.pack("<I", stream_id) + varlen_int(n) + rec.tobytes()


def encode_string_samples(
    stream_id: int, values: Sequence[Sequence[str]], timestamps: np.ndarray
) -> bytes:
    """Content of a Samples chunk for a string stream.

    Parameters
    ----------
    values : sequence of sequences of str, shape (n_samples, n_channels)
    timestamps : ndarray, shape (n_samples,)
    """
    out = bytearray(struct.pack("<I", stream_id))
    out += varlen_int(len(values))
    for sample, t in zip(values, timestamps, strict=True):
        out += b"\x08" + struct.pack("<d", float(t))
        for v in sample:
            b = v.encode("utf-8")
            out += varlen_int(len(b)) + b
    return bytes(out)


def _xml(tag: str, body: str) -> str:
    return f"<{tag}>{body}</{tag}>"


def footer_xml(first: float, last: float, count: int) -> bytes:
    """The StreamFooter XML (first/last timestamp, sample count, no clock offsets)."""
    body = (
        _xml("first_timestamp", repr(float(first)))
        + _xml("last_timestamp", repr(float(last)))
        + _xml("sample_count", str(int(count)))
        + "<clock_offsets></clock_offsets>"
    )
    return ('<?xml version="1.0"?>' + _xml("info", body)).encode("utf-8")


def text(value: object) -> str:
    """XML-escaped text of a value."""
    return escape(str(value))


class XDFWriter:
    """Append XDF chunks to a new file, one ``write`` per chunk.

    Parameters
    ----------
    path : path
        The file to create. Its parent folder is created if needed.
    on_exists : {"error", "rename"}
        If ``path`` exists: refuse with :class:`~bci.errors.DataError`, or write to the first
        free ``<stem>_1<suffix>``, ``<stem>_2<suffix>``... instead (see :attr:`path`).
    fsync : bool
        Also ``os.fsync`` after every chunk (survives a power cut, not only a killed process;
        costs a disk round trip per chunk).
    boundary_interval : float
        Seconds (wall clock) between Boundary chunks, which let a reader resynchronise after
        a damaged region.

    Attributes
    ----------
    path : Path
        The file actually written.
    bytes_written : int
        Size of the file up to the end of the last complete chunk.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        on_exists: str = "error",
        fsync: bool = False,
        boundary_interval: float = 10.0,
    ) -> None:
        if on_exists not in ("error", "rename"):
            raise ValueError(f"on_exists must be 'error' or 'rename', got {on_exists!r}")
        self._fsync = bool(fsync)
        self._boundary_interval = float(boundary_interval)
        self._lock = threading.Lock()
        self.path = Path(path)
        self._fd = self._open(self.path, on_exists)
        self.bytes_written = 0
        self.closed = False
        self._last_boundary = time.monotonic()
        self._write(b"XDF:")
        header = (
            '<?xml version="1.0"?><info><version>1.0</version>'
            f"<datetime>{time.strftime('%Y-%m-%dT%H:%M:%S%z')}</datetime></info>"
        )
        self.write_chunk(TAG_FILE_HEADER, header.encode("utf-8"))

    def _open(self, path: Path, on_exists: str) -> int:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"Cannot create the folder for recording {path}: {exc}") from exc
        candidate = path
        for i in range(1, 10_000):
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if on_exists == "error":
                    raise DataError(
                        f"Recording file {candidate} already exists; refusing to overwrite it. "
                        "Choose another name or move the old file."
                    ) from None
                candidate = path.with_name(f"{path.stem}_{i}{path.suffix}")
                continue
            except OSError as exc:
                raise DataError(f"Cannot create recording file {candidate}: {exc}") from exc
            self.path = candidate
            return fd
        raise DataError(f"No free file name like {path} (tried 10000)")

    def _write(self, data: bytes) -> None:
        """Write all of ``data``; on failure cut the file back to the last complete chunk."""
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            try:  # leave a file that ends at a chunk border
                os.ftruncate(self._fd, self.bytes_written)
            except OSError:
                logger.debug("could not truncate %s after a failed write", self.path)
            self._close_fd()
            what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise DataError(
                f"Recording to {self.path} stopped: {what} ({exc}). The file keeps the "
                f"{self.bytes_written} bytes written before."
            ) from exc
        self.bytes_written += len(data)

    def write_chunk(self, tag: int, content: bytes) -> None:
        """Write one chunk (and a Boundary chunk first when one is due)."""
        with self._lock:
            if self.closed:
                raise DataError(f"Recording {self.path} is closed; no more data can be written")
            data = encode_chunk(tag, content)
            now = time.monotonic()
            if tag == TAG_SAMPLES and now - self._last_boundary >= self._boundary_interval:
                data = encode_chunk(TAG_BOUNDARY, BOUNDARY_UUID) + data
                self._last_boundary = now
            self._write(data)

    def write_stream_header(self, stream_id: int, xml: bytes) -> None:
        self.write_chunk(TAG_STREAM_HEADER, struct.pack("<I", stream_id) + xml)

    def write_stream_footer(self, stream_id: int, xml: bytes) -> None:
        self.write_chunk(TAG_STREAM_FOOTER, struct.pack("<I", stream_id) + xml)

    def write_clock_offset(self, stream_id: int, collection_time: float, offset: float) -> None:
        self.write_chunk(TAG_CLOCK_OFFSET, struct.pack("<Idd", stream_id, collection_time, offset))

    def write_boundary(self) -> None:
        self.write_chunk(TAG_BOUNDARY, BOUNDARY_UUID)

    def _close_fd(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                os.close(self._fd)
            except OSError:
                logger.debug("closing %s failed", self.path, exc_info=True)

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._lock:
            if not self.closed:
                try:
                    os.fsync(self._fd)
                except OSError:
                    logger.debug("fsync of %s failed at close", self.path, exc_info=True)
            self._close_fd()
