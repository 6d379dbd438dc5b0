"""An in-memory sliding-window rate limiter for the public endpoints.

Each key (a client address) keeps the times of its recent accepted requests; a request is
allowed while fewer than ``limit`` of them fall inside the last ``window`` seconds. The state
lives in one process: several nodes each allow ``limit`` per window, which is acceptable for a
guard against floods of reports (a shared limiter would need the database on the hot path).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # whole seconds until a request would be allowed; 0 when allowed


class SlidingWindowLimiter:
    """At most ``limit`` requests per key in any ``window`` seconds.

    Memory is bounded by ``max_keys``: when full, the key used least recently is forgotten,
    which can only make the limiter more lenient for that key, never lock anyone out.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limit, window and max_keys must be positive")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> Decision:
        """Count one request for ``key`` if it is allowed, and say whether it is."""
        now = self._clock()
        with self._lock:
            times = self._hits.get(key)
            if times is None:
                times = deque()
                self._hits[key] = times
                while len(self._hits) > self.max_keys:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                wait = times[0] + self.window - now
                return Decision(False, max(1, math.ceil(wait)))
            times.append(now)
            return Decision(True, 0)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


def client_address(request: Request) -> str:
    """The key a request is limited under: the peer address the server saw."""
    return request.client.host if request.client else "unknown"
