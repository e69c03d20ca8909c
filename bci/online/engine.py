"""One loop that serves many sessions: pull every source without blocking, decode what is due."""

from __future__ import annotations

import logging
import threading

from bci.online.decoder import DecodeBatch
from bci.online.session import DecodingSession

__all__ = ["Engine"]

logger = logging.getLogger(__name__)


class Engine:
    """Steps every registered session from one background thread.

    Parameters
    ----------
    poll_s : float
        Sleep between rounds when no session had data; bounds the added latency.
    batch : bool
        Decode the windows due in a round with one call per model across sessions
        (:class:`~bci.online.decoder.DecodeBatch`) instead of one call per session.
    """

    def __init__(self, poll_s: float = 0.002, batch: bool = True) -> None:
        self.poll_s = poll_s
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
        while not self._stop.is_set():
            self.step()
            # Sleep a little: sources deliver chunks every few ms at most.
            self._stop.wait(self.poll_s)
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
