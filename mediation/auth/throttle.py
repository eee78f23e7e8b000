"""Counting failed attempts in the database so the limit holds across web workers."""

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, tuple_

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


# Built once: it runs on every look-up.
_RECENT_HITS = select(ThrottleHit.scope, ThrottleHit.key, ThrottleHit.at).where(
    tuple_(ThrottleHit.scope, ThrottleHit.key).in_(bindparam("pairs", expanding=True)),
    ThrottleHit.at > bindparam("since"),
)


def longest_wait(keyed: list[tuple[Throttle, str]]) -> int:
    """Seconds until every (throttle, key) may try again, 0 when none is blocked: one query
    for all of them (a look-up checks three on every request)."""
    since = clock.now() - max(throttle.window for throttle, _key in keyed)
    pairs = [(throttle.scope, key) for throttle, key in keyed]
    rows = db.session.execute(_RECENT_HITS, {"since": since, "pairs": pairs}).all()
    wait = 0
    for throttle, key in keyed:
        start = clock.now() - throttle.window
        times = sorted(
            (at for scope, hit_key, at in rows if (scope, hit_key) == (throttle.scope, key)),
            reverse=True,
        )
        recent = [at for at in times if at > start][: throttle.limit]
        if len(recent) == throttle.limit:
            free_at = recent[-1] + throttle.window
            wait = max(wait, max(1, math.ceil((free_at - clock.now()).total_seconds())))
    return wait
