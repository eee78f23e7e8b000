"""Static files under names that carry a hash of their content, compressed (gzip and Brotli)
and kept by browsers for good, served by WhiteNoise in front of the app.

`flask static build` writes each file of static/ under its hashed name, with its compressed
copies, into STATIC_BUILD_FOLDER. At start-up the app hashes static/ and `url_for('static',
filename=...)` gives the hashed name of every file whose copy is there; any other file (not
built yet, or changed since the build) keeps its plain name, served from static/ itself and
checked again by the browser at every use, so a page never links stale content.
"""

import hashlib
import os
import shutil
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from mediation.web.language import gettext as _
from mediation.web.security import security_headers

HASH_LENGTH = 12
# Source maps are read by developer tools only, under the plain name the file gives them.
NOT_BUILT = (".map",)

static_cli = AppGroup("static", help="Static files: hashed names and compressed copies.")


def hashed_name(name: str, content: bytes) -> str:
    """css/portal.css → css/portal.<12 hex digits of its SHA-256>.css"""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    folder, _slash, file_name = name.rpartition("/")
    stem, dot, suffix = file_name.rpartition(".")
    hashed = f"{stem}.{digest}.{suffix}" if dot and stem else f"{file_name}.{digest}"
    return f"{folder}/{hashed}" if folder else hashed


def hashed_names(source: Path) -> dict[str, str]:
    """Each file of `source` that the build copies (its path inside, with /) → its hashed name."""
    names = {}
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.endswith(NOT_BUILT):
            name = path.relative_to(source).as_posix()
            names[name] = hashed_name(name, path.read_bytes())
    return names


def build_static(source: Path, target: Path) -> tuple[int, int]:
    """Copies each file of `source` into `target` under its hashed name, with gzip and Brotli
    versions where they are smaller. Returns (new copies, files): a copy already there has the
    same content, by its name. Older copies stay: a server still running links them."""
    compressor = Compressor(quiet=True)
    names = hashed_names(source)
    new = 0
    for name, hashed in names.items():
        destination = target / hashed
        if destination.is_file():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed last: an interrupted build leaves no half-written file
        # under a name that the next build would take as done.
        partial = _with_suffix(destination, ".partial")
        shutil.copyfile(source / name, partial)
        if compressor.should_compress(destination.name):
            for compressed in compressor.compress(str(partial)):
                os.replace(compressed, _with_suffix(destination, compressed[-3:]))
        os.replace(partial, destination)
        new += 1
    return new, len(names)


def _with_suffix(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def build_folder(app: Flask) -> Path | None:
    """STATIC_BUILD_FOLDER (a relative path is taken from the project's folder), if set."""
    folder = app.config["STATIC_BUILD_FOLDER"]
    if not folder:
        return None
    return Path(os.path.abspath(Path(app.root_path).parent / folder))


def serve_static(app: Flask) -> None:
    """Static files go through WhiteNoise; url_for('static', ...) links the hashed names. In
    debug mode every file keeps its plain name and is read afresh, as it is being edited."""
    source = Path(app.static_folder)
    target = None if app.debug else build_folder(app)
    hashed = {}
    if target is not None and target.is_dir():
        hashed = {name: h for name, h in hashed_names(source).items() if (target / h).is_file()}
    headers = security_headers(app)

    def add_headers(response_headers, _path, _url):
        for name, value in headers.items():
            response_headers[name] = value

    def is_hashed(path: str, _url: str) -> bool:
        return target is not None and Path(path).is_relative_to(target)

    static_files = WhiteNoise(
        app.wsgi_app,
        root=source,
        prefix=app.static_url_path,
        # Under its plain name a file may change: the browser asks again (304 if unchanged).
        max_age=0,
        autorefresh=app.debug,
        allow_all_origins=False,
        add_headers_function=add_headers,
        immutable_file_test=is_hashed,
    )
    if hashed:
        static_files.add_files(target, prefix=app.static_url_path)
    app.wsgi_app = static_files

    @app.url_defaults
    def _hashed_static_name(endpoint, values):
        if endpoint == "static" and values.get("filename") in hashed:
            values["filename"] = hashed[values["filename"]]


@static_cli.command("build")
def build_command() -> None:
    """Write the static files under their hashed names, compressed, into STATIC_BUILD_FOLDER."""
    target = build_folder(current_app)
    if target is None:
        raise click.ClickException(_("STATIC_BUILD_FOLDER is not set."))
    new, total = build_static(Path(current_app.static_folder), target)
    click.echo(
        _(
            "%(total)d static files in %(folder)s, %(new)d of them new.",
            total=total,
            folder=target,
            new=new,
        )
    )
