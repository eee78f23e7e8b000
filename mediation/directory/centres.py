"""Adding and changing centres, shared by the CLI and the admin pages."""

import re
from itertools import groupby
from operator import attrgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from config import parse_region_names
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.web.language import gettext as _

CENTRE_CODE = re.compile(r"^\d{6}$")
NAME_LENGTH = Centre.__table__.c.name.type.length
ABBREVIATION_LENGTH = Centre.__table__.c.abbreviation.type.length


class CentreError(ValueError):
    """A centre's data was refused; the message is for the user and names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder of zones
        raise CentreError("timezone", _("Unknown time zone: %(name)s", name=name)) from None
    return name


def by_time_zone(centres: list[Centre]) -> list[list[Centre]]:
    """`centres` in groups that share a time zone, and so a business date at any moment."""
    zone = attrgetter("timezone")
    return [list(same_zone) for _zone, same_zone in groupby(sorted(centres, key=zone), key=zone)]


def region_centres(region_code: str) -> list[Centre]:
    """The centres of a division (SPEC 10): those whose codes start with `region_code`, e.g.
    3301 (a city) holds 330102 and 330106. By code."""
    return list(
        db.session.scalars(
            db.select(Centre).where(Centre.code.startswith(region_code)).order_by(Centre.code)
        )
    )


def region_name(region_code: str) -> str:
    """A region as pages and exports name it: its name in REGION_NAMES, else its code."""
    name = parse_region_names(current_app.config["REGION_NAMES"]).get(region_code)
    return name or _("Region %(code)s", code=region_code)


def region_centre_ids(region_code: str) -> frozenset[int]:
    return frozenset(
        db.session.scalars(db.select(Centre.id).where(Centre.code.startswith(region_code)))
    )


def add_centre(code: str, name: str, abbreviation: str, timezone: str = "Asia/Shanghai") -> Centre:
    code, name, abbreviation = code.strip(), name.strip(), abbreviation.strip()
    if not CENTRE_CODE.match(code):
        raise CentreError("code", _("The centre code must be a 6-digit region code."))
    if not name:
        raise CentreError("name", _("The centre needs a name."))
    if len(name) > NAME_LENGTH:
        raise CentreError(
            "name",
            _(
                "The centre's name may have at most %(n)d characters; this one has %(length)d.",
                n=NAME_LENGTH,
                length=len(name),
            ),
        )
    if not abbreviation:
        raise CentreError("abbreviation", _("The centre needs an abbreviation."))
    if len(abbreviation) > ABBREVIATION_LENGTH:
        raise CentreError(
            "abbreviation",
            _(
                "The abbreviation may have at most %(n)d characters; this one has %(length)d.",
                n=ABBREVIATION_LENGTH,
                length=len(abbreviation),
            ),
        )
    if db.session.scalar(db.select(Centre.id).filter_by(code=code)) is not None:
        raise CentreError("code", _("A centre with code %(code)s exists already.", code=code))
    centre = Centre(
        code=code, name=name, abbreviation=abbreviation, timezone=validate_timezone(timezone)
    )
    db.session.add(centre)
    db.session.flush()
    return centre


def centre_by_code(code: str) -> Centre | None:
    return db.session.scalar(db.select(Centre).filter_by(code=code.strip()))
