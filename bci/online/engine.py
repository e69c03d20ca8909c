"""One loop that serves many sessions: pull every source without blocking, decode what is due."""

from __future__ import annotations

import logging
import threading
import time

from bci.online.decoder import DecodeBatch
from bci.online.session import DecodingSession

__all__ = ["Engine"]

logger = logging.getLogger(__name__)


class Engine:
    """Steps every registered session from one background thread.

    Parameters
    ----------
    period_s : float
        A round starts every ``period_s`` (sooner never; later when a round takes longer):
        a chunk waits at most this long to be pulled. Each round polls every session, and
        ~95% of polls find nothing at 10-sample chunks (``bench/poll.py``), so the period,
        not the data, sets the polling cost: at 2 ms it was ~N x 400 polls a second.
    batch : bool
        Decode the windows due in a round with one call per model across sessions
        (:class:`~bci.online.decoder.DecodeBatch`) instead of one call per session.
    """

    #: Shortest sleep between two rounds, even when a round overran the period: the
    #: event loop (HTTP, WebSocket fan-out) shares the GIL with this thread.
    min_sleep_s = 0.0005

    def __init__(self, period_s: float = 0.004, batch: bool = True) -> None:
        if not 0 < period_s <= 1.0:
            raise ValueError(f"period_s must be in (0, 1] s, got {period_s}")
        self.period_s = float(period_s)
        self.batch = batch
        self._sessions: dict[str, DecodingSession] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.n_rounds = 0

    def add(self, session: DecodingSession) -> None:
        with self._lock:
            self._sessions[session.id] = session

    def remove(self, session_id: str) -> DecodingSession | None:
        with self._lock:
            return self._sessions.pop(session_id, None)

    def step(self) -> int:
        """One round over all sessions; returns the number of windows decoded."""
        with self._lock:
            sessions = list(self._sessions.values())
        n = 0
        batch = DecodeBatch() if self.batch else None
        by_ctx: dict[int, DecodingSession] = {}
        for s in sessions:
            s.decoder.batch = batch
            try:
                n += s.step()
            except Exception as exc:  # a session's bug must not stop the others
                logger.exception("session %s failed", s.id)
                s.fail(f"internal error: {exc}")
            finally:
                s.decoder.batch = None
            by_ctx[id(s.ctx)] = s
        if batch is not None and len(batch):
            for ctx, messages in batch.run():
                n += len(messages)
                session = by_ctx[id(ctx)]
                for m in messages:
                    session.publish(m)
        self.n_rounds += 1
        return n

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bci-engine", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        logger.info("engine started")
        from bci.signal._kernels import warm  # numba: compiled before the first chunk

        try:
            warm()
        except Exception:  # the sessions' steps will fail and say so; keep the loop
            logger.exception("compiling the signal kernels failed")
        while not self._stop.is_set():
            t0 = time.monotonic()
            self.step()
            spent = time.monotonic() - t0
            self._stop.wait(max(self.min_sleep_s, self.period_s - spent))
        logger.info("engine stopped")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        """True while the engine thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def steps(self, session: DecodingSession) -> bool:
        """True when the engine thread will step ``session`` (and this is not that thread).

        A caller waiting for a session's command uses it to decide whether to apply the
        queue itself.
        """
        thread = self._thread
        if thread is None or not thread.is_alive() or self._stop.is_set():
            return False
        if threading.current_thread() is thread:
            return False
        with self._lock:
            return self._sessions.get(session.id) is session

    def sessions(self) -> list[DecodingSession]:
        with self._lock:
            return list(self._sessions.values())
