"""Integration clients: their tokens (shown once, stored as SHA-256), scopes and webhook."""

import hashlib
import secrets

from sqlalchemy import bindparam, select

from mediation import clock
from mediation.api.models import ApiClient
from mediation.api.webhooks import signing_key
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.web.language import gettext as _

SCOPES = ("cases:read", "cases:write", "stats:read")
TOKEN_PREFIX = "mdt_"  # lets a secret scanner recognise a leaked token


class ClientError(Exception):
    """A client that cannot be added or changed; str() says why, for the operator."""


def hash_token(token: str) -> str:
    # A token is 32 random bytes: a plain hash cannot be searched, unlike a password's.
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(text: str) -> list[str]:
    scopes = [scope.strip() for scope in text.replace(" ", ",").split(",") if scope.strip()]
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ClientError(
            _(
                "Unknown scope: %(scopes)s. Use one or more of: %(known)s.",
                scopes=", ".join(unknown) or "—",
                known=", ".join(SCOPES),
            )
        )
    return sorted(set(scopes), key=SCOPES.index)


def add_client(name: str, centre: Centre, scopes: list[str]) -> tuple[ApiClient, str]:
    """A new client and its token, which is not kept: the caller shows it once."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ClientError(_("A client's name has 1 to 64 characters."))
    if client_named(name) is not None:
        raise ClientError(_("There is a client named %(name)s already.", name=name))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name, centre_id=centre.id, scopes=" ".join(scopes), token_hash=hash_token(token)
    )
    db.session.add(client)
    db.session.flush()
    return client, token


def client_named(name: str) -> ApiClient | None:
    return db.session.scalar(select(ApiClient).where(ApiClient.name == name))


def all_clients() -> list[ApiClient]:
    return list(db.session.scalars(select(ApiClient).order_by(ApiClient.name)))


def revoke_client(client: ApiClient) -> None:
    if client.revoked_at is None:
        client.revoked_at = clock.now()


def set_webhook(client: ApiClient, url: str | None) -> str | None:
    """Register the client's one webhook URL (None: remove it); a new signing secret, shown
    once by the caller."""
    if not url:
        client.webhook_url = client.webhook_salt = client.webhook_secret = None
        return None
    url = url.strip()
    if not url.startswith(("http://", "https://")) or len(url) > 500 or " " in url:
        raise ClientError(_("A webhook URL starts with http:// or https://."))
    client.webhook_url = url
    client.webhook_salt, client.webhook_secret = secrets.token_hex(16), None
    return signing_key(client.webhook_salt)


def client_with_token(token: str) -> ApiClient | None:
    """The active client this bearer token belongs to, if any."""
    return db.session.scalar(_CLIENT_WITH_TOKEN, {"hash": hash_token(token)})


_CLIENT_WITH_TOKEN = select(ApiClient).where(
    ApiClient.token_hash == bindparam("hash"), ApiClient.revoked_at.is_(None)
)
