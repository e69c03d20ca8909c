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
    hold : float
        After a session's step brings samples, the engine leaves it alone for this fraction
        of the time between its last chunks (at most :attr:`max_hold_s`): a source sending a
        chunk every 40 ms is then polled ~5 times per chunk instead of ~10. A session with a
        queued command or a clocked stage (a running calibration's cues) is stepped every
        round regardless. 0 (the default) polls every session every round. A chunk that
        comes sooner than expected waits at most ``max_hold_s`` longer. Measured at 50
        sessions (``bench/capacity.py --compare-env BCI_ENGINE_HOLD=0``), 0.5 saved 0-6% of
        a core of engine time and added ~3 ms to the median latency (why is not isolated:
        one outlet in one process never split a 10-sample chunk over two polls), so it is
        opt-in.
    """

    #: Shortest sleep between two rounds, even when a round overran the period: the
    #: event loop (HTTP, WebSocket fan-out) shares the GIL with this thread.
    min_sleep_s = 0.0005
    #: The longest a session is left alone after a chunk (see ``hold``).
    max_hold_s = 0.025

    def __init__(self, period_s: float = 0.004, batch: bool = True, hold: float = 0.0) -> None:
        if not 0 < period_s <= 1.0:
            raise ValueError(f"period_s must be in (0, 1] s, got {period_s}")
        if not 0 <= hold < 1:
            raise ValueError(f"hold must be in [0, 1), got {hold}")
        self.period_s = float(period_s)
        self.batch = batch
        self.hold = float(hold)
        # session id -> [monotonic time before which it is not polled, time of its last
        # chunk, smoothed time between its chunks]
        self._sched: dict[str, list[float]] = {}
        self.n_polls = 0
        self.n_held = 0
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
            self._sched.pop(session_id, None)
            return self._sessions.pop(session_id, None)

    def step(self) -> int:
        """One round over all sessions; returns the number of windows decoded."""
        with self._lock:
            sessions = list(self._sessions.values())
        n = 0
        batch = DecodeBatch() if self.batch else None
        by_ctx: dict[int, DecodingSession] = {}
        hold = self.hold
        now = time.monotonic()
        for s in sessions:
            sched = self._sched.get(s.id) if hold else None
            if sched is not None and now < sched[0] and not s.wants_step():
                self.n_held += 1
                continue
            written = s.raw.n_written
            s.decoder.batch = batch
            try:
                n += s.step()
            except Exception as exc:  # a session's bug must not stop the others
                logger.exception("session %s failed", s.id)
                s.fail(f"internal error: {exc}")
            finally:
                s.decoder.batch = None
            self.n_polls += 1
            by_ctx[id(s.ctx)] = s
            if hold and s.raw.n_written != written:
                self._hold(s.id, now)
        if batch is not None and len(batch):
            for ctx, messages in batch.run():
                n += len(messages)
                session = by_ctx[id(ctx)]
                for m in messages:
                    session.publish(m)
        self.n_rounds += 1
        return n

    def _hold(self, session_id: str, now: float) -> None:
        """Samples came: leave the session alone for ``hold`` of its chunk interval."""
        sched = self._sched.get(session_id)
        if sched is None:  # its first chunk: no interval known yet
            self._sched[session_id] = [0.0, now, 0.0]
            return
        gap = now - sched[1]
        # Smoothed over ~8 chunks; a pause (a stalled source) restarts it.
        sched[2] = gap if sched[2] == 0.0 or gap > 4 * sched[2] else sched[2] + (gap - sched[2]) / 8
        sched[1] = now
        sched[0] = now + min(self.hold * sched[2], self.max_hold_s)

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
