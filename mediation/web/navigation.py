"""Where a signed-in user may go, by role, and safe redirects."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l

from mediation.auth.models import Role
from mediation.web.language import locale_name


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
    NavItem("cases.index", _l("Cases"), (Role.ADMIN, Role.STAFF, Role.MEDIATOR)),
    NavItem("integrity.profile", _l("Integrity"), (Role.ADMIN, Role.STAFF)),
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
)


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: str  # in the request's language
    in_admin_menu: bool


_MENUS: dict[tuple[str, str], tuple[NavLink, ...]] = {}


def nav_items_for(user) -> tuple[NavLink, ...]:
    """The signed-in user's menu, its labels in the request's language: made once per role
    and language (every page shows it, and the labels were translated again on each)."""
    if not user.is_authenticated:
        return ()
    key = (user.role, locale_name())
    items = _MENUS.get(key)
    if items is None:
        items = _MENUS[key] = tuple(
            NavLink(item.endpoint, str(item.label), item.in_admin_menu)
            for item in NAV_ITEMS
            if user.has_role(*item.roles)
        )
    return items


def safe_next_url(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no open redirects)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


_FIXED_URLS: dict[tuple[str, str, str | None], str] = {}


def template_url_for(endpoint: str, **values) -> str:
    """The templates' url_for. A URL with no values of its own (a page of the menu, a static
    file) is built once per process: every page asks for a dozen, and building one cost
    more than the rest of its link. Any other is built as Flask builds it."""
    if endpoint.startswith(".") or (values and values.keys() != {"filename"}):
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, values.get("filename"))
    url = _FIXED_URLS.get(key)
    if url is None:
        url = _FIXED_URLS[key] = url_for(endpoint, **values)
    return url


def install_template_url_for(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = template_url_for
