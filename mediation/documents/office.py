"""What a DOCX or XLSX file is: an Office Open XML package (ECMA-376 Part 2), told by its
parts and bounded in how far it would expand, judged from the ZIP's directory and its few
small parts that say what it holds, never extracting the rest.

A DOCX or XLSX has a [Content_Types].xml that gives every part its type, a _rels/.rels whose
officeDocument relationship names the main part (word/document.xml, xl/workbook.xml), and
that main part, of the main type and with the root element of its format. A ZIP that only
names such a part (a web page inside, a 4 GB zip bomb) is refused.
"""

import posixpath
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from mediation.web.language import gettext as _

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The main part's content type → the file's type and its root element, by namespace.
MAIN_PARTS = {
    DOCX + ".main+xml": (
        DOCX,
        {
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}document",
            "{http://purl.oclc.org/ooxml/wordprocessingml/main}document",  # Strict
        },
    ),
    XLSX + ".main+xml": (
        XLSX,
        {
            "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}workbook",
            "{http://purl.oclc.org/ooxml/spreadsheetml/main}workbook",
        },
    ),
}
OFFICE_DOCUMENT = {
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument",
}
CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CONTENT_TYPES, PACKAGE_RELATIONSHIPS = "[Content_Types].xml", "_rels/.rels"

# Bounds on what opening the file would unpack. A 20 MB document of text and pictures expands
# to well under this; images hardly compress, XML about tenfold.
MAX_EXPANDED_BYTES = 256 * 1024 * 1024
MAX_RATIO = 100
RATIO_GRACE_BYTES = 1024 * 1024  # small parts may compress as they like
MAX_PARTS = 10_000
# [Content_Types].xml, the relationships and the start of the main part are read, no more.
MAX_READ_BYTES = 1024 * 1024
# OOXML allows no other compression, nor encryption inside the ZIP.
METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


class PackageRefused(Exception):
    """A ZIP that claims to be a DOCX or XLSX and is refused; str() is the user's message."""


def package_type(path: Path | BinaryIO) -> str | None:
    """DOCX or XLSX for a valid package (a file's path, or the file open); None for a ZIP
    that is no Office package at all (no [Content_Types].xml) or cannot be read. Raises
    PackageRefused for one that claims to be and is not, or that would expand too far."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if not any(part.filename == CONTENT_TYPES for part in parts):
                return None
            _check_expansion(parts)
            return _main_type(archive, parts)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError):
        return None
    except (ParseError, ValueError, KeyError, RuntimeError, NotImplementedError, zlib.error):
        raise PackageRefused(_not_valid_message()) from None


def _check_expansion(parts: list[zipfile.ZipInfo]) -> None:
    """By the sizes the ZIP's directory declares: every one counts, overlapping or not."""
    expanded = sum(part.file_size for part in parts)
    packed_tight = any(
        part.file_size > RATIO_GRACE_BYTES
        and part.file_size > MAX_RATIO * max(part.compress_size, 1)
        for part in parts
    )
    if expanded > MAX_EXPANDED_BYTES or packed_tight:
        raise PackageRefused(
            _(
                "This DOCX or XLSX file would expand to more than %(mb)d MB when opened, or is "
                "packed far more tightly than a real document: it was refused as a possible "
                "zip bomb. Save it again from Word or Excel, or upload it as PDF.",
                mb=MAX_EXPANDED_BYTES // (1024 * 1024),
            )
        )


def _main_type(archive: zipfile.ZipFile, parts: list[zipfile.ZipInfo]) -> str:
    names = [part.filename for part in parts if not part.is_dir()]
    if len(parts) > MAX_PARTS or len({name.lower() for name in names}) != len(names):
        raise ValueError("too many or duplicate parts")
    for part in parts:
        if not _is_part_name(part.filename) or part.flag_bits & 0x1:
            raise ValueError(f"bad part {part.filename!r}")
        if part.compress_type not in METHODS:
            raise ValueError(f"compression {part.compress_type}")
    defaults, overrides = _content_types(archive)

    def content_type(name: str) -> str | None:
        extension = name.rpartition(".")[2].lower() if "." in name.rsplit("/", 1)[-1] else ""
        return overrides.get("/" + name.lower()) or defaults.get(extension)

    if any(content_type(name) is None for name in names if name != CONTENT_TYPES):
        raise ValueError("a part without a content type")
    main = _main_part(archive)
    found = next((name for name in names if name.lower() == main.lower()), None)
    if found is None or content_type(found) not in MAIN_PARTS:
        raise ValueError("no main part of a DOCX or XLSX")
    kind, roots = MAIN_PARTS[content_type(found)]
    if _root_tag(archive, found) not in roots:
        raise ValueError("the main part's root element is not its format's")
    return kind


def _is_part_name(name: str) -> bool:
    segments = name.rstrip("/").split("/")
    return (
        "\\" not in name
        and not name.startswith("/")
        and all(segment not in ("", ".", "..") for segment in segments)
    )


def _content_types(archive: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
    """Extension → type and "/part/name" → type, both keys in lower case (OPC names are
    case-insensitive)."""
    root = _parse(archive, CONTENT_TYPES)
    defaults = {
        element.get("Extension", "").lower(): element.get("ContentType", "")
        for element in root.iter(CONTENT_TYPES_NS + "Default")
    }
    overrides = {
        element.get("PartName", "").lower(): element.get("ContentType", "")
        for element in root.iter(CONTENT_TYPES_NS + "Override")
    }
    return defaults, overrides


def _main_part(archive: zipfile.ZipFile) -> str:
    """The part the package's officeDocument relationship points at."""
    for relationship in _parse(archive, PACKAGE_RELATIONSHIPS).iter(
        RELATIONSHIPS_NS + "Relationship"
    ):
        if (
            relationship.get("Type") in OFFICE_DOCUMENT
            and relationship.get("TargetMode", "Internal") == "Internal"
        ):
            return posixpath.normpath(unquote(relationship.get("Target", "")).lstrip("/"))
    raise ValueError("no officeDocument relationship")


class _NoDoctype(TreeBuilder):
    """OOXML has no DTD; one is refused before any entity of it could expand."""

    def doctype(self, name, pubid, system):
        raise ValueError("a DTD")


def _parse(archive: zipfile.ZipFile, name: str) -> Element:
    """A small part, whole (KeyError when it is missing)."""
    if archive.getinfo(name).file_size > MAX_READ_BYTES:
        raise ValueError(f"{name} is too large")
    parser = XMLParser(target=_NoDoctype())
    with archive.open(name) as part:
        parser.feed(part.read(MAX_READ_BYTES))
    return parser.close()


class _RootTag(_NoDoctype):
    tag: str | None = None

    def start(self, tag, attrs):
        self.tag = self.tag or tag
        return super().start(tag, attrs)


def _root_tag(archive: zipfile.ZipFile, name: str) -> str | None:
    """The root element's tag, from the start of the part (it may be large)."""
    target = _RootTag()
    parser = XMLParser(target=target)
    with archive.open(name) as part:
        read = 0
        while target.tag is None and read < MAX_READ_BYTES and (chunk := part.read(64 * 1024)):
            parser.feed(chunk)
            read += len(chunk)
    return target.tag


def _not_valid_message() -> str:
    return _(
        "This file claims to be a DOCX or XLSX document but is not a valid one (its parts "
        "were checked). Save it again from Word or Excel, or upload it as PDF."
    )
