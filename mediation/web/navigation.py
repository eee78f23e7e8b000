"""Where a signed-in user may go, by role, and safe redirects."""

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.routing import BuildError

from mediation.auth.models import Role
from mediation.web.forms import csrf_token
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


# A URL's shape, per mount point, endpoint and the names (and types) of its values: the URL
# with a {name} in place of each value, or None when Flask builds it each time.
_SHAPES: dict[tuple, str | None] = {}
SHAPES_KEPT = 2048  # the templates' own take a few hundred
_UNBUILT = object()
# Given values that are part of the shape itself (a static file, an anchor).
_IN_SHAPE = frozenset({"filename", "_anchor"})
# Values a URL carries as they are, unquoted: record ids, page numbers, codes.
_PLAIN = re.compile(r"[A-Za-z0-9_-]+")


def template_url_for(endpoint: str, **values) -> str:
    """The templates' url_for, each URL's shape built once per process and mount point: a
    static file, a page of the menu, a case's pages with the case's id filled in. Every
    page asks for a dozen, and building one cost more than the rest of its link. A URL
    with any other value (text to be quoted, _external) is built as Flask builds it."""
    if endpoint.startswith(".") or not all(
        name in _IN_SHAPE or _carried_as_is(value) for name, value in values.items()
    ):
        return url_for(endpoint, **values)
    key = (
        request.script_root,
        endpoint,
        *((name, value if name in _IN_SHAPE else type(value)) for name, value in values.items()),
    )
    shape = _SHAPES.get(key, _UNBUILT)
    if shape is _UNBUILT:
        if len(_SHAPES) >= SHAPES_KEPT:
            _SHAPES.clear()  # names and anchors may come from a query string: keep it bounded
        shape = _SHAPES[key] = _shape(endpoint, values)
    return url_for(endpoint, **values) if shape is None else shape.format_map(values)


def _carried_as_is(value) -> bool:
    return type(value) is int or (type(value) is str and _PLAIN.fullmatch(value) is not None)


def _shape(endpoint: str, values: dict) -> str | None:
    """The URL Flask builds with a mark for each value, each mark then made a {name}."""
    marks, probe = {}, {}
    for n, (name, value) in enumerate(values.items()):
        if name in _IN_SHAPE:
            probe[name] = value
            continue
        probe[name] = 1_000_000_010 + n if type(value) is int else f"zq{n}mark"
        marks[name] = str(probe[name])
    try:
        shape = url_for(endpoint, **probe).replace("{", "{{").replace("}", "}}")
    except (BuildError, ValueError):
        return None  # e.g. a converter that refuses the mark: Flask builds it each time
    for name, mark in marks.items():
        if shape.count(mark) != 1:
            return None
        shape = shape.replace(mark, "{" + name + "}")
    return shape


def install_template_url_for(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = template_url_for


# The layout's navigation bar as rendered, per app, mount point, language, user and active
# menu item: every page shows it, and rendering it took a third of a short page. Everything it
# shows is in the key, so a renamed user or a new notice makes another entry; the two values
# that change with each request are filled into slots no text can guess.
_BARS: dict[tuple, str] = {}
BARS_KEPT = 1024
_SLOT = secrets.token_hex(8)
_TOKEN_SLOT, _NEXT_SLOT = f"csrf-{_SLOT}", f"next-{_SLOT}"


def navbar(unread_notices: int = 0) -> Markup:
    """The navigation bar (templates/_navbar.html) for this request, with `unread_notices`
    on its notices link."""
    user = current_user._get_current_object()
    endpoint = request.endpoint
    if user.is_authenticated:
        menu = nav_items_for(user)
        active = endpoint if any(item.endpoint == endpoint for item in menu) else None
        centre = user.centre.name if user.centre else None
        shown = (user.id, user.role, user.display_name, centre, unread_notices)
    else:
        active, shown = None, endpoint != "auth.login"  # the sign-in link, but not on its page
    key = (id(current_app._get_current_object()), request.script_root, locale_name(), active, shown)
    bar = _BARS.get(key)
    if bar is None:
        if len(_BARS) >= BARS_KEPT:
            _BARS.clear()
        bar = _BARS[key] = render_template(
            "_navbar.html",
            active_endpoint=active,
            show_sign_in=shown is True,
            unread_notices=unread_notices,
            csrf_token=lambda: _TOKEN_SLOT,
            next_path=_NEXT_SLOT,
        )
    next_path = escape(request.full_path.rstrip("?"))
    return Markup(bar.replace(_TOKEN_SLOT, csrf_token()).replace(_NEXT_SLOT, next_path))
