"""A thread that sends the queue after each commit, and retries while
messages wait."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class BackgroundSender:
    """Started by the first committed message, not at start-up: a process
    that sends no mail (a console script, a test) has no thread.

    While sending fails the thread tries again every ``retry_interval``
    seconds; when the queue is empty it sleeps until the next commit.
    ``wingapp CONFIG send-queued-mail`` sends the same queue from cron, for
    messages a stopped process left behind.
    """

    def __init__(self, queue: Any, retry_interval: float) -> None:
        self.queue = queue
        self.retry_interval = retry_interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def message_queued(self, path: Path) -> None:
        log.debug("mail queued as %s", path)
        self.wake()

    def wake(self) -> None:
        self._wake.set()
        with self._lock:
            if self._thread is None:
                # A daemon: a process may exit with mail queued; it waits in
                # the queue for the next run.
                self._thread = threading.Thread(
                    target=self._run, name="wingapp-mail", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        retry = False
        while True:
            self._wake.wait(self.retry_interval if retry else None)
            if self._stopping.is_set():
                return
            # Cleared before sending: a commit during the run wakes the next.
            self._wake.clear()
            try:
                retry = self.queue.send_all().left > 0
            except Exception:
                # A dead thread would send nothing until a restart.
                log.exception("mail: the background sender failed; trying again")
                retry = True
