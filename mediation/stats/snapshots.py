"""Published months: a snapshot freezes a month's figures, and exports read it from then on."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from mediation import clock
from mediation.audit.log import record
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.stats.models import StatsSnapshot
from mediation.stats.queries import month_key, month_stats


def scope_key(centre: Centre | None) -> str:
    return centre.code if centre is not None else "all"


def find_snapshot(month: str, centre: Centre | None) -> StatsSnapshot | None:
    return db.session.scalar(
        select(StatsSnapshot).filter_by(scope_key=scope_key(centre), month=month)
    )


def published_stats(month: str, centre: Centre | None) -> dict:
    """The month's snapshot when it has one (published figures do not move), else live."""
    snapshot = find_snapshot(month, centre)
    return snapshot.data if snapshot is not None else month_stats(month, centre)


def snapshot_month(month: str, centre: Centre | None, user=None) -> StatsSnapshot:
    """Compute and store the month's figures, replacing an earlier snapshot; audited.
    The caller commits."""
    data = month_stats(month, centre)
    snapshot = find_snapshot(month, centre)
    if snapshot is None:
        snapshot = StatsSnapshot(
            centre_id=centre.id if centre is not None else None,
            scope_key=scope_key(centre),
            month=month,
        )
        db.session.add(snapshot)
    snapshot.data, snapshot.created_at = data, clock.now()
    snapshot.created_by_id = user.id if user is not None else None
    record(
        "stats.snapshot",
        target=f"{scope_key(centre)} {month}",
        centre_id=snapshot.centre_id,
        actor=user,
        month=month,
    )
    db.session.flush()
    return snapshot


def snapshot_previous_month(now: datetime) -> int:
    """The scheduled job: snapshot last month for every centre and for all, where missing
    (a second run changes nothing)."""
    today = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
    month = month_key((today.replace(day=1) - timedelta(days=1)).replace(day=1))
    made = 0
    for centre in [*db.session.scalars(select(Centre).order_by(Centre.id)), None]:
        if find_snapshot(month, centre) is None:
            snapshot_month(month, centre)
            made += 1
    db.session.commit()
    return made
