"""Dossier files on disk: checked by their content, stored once under their SHA-256.

The folder (`DOSSIER_FOLDER`) lies outside the web root; files are only ever served through
the download view, which checks who may see the case. A file is written to a temporary name
in the same folder, synced, then renamed to its hash, so no half-written file ever carries a
hash name; a refused upload leaves nothing behind.
"""

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from mediation.documents import office
from mediation.documents.office import DOCX, XLSX
from mediation.web.language import gettext as _

MAX_FILE_BYTES = 20 * 1024 * 1024
CHUNK = 1024 * 1024

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
ZIP_MAGIC = b"PK\x03\x04"
MAGIC = {PDF: b"%PDF-", JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n"}
# What the list shows for a type, and the extension a download name ends in.
TYPES = {
    PDF: ("PDF", ".pdf"),
    JPEG: ("JPEG", ".jpg"),
    PNG: ("PNG", ".png"),
    DOCX: ("DOCX", ".docx"),
    XLSX: ("XLSX", ".xlsx"),
}
EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx"}


class UploadRefused(Exception):
    """A file the dossier does not take; str() is the message for the user."""


@dataclass(frozen=True)
class StoredContent:
    sha256: str
    size: int
    content_type: str
    is_new: bool = False  # written by this upload (not stored before)


def dossier_folder() -> Path:
    folder = Path(current_app.config["DOSSIER_FOLDER"])
    if not folder.is_absolute():
        folder = Path(current_app.root_path).parent / folder
    return folder


def path_for(sha256: str) -> Path:
    # Two hex digits of fan-out keep any one directory small with millions of files.
    return dossier_folder() / sha256[:2] / sha256


def store(stream: BinaryIO) -> StoredContent:
    """Copy an upload into the dossier folder and return what it is; raise UploadRefused
    (leaving no file behind) when it is empty, larger than 20 MB or of a type not taken."""
    folder = dossier_folder()
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            size, sha256 = _copy(stream, out)
            out.flush()
            os.fsync(out.fileno())
        content_type = sniff(Path(temporary))
        if content_type is None:
            raise UploadRefused(_refused_type())
        final = path_for(sha256)
        final.parent.mkdir(exist_ok=True)
        is_new = not final.exists()
        if is_new:
            os.replace(temporary, final)
            _sync_folder(final.parent)
        else:
            # The same content is already stored: keep one copy.
            os.unlink(temporary)
        return StoredContent(sha256, size, content_type, is_new)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def discard(stored: list[StoredContent]) -> None:
    """Remove the files these uploads wrote, when what they belonged to was not saved (a
    later file of the same form refused, the database refusing the rows)."""
    for content in stored:
        if content.is_new:
            path_for(content.sha256).unlink(missing_ok=True)


def _copy(stream: BinaryIO, out: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        if size == 0 and not _known_start(chunk):
            raise UploadRefused(_refused_type())
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise UploadRefused(too_large_message())
        digest.update(chunk)
        out.write(chunk)
    if size == 0:
        raise UploadRefused(_("The file is empty."))
    return size, digest.hexdigest()


def _known_start(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC) or any(head.startswith(m) for m in MAGIC.values())


def sniff(path: Path) -> str | None:
    """The content type by the file's bytes (never by its name), or None if not taken; raises
    UploadRefused with its own message for a ZIP that claims to be a DOCX or XLSX and is not
    one, or would expand too far (office.py)."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    for content_type, magic in MAGIC.items():
        if head.startswith(magic):
            return content_type
    if head.startswith(ZIP_MAGIC):
        try:
            return office.package_type(path)
        except office.PackageRefused as error:
            raise UploadRefused(str(error)) from None
    return None


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _refused_type() -> str:
    return _(
        "Only PDF, JPEG, PNG, DOCX and XLSX files are taken, and this file is none of them "
        "(its content was checked, not its name)."
    )


def too_large_message() -> str:
    return _("The file is larger than 20 MB. Nothing was stored.")


def type_label(content_type: str) -> str:
    return TYPES.get(content_type, (content_type, ""))[0]


def clean_filename(name: str | None) -> str:
    """The name as the user's computer gave it, without folders, control characters or
    characters that would break a header; Chinese names stay as they are."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>:|?*'
    ).strip(" .")
    return name[-150:] or "file"


def download_name(filename: str, content_type: str) -> str:
    """The stored name with the extension its content really has (a PNG named .pdf is
    downloaded as .png, so it opens in the right program)."""
    extension = TYPES.get(content_type, ("", ""))[1]
    stem, dot, current = filename.rpartition(".")
    if dot and "." + current.lower() in EXTENSIONS:
        filename = stem
    if content_type == JPEG and current.lower() in ("jpg", "jpeg"):
        extension = "." + current.lower()
    return (filename or "file") + extension
