"""A centre's settings and mediation periods, with the SPEC defaults where none are saved."""

from sqlalchemy import select

from mediation.directory.models import Category, CentreCategory, CentreSettings
from mediation.extensions import db


def settings_for(centre_id: int) -> CentreSettings:
    """The saved settings, or an unsaved row holding the defaults."""
    saved = db.session.get(CentreSettings, centre_id)
    if saved is not None:
        return saved
    return CentreSettings(
        centre_id=centre_id,
        triage_days=3,
        triage_days_high_risk=1,
        warning_days=5,
        extensions_allowed=True,
        extension_max_days=30,
    )


def mediation_days(centre_id: int, category_code: str) -> int:
    override = db.session.scalar(
        select(CentreCategory.mediation_days).where(
            CentreCategory.centre_id == centre_id, CentreCategory.category_code == category_code
        )
    )
    if override is not None:
        return override
    return db.session.scalar(select(Category.mediation_days).where(Category.code == category_code))
