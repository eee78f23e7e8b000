"""Dispute mediation case workflow (诉源治理) for county dispute resolution centres."""

import os
import sys
from pathlib import Path

from flask import Flask
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, ConfigError, DevelopmentConfig, check_settings
from mediation.web.language import gettext as _
from mediation.web.static_files import serve_static


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """The app; raises ConfigError, with a message for the operator, for a setting it cannot
    start with (an unknown MEDIATION_ENV, no SECRET_KEY in production, an unknown TIMEZONE, a
    SQLite file that cannot be opened)."""
    config_name = config_name or os.environ.get("MEDIATION_ENV", "development")
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_object(CONFIGS.get(config_name, DevelopmentConfig))
    app.config.update(overrides)
    _init_babel(app)
    with app.app_context():
        if config_name not in CONFIGS:
            raise ConfigError(
                _(
                    "MEDIATION_ENV %(name)s is unknown; use one of: %(names)s.",
                    name=config_name,
                    names=", ".join(CONFIGS),
                )
            )
        check_settings(app.config)
        _configure_database(app)
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=1)

    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    _register_template_context(app)
    serve_static(app)
    return app


def create_app_or_exit() -> Flask:
    """create_app for wsgi.py: a setting the app cannot start with ends the process with its
    message on one line of stderr and status 1, not a traceback (`flask` and gunicorn)."""
    try:
        return create_app()
    except ConfigError as error:
        sys.exit(str(error))


def _init_babel(app: Flask) -> None:
    # First, so that a setting refused at start-up is told in the operator's language.
    from mediation.extensions import babel
    from mediation.web.language import select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)


def _configure_database(app: Flask) -> None:
    from mediation.database import check_sqlite_file

    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        path = Path(app.instance_path) / "mediation.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        check_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}


def _init_extensions(app: Flask) -> None:
    from mediation.database import configure_postgresql, configure_sqlite
    from mediation.extensions import csrf, db, login_manager, migrate
    from mediation.web.params import apply_upload_limits

    _import_models()
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            configure_postgresql(app, db.engine)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    apply_upload_limits(app)  # before CSRFProtect, which reads the form
    csrf.init_app(app)


def _import_models() -> None:
    """Every model module, so the metadata (and Alembic's autogenerate) sees every table."""
    import mediation.api.models  # noqa: F401
    import mediation.applications.models  # noqa: F401
    import mediation.audit.models  # noqa: F401
    import mediation.auth.models  # noqa: F401
    import mediation.cases.models  # noqa: F401
    import mediation.directory.models  # noqa: F401
    import mediation.documents.models  # noqa: F401
    import mediation.integrity.models  # noqa: F401
    import mediation.jobs.models  # noqa: F401
    import mediation.ledger.models  # noqa: F401
    import mediation.notify.models  # noqa: F401
    import mediation.portal.models  # noqa: F401
    import mediation.stats.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from mediation.web.params import IdConverter

    app.url_map.converters["id"] = IdConverter
    import mediation.cases.caseloads  # noqa: F401 - attaches the caseload page
    import mediation.cases.lists  # noqa: F401 - attaches the list and dashboard views
    import mediation.cases.parties  # noqa: F401 - attaches a party's preferences page
    import mediation.cases.routes  # noqa: F401 - attaches intake, detail and action views
    import mediation.portal.public  # noqa: F401 - attaches the certificate check, honour list
    import mediation.portal.status  # noqa: F401 - attaches the party's case status pages
    from mediation.api.admin import bp as api_admin_bp
    from mediation.api.routes import bp as api_bp
    from mediation.applications.routes import bp as applications_bp
    from mediation.audit.routes import bp as audit_bp
    from mediation.auth.routes import bp as auth_bp
    from mediation.cases.blueprint import bp as cases_bp
    from mediation.directory.routes import bp as directory_bp
    from mediation.documents.routes import bp as documents_bp
    from mediation.extensions import csrf
    from mediation.integrity.routes import bp as integrity_bp
    from mediation.jobs.routes import bp as jobs_bp
    from mediation.ledger.routes import bp as ledger_bp
    from mediation.notify.routes import bp as notify_bp
    from mediation.portal.blueprint import bp as portal_bp
    from mediation.stats.routes import bp as stats_bp
    from mediation.web.compression import compress_pages
    from mediation.web.errors import register_error_pages
    from mediation.web.params import bound_json_bodies, refuse_nul_characters
    from mediation.web.routes import bp as web_bp
    from mediation.web.security import add_security_headers

    for blueprint in (
        web_bp,
        auth_bp,
        cases_bp,
        documents_bp,
        integrity_bp,
        portal_bp,
        applications_bp,
        notify_bp,
        jobs_bp,
        directory_bp,
        audit_bp,
        ledger_bp,
        stats_bp,
        api_bp,
        api_admin_bp,
    ):
        app.register_blueprint(blueprint)
    # The API authenticates each request with its bearer token, never with a cookie.
    csrf.exempt(api_bp)
    register_error_pages(app)
    refuse_nul_characters(app)
    bound_json_bodies(app)
    add_security_headers(app)
    compress_pages(app)


def _register_commands(app: Flask) -> None:
    from mediation.api.cli import api_cli
    from mediation.auth.cli import user_cli
    from mediation.backup_cli import backup_command
    from mediation.demo.cli import demo_cli
    from mediation.directory.cli import centre_cli
    from mediation.jobs.cli import jobs_cli, scheduler_command
    from mediation.ledger.cli import ledger_cli
    from mediation.stats.cli import stats_cli
    from mediation.web.static_files import static_cli

    for group in (
        centre_cli,
        user_cli,
        demo_cli,
        jobs_cli,
        scheduler_command,
        stats_cli,
        ledger_cli,
        backup_command,
        static_cli,
        api_cli,
    ):
        app.cli.add_command(group)


def _register_template_context(app: Flask) -> None:
    from mediation.cases import timeline
    from mediation.directory.centres import region_name
    from mediation.documents import printing
    from mediation.notify.routes import register_unread_count
    from mediation.web import language
    from mediation.web.language import html_lang, locale_name, page_gettext
    from mediation.web.navigation import nav_items_for

    language.register_filters(app)
    timeline.register_filters(app)
    printing.register_filters(app)
    app.jinja_env.globals.update(region_name=region_name)
    register_unread_count(app)
    app.context_processor(page_gettext)

    @app.context_processor
    def _context():
        items = nav_items_for(current_user)
        locale = locale_name()
        return {
            "html_lang": html_lang(locale),
            "current_locale": locale,
            "languages": app.config["LANGUAGES"],
            "nav_items": items,
            "admin_items": [item for item in items if item.in_admin_menu],
        }
