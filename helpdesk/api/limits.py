"""Per-client request limits for the API: a token bucket per bearer token, in this process."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """`per_minute` requests a minute per key, with bursts up to a minute's worth; 0 turns it off.

    Counts live in this process: with N app processes a client gets up to N times the limit."""

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def retry_after(self, key: str) -> int:
        """0 when the request may go ahead (and is counted), else the seconds to wait."""
        if self.per_minute <= 0:
            return 0
        now = self.clock()
        bucket = self._buckets.setdefault(key, _Bucket(float(self.per_minute), now))
        bucket.tokens = min(self.per_minute, bucket.tokens + (now - bucket.stamp) * self.per_minute / 60)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, round((1 - bucket.tokens) * 60 / self.per_minute))
