"""Every string the code and templates show is translated, in Chinese and in English."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import format_date, format_datetime

from mediation.cases.timeline import money
from mediation.web.language import (
    WIDTHS,
    FoldedTranslations,
    dateformat,
    datetimeformat,
    show_times_in,
)

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "mediation" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def strings_in_source() -> set[str]:
    found = set()
    methods = [("mediation/**.py", "python"), ("templates/**.html", "jinja2")]
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=methods, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def source_strings():
    strings = strings_in_source()
    assert len(strings) > 100  # the extraction itself works
    return strings


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_catalogue_translates_every_string(source_strings, locale):
    with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle, locale=locale)
    translated = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalogue
        if message.id
        and message.string
        and not message.fuzzy
        and (all(message.string) if isinstance(message.string, tuple) else True)
    }
    missing = sorted(source_strings - translated)
    assert missing == [], f"{locale} lacks: {missing[:10]}"


def test_chinese_catalogue_is_really_chinese(source_strings):
    with open(CATALOGUES / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle, locale="zh_Hans_CN")
    untranslated = [
        message.id
        for message in catalogue
        if message.id in source_strings
        and message.string == message.id
        and any(ch.isalpha() and ch.isascii() for ch in message.id)
    ]
    assert untranslated == []


def test_placeholders_survive_translation():
    with open(CATALOGUES / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle, locale="zh_Hans_CN")
    import re

    for message in catalogue:
        if message.id and isinstance(message.id, str):
            expected = sorted(re.findall(r"%\(\w+\)[sd]", message.id))
            assert sorted(re.findall(r"%\(\w+\)[sd]", message.string)) == expected, message.id


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_date_filters_read_as_flask_babel_would(app, lang):
    """The templates' dateformat and datetimeformat parse Babel's patterns once; they must
    still say what Flask-Babel says, in the page's time zone, across a change of clocks."""
    moments = [
        datetime(2026, 3, 8, 6, 59, tzinfo=UTC),  # New York moves its clocks at 07:00 UTC
        datetime(2026, 3, 8, 7, 1, tzinfo=UTC),
        datetime(2026, 7, 1, 16, 5, 6, tzinfo=UTC),  # the next day in Shanghai
        datetime(2026, 11, 1, 5, 30),  # naive: UTC, as the database gives it on SQLite
    ]
    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        for zone in ("Asia/Shanghai", "America/New_York"):
            show_times_in(zone)
            for width in WIDTHS:
                for moment in moments:
                    assert datetimeformat(moment, width) == format_datetime(moment, width)
                    assert dateformat(moment.date(), width) == format_date(moment.date(), width)
                    assert dateformat(moment, width) == format_date(moment, width)


@pytest.mark.parametrize("lang", ["zh_Hans_CN", "en"])
def test_amounts_read_in_yuan_with_grouped_thousands(app, lang):
    amounts = {
        "0.00": "¥0.00",
        "0.05": "¥0.05",
        "1000.00": "¥1,000.00",
        "1234.5": "¥1,234.50",
        "1234567.50": "¥1,234,567.50",
        "-2500.10": "¥-2,500.10",
        "999999999999.99": "¥999,999,999,999.99",
    }
    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        assert {amount: money(Decimal(amount)) for amount in amounts} == amounts
        assert money(None) == "—"


def test_template_strings_escape_their_values_and_read_percent_signs(app):
    with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):

        def render(source, **values):
            return app.jinja_env.from_string(source).render(**values)

        assert render("{{ _('success %(rate)d%%', rate=80) }}") == "成功率 80%"
        assert render("{{ _('Open case %(number)s', number=n) }}", n="<b>1</b>") == (
            "查看案件 &lt;b&gt;1&lt;/b&gt;"
        )
        assert render("{{ _('Notices') }}") == "通知"


def test_fixed_texts_are_compiled_into_each_languages_templates(app):
    """`_("text")` without values is translated when a language's templates compile: shown
    as markup, as gettext gives it ("%%" a percent sign), but joined to other text (~) it is
    text like the rest (no translation of ours holds markup); a call with values, or a
    method that happens to be called _, is left to run."""
    environment = app.base_jinja_env.overlay(cache_size=-1, extensions=[FoldedTranslations])
    table = {"Dossier": "<b>卷宗</b>", "Done 50%%": "完成 50%%"}
    environment.translate = lambda text: table.get(text, text)
    source = (
        "{{ _('Dossier') }}|{{ _('Dossier') ~ '<i>' }}|{{ _('Done 50%%') }}|"
        "{{ _('Unknown %(x)s', x='<y>') }}|{{ thing._('Dossier') }}"
    )
    with app.test_request_context("/"):
        page = environment.from_string(source).render(thing=SimpleNamespace(_=str.upper))
    assert page == (
        "<b>卷宗</b>|&lt;b&gt;卷宗&lt;/b&gt;&lt;i&gt;|完成 50%|Unknown &lt;y&gt;|DOSSIER"
    )


def test_each_language_reads_its_own_compiled_pages(client, login):
    login("staff")
    for lang, title, other in [
        ("en", "Register a case", "登记案件"),
        ("zh_Hans_CN", "登记案件", "Register a case"),
        ("en", "Register a case", "登记案件"),
    ]:
        client.set_cookie("lang", lang)
        page = client.get("/cases/new").get_data(as_text=True)
        assert title in page and other not in page


def test_a_fixed_text_that_does_not_format_fails_only_where_it_is_shown(app):
    with app.test_request_context("/"):
        template = app.jinja_env.from_string("{% if shown %}{{ _('50% off') }}{% endif %}ok")
        assert template.render(shown=False) == "ok"
        with pytest.raises((ValueError, TypeError)):  # as it did before it was compiled in
            template.render(shown=True)
