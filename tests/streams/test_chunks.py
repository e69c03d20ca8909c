"""The one chunker: replay's iter_chunks and the online ArraySource cut a recording the same way."""

from __future__ import annotations

import numpy as np
import pytest

from bci.errors import SignalError
from bci.online.sources import ArraySource
from bci.recordings import Recording
from bci.streams.chunks import Chunker
from bci.streams.replay import iter_chunks

SFREQ = 100.0


def _recording(rng: np.random.Generator, n: int = 257) -> Recording:
    ts = 50.0 + np.arange(n) / SFREQ
    markers = [(49.0, "early"), (50.105, "a"), (50.5, "b"), (52.0, "c"), (99.0, "late")]
    return Recording(rng.standard_normal((3, n)), SFREQ, ["C3", "Cz", "C4"], ts, markers)


@pytest.mark.parametrize("chunk_size", [1, 7, 32, 256, 257, 1000])
def test_chunks_concatenate_to_the_input(rng: np.random.Generator, chunk_size: int) -> None:
    rec = _recording(rng)
    chunks = list(Chunker(rec.data.T, rec.timestamps, chunk_size, rec.markers))
    assert len(chunks) == -(-rec.n_times // chunk_size)
    assert all(len(t) == chunk_size for _, t, _ in chunks[:-1])
    np.testing.assert_array_equal(np.concatenate([d for d, _, _ in chunks]), rec.data.T)
    np.testing.assert_array_equal(np.concatenate([t for _, t, _ in chunks]), rec.timestamps)
    assert [m for _, _, ms in chunks for m in ms] == rec.markers
    # a marker arrives with the chunk holding its time (or the first / last chunk)
    for _, t, ms in chunks[1:-1]:
        for mt, _ in ms:
            assert t[0] - 1 / SFREQ < mt <= t[-1]


def test_iter_chunks_and_array_source_deliver_the_same_samples(rng: np.random.Generator) -> None:
    rec = _recording(rng)
    src = ArraySource(rec.data, SFREQ, rec.ch_names, chunk_size=10, timestamps=rec.timestamps)
    for replayed in iter_chunks(rec, 10, dtype=np.float64):
        pulled = src.pull()
        np.testing.assert_array_equal(pulled.data, replayed.data)
        np.testing.assert_array_equal(pulled.timestamps, replayed.timestamps)
    assert src.done and src.pos == rec.n_times
    assert src.pull().data.shape == (0, 3)


@pytest.mark.parametrize("bad", [0, -3])
def test_chunk_size_checked_by_both_users(rng: np.random.Generator, bad: int) -> None:
    rec = _recording(rng)
    with pytest.raises(SignalError, match=f"chunk_size must be >= 1, got {bad}"):
        list(iter_chunks(rec, bad))
    with pytest.raises(SignalError, match=f"chunk_size must be >= 1, got {bad}"):
        ArraySource(rec.data, SFREQ, rec.ch_names, chunk_size=bad)


def test_timestamps_shape_checked() -> None:
    with pytest.raises(SignalError, match=r"timestamps must have shape \(5,\), got \(4,\)"):
        Chunker(np.zeros((5, 2)), np.zeros(4), 2)
