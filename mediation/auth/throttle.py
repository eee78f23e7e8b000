"""Counting failed attempts in the database so the limit holds across web workers."""

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from mediation import clock
from mediation.auth.models import ThrottleHit
from mediation.extensions import db


def minutes_to_wait(seconds: int) -> int:
    """Whole minutes, rounded up and at least one, for a "try again in n minutes" message."""
    return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class Throttle:
    """At most `limit` failures per key within a sliding `window`."""

    scope: str
    limit: int
    window: timedelta

    def _recent(self, key: str):
        since = clock.now() - self.window
        return (
            ThrottleHit.scope == self.scope,
            ThrottleHit.key == key,
            ThrottleHit.at > since,
        )

    def retry_after(self, key: str) -> int:
        """Seconds until the key may try again; 0 when it is not blocked."""
        times = db.session.scalars(
            select(ThrottleHit.at)
            .where(*self._recent(key))
            .order_by(ThrottleHit.at.desc())
            .limit(self.limit)
        ).all()
        if len(times) < self.limit:
            return 0
        # Blocked until the oldest of the last `limit` failures leaves the window.
        free_at = times[-1] + self.window
        return max(1, math.ceil((free_at - clock.now()).total_seconds()))

    def hit(self, key: str) -> None:
        db.session.add(ThrottleHit(scope=self.scope, key=key, at=clock.now()))

    def clear(self, key: str) -> None:
        db.session.execute(
            delete(ThrottleHit).where(ThrottleHit.scope == self.scope, ThrottleHit.key == key)
        )
