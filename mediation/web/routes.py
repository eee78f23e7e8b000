from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from mediation.auth.models import Role
from mediation.cases.lists import render_dashboard, render_mine
from mediation.database import check_writes
from mediation.extensions import db
from mediation.stats.routes import render_stats
from mediation.web.language import LANGUAGE_COOKIE
from mediation.web.navigation import safe_next_url

bp = Blueprint("web", __name__)


@bp.get("/")
def home():
    """Signed in, the start page is the work: staff and admins see the queues, a mediator
    their own cases."""
    if not current_user.is_authenticated:
        return render_template("web/welcome.html")
    if current_user.role == Role.MEDIATOR:
        return render_mine(as_home=True)
    if current_user.is_regional_admin:
        return render_stats()  # their work is comparing the centres
    return render_dashboard(as_home=True)


@bp.post("/language")
def set_language():
    """Remember the chosen language in a cookie (CSRF-checked like every form)."""
    choice = request.form.get("lang", "")
    target = safe_next_url(request.form.get("next")) or url_for("web.home")
    response = redirect(target)
    if choice in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            choice,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


@bp.get("/healthz")
def health():
    """For load balancers and monitoring: 200 while the database answers and accepts a write,
    else 503 with the reason in the log."""
    try:
        check_writes(db.engine)
    except SQLAlchemyError as error:
        current_app.logger.error("health check: the database does not accept writes: %s", error)
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
