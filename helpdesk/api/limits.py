"""Per-client request limits for the API: a token bucket per bearer token, in the database."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from helpdesk import db
from helpdesk.services import rate_limits


@dataclass
class RateLimiter:
    """`per_minute` requests a minute per key, with bursts up to a minute's worth; 0 turns it off.

    Counted in the database (services/rate_limits.py): N app processes enforce one limit."""

    per_minute: int
    clock: Callable[[], float] = time.time

    async def retry_after(self, key: str) -> int:
        """0 when the request may go ahead (and is counted), else the seconds to wait. A database
        that takes no writes just now lets the request through (its read may still work)."""
        if self.per_minute <= 0:
            return 0
        with db.bookkeeping("counting an API request"):
            return await rate_limits.take(key, per_minute=self.per_minute, now=self.clock())
        return 0
