"""A centre's settings and mediation periods, with the SPEC defaults where none are saved."""

from sqlalchemy import select

from mediation.directory.models import Category, Centre, CentreCategory, CentreSettings
from mediation.extensions import db


def settings_for(centre_id: int) -> CentreSettings:
    """The saved settings, or an unsaved row holding the model's defaults."""
    saved = _saved(centre_id)
    if saved is not None:
        return saved
    defaults = {
        column.name: column.default.arg
        for column in CentreSettings.__table__.columns
        if column.default is not None
    }
    return CentreSettings(centre_id=centre_id, **defaults)


_WARNING_DAYS_DEFAULT = CentreSettings.__table__.c.warning_days.default.arg


def warning_days(centre_id: int) -> int:
    """How many days ahead of a mediation deadline a case counts as near it (SPEC 3.3),
    without making the defaults' unsaved row."""
    saved = _saved(centre_id)
    return saved.warning_days if saved is not None else _WARNING_DAYS_DEFAULT


def _saved(centre_id: int) -> CentreSettings | None:
    """Read through the centre: the signed-in user's centre comes with its settings (see
    accounts.load_session_user), so a page of that centre asks nothing more."""
    centre = db.session.get(Centre, centre_id)
    return centre.settings if centre is not None else None


def incentive_measures(centre_id: int) -> list[str]:
    """The measures a centre's certificates grant (e.g. 诉讼费用减免), in order."""
    text = settings_for(centre_id).incentive_measures or ""
    return [line.strip() for line in text.splitlines() if line.strip()]


def mediation_periods(centre_id: int) -> dict[str, int]:
    """Every category's mediation period at this centre, in days (its override or the
    category's own)."""
    periods = dict(
        db.session.execute(select(Category.code, Category.mediation_days)).tuples().all()
    )
    overrides = db.session.execute(
        select(CentreCategory.category_code, CentreCategory.mediation_days).where(
            CentreCategory.centre_id == centre_id
        )
    )
    return periods | dict(overrides.tuples().all())


def mediation_days(centre_id: int, category_code: str) -> int:
    override = db.session.scalar(
        select(CentreCategory.mediation_days).where(
            CentreCategory.centre_id == centre_id, CentreCategory.category_code == category_code
        )
    )
    if override is not None:
        return override
    return db.session.scalar(select(Category.mediation_days).where(Category.code == category_code))
