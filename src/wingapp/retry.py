"""Requests that collide: wait a little, try again, and say so quietly.

pyramid_retry runs a request again when it fails with a retryable error,
such as a ZODB ConflictError: two requests changed the same object at
once. Before each new attempt the request waits a random time that doubles
with each attempt (``retry.jitter_ms`` at most the first time), so that
requests which collided do not collide again in step. A retry is routine:
it is logged at INFO, without a traceback. A conflict that outlasts the
retries is answered 503 (see :mod:`wingapp.views.errors`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from pyramid_retry import IBeforeRetry

from .settings import group, whole_number

log = logging.getLogger(__name__)

RETRY = group(
    "retry",
    # Long enough to let the request that won commit; short enough that
    # the waits of five attempts (at most 50 + 100 + 200 + 400 ms) stay
    # under a second.
    whole_number("retry.jitter_ms", 50, 0, 1000),
)


class PauseBeforeRetry:
    """The ``IBeforeRetry`` subscriber: log the retry, then wait."""

    def __init__(
        self,
        jitter: float,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[float, float], float] | None = None,
    ) -> None:
        self.jitter = jitter
        """The longest wait before the second attempt, in seconds."""
        self.sleep = sleep
        self.uniform = uniform or secrets.SystemRandom().uniform

    def __call__(self, event: Any) -> None:
        request = event.request
        attempt = request.environ["retry.attempt"] + 1
        log.info(
            "%s on %s %s, attempt %d of %d; trying again: %s",
            type(event.exception).__name__,
            request.method,
            request.path,
            attempt,
            request.environ["retry.attempts"],
            event.exception,
        )
        if self.jitter:
            self.sleep(self.uniform(0, self.jitter * 2 ** (attempt - 1)))


def includeme(config: Any) -> None:
    jitter_ms = config.add_settings_schema(RETRY)["retry.jitter_ms"]
    config.add_subscriber(PauseBeforeRetry(jitter_ms / 1000), IBeforeRetry)
