"""The background sender thread: after each commit, and again while failing."""

from __future__ import annotations

import threading
import time

import pytest

from wingapp.mail.background import BackgroundSender
from wingapp.mail.queue import QueueRun


class Queue:
    """Fails ``failures`` times, then sends; counts the runs."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error
        self.runs = 0
        self.done = threading.Event()

    def send_all(self) -> QueueRun:
        self.runs += 1
        if self.runs <= self.failures:
            if self.error is not None:
                raise self.error
            return QueueRun(sent=0, left=1)
        self.done.set()
        return QueueRun(sent=1, left=0)


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def stopping():
    senders: list[BackgroundSender] = []
    yield senders.append
    for sender in senders:
        sender.stop()


def mail_threads() -> int:
    return sum(t.name == "wingapp-mail" for t in threading.enumerate())


def test_no_thread_until_the_first_message(stopping):
    before = mail_threads()
    sender = BackgroundSender(Queue(), retry_interval=0.05)
    stopping(sender)
    assert mail_threads() == before
    sender.wake()
    assert mail_threads() == before + 1


def test_a_queued_message_wakes_the_thread_once(tmp_path, stopping):
    queue = Queue()
    sender = BackgroundSender(queue, retry_interval=0.05)
    stopping(sender)
    sender.message_queued(tmp_path / "new" / "m1")
    assert queue.done.wait(5)
    time.sleep(0.2)
    # Sent, nothing left: it sleeps until the next message, not every 50 ms.
    assert queue.runs == 1
    sender.wake()
    wait_for(lambda: queue.runs == 2)


def test_it_retries_while_messages_wait(stopping):
    queue = Queue(failures=3)
    sender = BackgroundSender(queue, retry_interval=0.05)
    stopping(sender)
    sender.wake()
    assert queue.done.wait(5)
    assert queue.runs == 4


def test_an_unexpected_error_is_logged_and_retried(stopping, caplog):
    queue = Queue(failures=1, error=OSError("queue directory gone"))
    sender = BackgroundSender(queue, retry_interval=0.05)
    stopping(sender)
    sender.wake()
    assert queue.done.wait(5)
    assert "the background sender failed; trying again" in caplog.text
    assert "queue directory gone" in caplog.text


def test_stop_ends_the_thread():
    before = mail_threads()
    queue = Queue(failures=10**6)
    sender = BackgroundSender(queue, retry_interval=0.01)
    sender.wake()
    wait_for(lambda: queue.runs > 2)
    sender.stop()
    runs = queue.runs
    time.sleep(0.05)
    assert queue.runs == runs
    assert mail_threads() == before


def test_stopped_before_any_message_it_never_sends():
    queue = Queue()
    sender = BackgroundSender(queue, retry_interval=0.01)
    sender.stop()
    sender.wake()
    sender.stop()
    assert queue.runs == 0
