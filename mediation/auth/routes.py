from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests
from wtforms.fields.choices import SelectChoice

from mediation.audit.log import client_address, record
from mediation.auth import accounts
from mediation.auth.access import require_centre, role_required
from mediation.auth.forms import (
    REGIONAL_CHOICE,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
)
from mediation.auth.models import Role, User
from mediation.auth.throttle import minutes_to_wait
from mediation.directory.models import Centre
from mediation.extensions import db, login_manager
from mediation.web.language import gettext as _
from mediation.web.navigation import safe_next_url
from mediation.web.params import page_number

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.user_loader(accounts.load_session_user)


@login_manager.unauthorized_handler
def ask_to_sign_in():
    flash(_("Please sign in to see that page."), "warning")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        throttles = accounts.LoginThrottles.from_config()
        client = client_address()
        if wait := throttles.client.retry_after(client):
            raise TooManyRequests(
                _(
                    "Too many failed sign-ins from this computer. Try again in %(n)d minutes.",
                    n=minutes_to_wait(wait),
                ),
                retry_after=wait,
            )
        username = accounts.normalise_username(form.username.data)
        if wait := throttles.account.retry_after(username):
            record("login.locked", target=username)
            db.session.commit()
            form.form_errors.append(_locked_message(wait))
            return render_template("auth/login.html", form=form), 200
        user = accounts.authenticate(username, form.password.data)
        if user is None:
            throttles.account.hit(username)
            throttles.client.hit(client)
            record("login.failure", target=username)
            db.session.commit()
            wait = throttles.account.retry_after(username)
            form.form_errors.append(
                _locked_message(wait) if wait else _("Wrong username or password.")
            )
            return render_template("auth/login.html", form=form), 200
        throttles.account.clear(username)
        # A fresh session at sign-in: nothing from before (or planted) carries over.
        session.clear()
        accounts.start_session(user, remember=form.remember.data, client=client)
        login_user(user, remember=form.remember.data)
        record("login.success", target=user.username, centre_id=user.centre_id, actor=user)
        db.session.commit()
        return redirect(safe_next_url(request.args.get("next")) or url_for("web.home"))
    return render_template("auth/login.html", form=form)


def _locked_message(wait_seconds: int) -> str:
    return _(
        "This account is locked after too many failed sign-ins. Try again in %(n)d minutes.",
        n=minutes_to_wait(wait_seconds),
    )


@bp.post("/logout")
@login_required
def logout():
    record("logout", target=current_user.username, centre_id=current_user.centre_id)
    accounts.end_session(current_user.get_id())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if accounts.authenticate(current_user.username, form.current_password.data) is None:
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            try:
                accounts.set_password(current_user, form.password.data)
            except accounts.AccountError as error:
                form[error.field].errors.append(str(error))
            else:
                record(
                    "user.password_change",
                    target=current_user.username,
                    centre_id=current_user.centre_id,
                )
                db.session.commit()
                flash(_("Your password has been changed. Please sign in again."), "success")
                logout_user()
                session.clear()
                return redirect(url_for("auth.login"))
    return render_template("auth/change_password.html", form=form)


# --- user management (admins) ---------------------------------------------------------------


def _visible_user(user_id: int) -> User:
    user = db.get_or_404(User, user_id)
    if not current_user.is_global_admin:
        require_centre(user.centre_id)
    return user


def _centre_choices() -> list[SelectChoice]:
    if current_user.is_global_admin:
        centres = db.session.scalars(select(Centre).order_by(Centre.code)).all()
        return [SelectChoice("", _("None (an administrator of every centre, or of a region)"))] + [
            SelectChoice(str(c.id), str(c)) for c in centres
        ]
    return [SelectChoice(str(current_user.centre.id), str(current_user.centre))]


def _chosen_centre(form) -> Centre | None:
    if not form.centre.data:
        return None
    return db.session.get(Centre, int(form.centre.data))


@bp.get("/admin/users/")
@role_required(Role.ADMIN)
def users():
    query = select(User).order_by(User.centre_id, User.role, User.username)
    if not current_user.is_global_admin:
        query = query.where(User.centre_id == current_user.centre_id)
    page = db.paginate(
        query, page=request.args.get("page", 1, type=page_number), per_page=50, error_out=False
    )
    return render_template("auth/users.html", page=page)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_user():
    form = UserCreateForm()
    form.centre.choices = _centre_choices()
    if current_user.is_global_admin:
        form.role.choices = [*form.role.choices, REGIONAL_CHOICE]
    if request.method == "GET" and not current_user.is_global_admin:
        form.centre.data = str(current_user.centre_id)
    if form.validate_on_submit():
        role = Role(form.role.data)
        region = (form.region.data or "").strip() if role == Role.REGIONAL_ADMIN else None
        try:
            user = accounts.add_user(
                form.username.data,
                form.display_name.data,
                role,
                form.password.data,
                _chosen_centre(form),
                region,
            )
            user.is_active = form.is_active.data
        except accounts.AccountError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            record(
                "user.create",
                target=user.username,
                centre_id=user.centre_id,
                role=user.role,
                **({"region": region} if region else {}),
            )
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/create_user.html", form=form)


@bp.route("/admin/users/<id:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int):
    user = _visible_user(user_id)
    form = UserEditForm(obj=user)
    form.centre.choices = _centre_choices()
    if user.is_regional_admin:  # keeps their role unless changed (a region is set when made)
        form.role.choices = [*form.role.choices, SelectChoice(user.role, user.role_enum.label)]
    if request.method == "GET":
        form.centre.data = str(user.centre_id or "")
    if form.validate_on_submit():
        try:
            changes = accounts.update_user(
                user,
                current_user,
                form.display_name.data,
                Role(form.role.data),
                _chosen_centre(form),
                form.is_active.data,
            )
        except accounts.AccountError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            if changes:
                record("user.update", target=user.username, centre_id=user.centre_id, **changes)
            db.session.commit()
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/edit_user.html", form=form, user=user)


@bp.route("/admin/users/<id:user_id>/password", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def reset_password(user_id: int):
    user = _visible_user(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data)
        except accounts.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            record("user.password_reset", target=user.username, centre_id=user.centre_id)
            db.session.commit()
            flash(
                _(
                    "The password of %(name)s has been reset; their open sessions have ended.",
                    name=user.username,
                ),
                "success",
            )
            return redirect(url_for("auth.users"))
    return render_template("auth/reset_password.html", form=form, user=user)
