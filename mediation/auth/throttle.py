"""Counting failed attempts in the database so the limit holds across web workers."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, tuple_

from mediation import clock
from mediation.auth.models import ThrottleHit
from mediation.database import read
from mediation.extensions import db

# Failures are kept at least this long: the longest fixed window (applications a day) and a day
# more. The configurable windows are the settings below, in minutes.
KEEP_HITS_AT_LEAST = timedelta(days=2)
WINDOW_SETTINGS = (
    "LOGIN_LOCK_MINUTES",
    "PORTAL_LOCK_MINUTES",
    "VERIFY_LOCK_MINUTES",
    "API_LOCK_MINUTES",
)


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


def recent_failures(keyed: list[tuple[Throttle, str]]) -> dict[tuple[str, str], list[datetime]]:
    """The failures of each (throttle, key) within its window, newest first, keyed by (scope,
    key): one query for all of them (a look-up checks three on every request), read as rows."""
    if db.session.new:
        db.session.flush()  # a failure added in this transaction counts too
    now = clock.now()
    since = now - max(throttle.window for throttle, _key in keyed)
    pairs = [(throttle.scope, key) for throttle, key in keyed]
    rows = read(_RECENT_HITS, {"since": since, "pairs": pairs}).all()
    found: dict[tuple[str, str], list[datetime]] = {pair: [] for pair in pairs}
    for throttle, key in keyed:
        start = now - throttle.window
        found[(throttle.scope, key)] = sorted(
            (
                at
                for scope, hit_key, at in rows
                if (scope, hit_key) == (throttle.scope, key) and at > start
            ),
            reverse=True,
        )
    return found


def seconds_until(moment: datetime) -> int:
    """Whole seconds from now until `moment`, at least 1 (for Retry-After)."""
    return max(1, math.ceil((moment - clock.now()).total_seconds()))


def wait_for(throttle: Throttle, times: list[datetime]) -> int:
    """Seconds until a key with these recent failures (newest first) may try again; 0 when it
    is not blocked."""
    if len(times) < throttle.limit:
        return 0
    return seconds_until(times[throttle.limit - 1] + throttle.window)


def longest_wait(keyed: list[tuple[Throttle, str]]) -> int:
    """Seconds until every (throttle, key) may try again, 0 when none is blocked."""
    failures = recent_failures(keyed)
    return max(wait_for(t, failures[(t.scope, key)]) for t, key in keyed)


def forget_old_hits(now: datetime) -> int:
    """Forget the failures no window counts any more (on the index of their time); how many."""
    config = current_app.config
    keep = max(
        KEEP_HITS_AT_LEAST,
        *(timedelta(minutes=int(config.get(name, 0))) for name in WINDOW_SETTINGS),
    )
    return db.session.execute(
        delete(ThrottleHit)
        .where(ThrottleHit.at < now - keep)
        .execution_options(synchronize_session=False)
    ).rowcount
