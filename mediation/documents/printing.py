"""What printed documents need beyond their templates: counts in words, the running page
header and footer, and links (with their QR codes) to the app's public address."""

import re

from flask import Flask, current_app, url_for
from flask_babel import get_locale
from markupsafe import Markup
from segno import make_qr

from mediation.web.language import gettext as _

DIGITS = "零一二三四五六七八九"


def chinese_count(n: int) -> str:
    """1 → 一, 4 → 四, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (0 to 99)."""
    if not 0 <= n < 100:
        return str(n)
    tens, units = divmod(n, 10)
    if tens == 0:
        return DIGITS[units]
    return (DIGITS[tens] if tens > 1 else "") + "十" + (DIGITS[units] if units else "")


def count_in_words(n: int) -> str:
    """A count as a document writes it: Chinese numerals in Chinese (一式四份), digits else."""
    return chinese_count(n) if get_locale().language == "zh" else str(n)


def css_string(text: str) -> str:
    """A CSS string literal holding `text`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


def page_numbers_css() -> str:
    """The CSS content value of "第 x 页 共 y 页" in the user's language."""
    # Translated whole: the counters go wherever the translation puts the numbers.
    text = _("Page %(page)s of %(pages)s", page="\x00", pages="\x01")
    counters = {"\x00": "counter(page)", "\x01": "counter(pages)"}
    pieces = re.split("([\x00\x01])", text)
    return " ".join(counters.get(piece) or css_string(piece) for piece in pieces if piece)


def public_url(endpoint: str, **values) -> str | None:
    """An absolute link to the app at its configured public address (PUBLIC_URL), never at the
    Host header of the request being served, which a client can forge; None when unset."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for(endpoint, **values) if base else None


def qr_svg(url: str) -> Markup:
    """The QR code of `url` as SVG markup: no image request, no inline style (CSP)."""
    svg = make_qr(url, error="m").svg_inline(scale=3, border=2)
    return Markup(svg)  # segno writes only the path of the modules, not the text it encodes


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(count_in_words=count_in_words, css_string=css_string)
    app.jinja_env.globals.update(
        page_numbers_css=page_numbers_css, public_url=public_url, qr_svg=qr_svg
    )
