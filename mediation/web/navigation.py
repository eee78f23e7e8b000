"""Where a signed-in user may go, by role, and safe redirects."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from mediation.auth.models import Role
from mediation.web.language import lazy_gettext as _l


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    roles: tuple[Role, ...]
    # Administration pages sit in one menu so the bar stays one line on a laptop.
    in_admin_menu: bool = False


NAV_ITEMS = (
    NavItem("web.home", _l("Home"), (Role.ADMIN, Role.STAFF, Role.MEDIATOR)),
    NavItem("cases.register", _l("Register a case"), (Role.ADMIN, Role.STAFF)),
    NavItem("stats.index", _l("Centres compared"), (Role.REGIONAL_ADMIN,)),
    NavItem(
        "cases.index", _l("Cases"), (Role.ADMIN, Role.STAFF, Role.MEDIATOR, Role.REGIONAL_ADMIN)
    ),
    NavItem("integrity.profile", _l("Integrity"), (Role.ADMIN, Role.STAFF)),
    NavItem("cases.caseloads", _l("Caseloads"), (Role.ADMIN, Role.STAFF)),
    NavItem("directory.organizations", _l("Organisations"), (Role.ADMIN,), True),
    NavItem("directory.mediators", _l("Mediators"), (Role.ADMIN,), True),
    NavItem("directory.settings", _l("Settings"), (Role.ADMIN,), True),
    NavItem("auth.users", _l("Users"), (Role.ADMIN,), True),
    NavItem("directory.centres", _l("Centres"), (Role.ADMIN,), True),
    NavItem("notify.outbox_page", _l("Outbox"), (Role.ADMIN, Role.STAFF), True),
    NavItem("jobs.index", _l("Scheduled jobs"), (Role.ADMIN,), True),
    NavItem("ledger.upload", _l("Ledger import"), (Role.ADMIN,), True),
    NavItem("stats.index", _l("Statistics"), (Role.ADMIN,), True),
    NavItem("audit.entries", _l("Audit log"), (Role.ADMIN,), True),
    NavItem("api_admin.clients", _l("Integration clients"), (Role.ADMIN,), True),
)


def nav_items_for(user) -> list[NavItem]:
    """The signed-in user's menu: the items their role may open."""
    if not user.is_authenticated:
        return []
    return [item for item in NAV_ITEMS if user.has_role(*item.roles)]


def safe_next_url(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no open redirects)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
