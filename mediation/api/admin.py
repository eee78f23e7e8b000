"""The admin page of integration clients: their centre, scopes and last use; revoke one,
register its webhook."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import URLField
from wtforms.validators import Length, Optional

from mediation.api.clients import ClientError, revoke_client, set_webhook
from mediation.api.models import ApiClient
from mediation.audit.log import record
from mediation.auth.access import require_centre, role_required
from mediation.auth.models import Role
from mediation.extensions import db
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

bp = Blueprint("api_admin", __name__, url_prefix="/admin/api-clients")


class RevokeForm(FlaskForm):
    pass


class WebhookForm(FlaskForm):
    url = URLField(
        _l("Webhook URL"),
        validators=[Optional(), Length(max=500)],
        description=_l("Transfers and conclusions of the centre's cases are POSTed here."),
    )


def _clients() -> list[ApiClient]:
    query = select(ApiClient).order_by(ApiClient.name)
    if not current_user.is_global_admin:
        query = query.where(ApiClient.centre_id == current_user.centre_id)
    return list(db.session.scalars(query))


def _client_or_404(client_id: int) -> ApiClient:
    """404 for an unknown client and for another centre's."""
    client = db.session.get(ApiClient, client_id)
    if client is None:
        abort(404)
    require_centre(client.centre_id)
    return client


def _page(new_secret: str | None = None, failed: tuple[int, WebhookForm] | None = None):
    forms = {client.id: WebhookForm(url=client.webhook_url) for client in _clients()}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return render_template(
        "api/clients.html",
        clients=_clients(),
        webhook_forms=forms,
        revoke_form=RevokeForm(),
        new_secret=new_secret,
    )


@bp.get("/")
@role_required(Role.ADMIN)
def clients():
    return _page()


@bp.post("/<id:client_id>/revoke")
@role_required(Role.ADMIN)
def revoke(client_id: int):
    client = _client_or_404(client_id)
    if not RevokeForm().validate_on_submit():
        abort(400)
    revoke_client(client)
    record("api_client.revoke", target=client.name, centre_id=client.centre_id)
    db.session.commit()
    flash(_("Client %(name)s revoked: its token no longer works.", name=client.name), "success")
    return redirect(url_for("api_admin.clients"))


@bp.post("/<id:client_id>/webhook")
@role_required(Role.ADMIN)
def webhook(client_id: int):
    """Register the client's webhook; the new signing secret is shown on this answer only."""
    client = _client_or_404(client_id)
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            secret = set_webhook(client, form.url.data)
        except ClientError as error:
            form.url.errors.append(str(error))
        else:
            record(
                "api_client.webhook",
                target=client.name,
                centre_id=client.centre_id,
                url=client.webhook_url or "",
            )
            db.session.commit()
            if secret is None:
                flash(_("Webhook of %(name)s removed.", name=client.name), "success")
                return redirect(url_for("api_admin.clients"))
            return _page(new_secret=(client.name, secret))
    db.session.rollback()
    return _page(failed=(client.id, form)), 422
