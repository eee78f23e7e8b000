"""Every string the code and templates show is translated, in Chinese and in English."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import render_template_string

from mediation.cases.timeline import money
from mediation.web.language import force_locale, gettext, lazy_gettext, refresh, show_times_in

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


def test_templates_show_times_in_the_pages_zone(app):
    """A time shows in the zone the page chose (a naive one is UTC, as SQLite gives it back);
    a date shows as it is."""
    source = (
        "{{ m | datetimeformat('short') }}|{{ m | dateformat('medium') }}|"
        "{{ d | dateformat('short') }}|{{ n | datetimeformat }}"
    )
    values = {
        "m": datetime(2026, 7, 1, 16, 5, 6, tzinfo=UTC),
        "d": date(2026, 3, 2),
        "n": datetime(2026, 11, 1, 5, 30),
    }
    in_shanghai = "2026/7/2 00:05|2026年7月2日|2026/3/2|2026年11月1日 13:30:00"
    in_new_york = "2026/7/1 12:05|2026年7月1日|2026/3/2|2026年11月1日 01:30:00"
    with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):
        template = app.jinja_env.from_string(source)
        show_times_in("Asia/Shanghai")
        assert template.render(values) == in_shanghai
        show_times_in("America/New_York")  # another zone, asked for later in the request
        assert template.render(values) == in_new_york
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        show_times_in("Asia/Shanghai")
        assert app.jinja_env.from_string(source).render(values).startswith("7/2/26, 12:05")


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
    """As pages render them: through render_template_string, with the page's gettext
    (web.language.page_gettext), as Jinja's newstyle gettext would."""
    with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):

        def render(source, **values):
            return render_template_string(source, **values)

        # Values named as the gettext functions' own parameters are values too.
        assert render("{{ _('Hello %(string)s', string=s) }}", s="<i>x</i>") == (
            "Hello &lt;i&gt;x&lt;/i&gt;"
        )
        assert render("{{ ngettext('%(num)d case', '%(num)d cases', 2) }}") == "2 cases"
        assert render("{{ ngettext('%(num)d case', '%(num)d cases', 1) }}") == "1 case"
        assert render(
            "{{ ngettext('%(num)d case of %(who)s', '%(num)d cases', 1, who=w) }}", w="<b>"
        ) == ("1 case of &lt;b&gt;")

        assert render("{{ _('success %(rate)d%%', rate=80) }}") == "成功率 80%"
        assert render("{{ _('Open case %(number)s', number=n) }}", n="<b>1</b>") == (
            "查看案件 &lt;b&gt;1&lt;/b&gt;"
        )
        assert render("{{ _('Notices') }}") == "通知"


def test_texts_are_in_the_language_of_the_moment_they_are_shown(app):
    """The translations and the locale (dates) found once for a request are found again when its
    language changes:
    a message a staff member's request sends to a party in English (force_locale), or a
    language chosen again (refresh)."""
    label = lazy_gettext("Sign in")
    day = app.jinja_env.from_string("{{ day | dateformat('long') }}")
    values = {"day": date(2026, 12, 7)}
    with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):
        assert (str(label), gettext("Sign in"), day.render(values)) == (
            "登录",
            "登录",
            "2026年12月7日",
        )
        with force_locale("en"):
            assert (str(label), gettext("Sign in")) == ("Sign in", "Sign in")
            assert (day.render(values), money(Decimal("1234.5"))) == (
                "December 7, 2026",
                "¥1,234.50",
            )
        assert (str(label), gettext("Sign in"), day.render(values)) == (
            "登录",
            "登录",
            "2026年12月7日",
        )
    with app.app_context():  # one context, as a test's requests share one
        with app.test_request_context("/", headers={"Cookie": "lang=en"}):
            assert (str(label), day.render(values)) == ("Sign in", "December 7, 2026")
        with app.test_request_context("/", headers={"Cookie": "lang=zh_Hans_CN"}):
            refresh()
            assert (str(label), day.render(values)) == ("登录", "2026年12月7日")
    assert str(label) == "Sign in"  # outside the app: as written


def test_the_language_is_changed_only_through_the_apps_own_functions():
    """Flask-Babel's force_locale and refresh leave the app's translations as they were found
    (mediation.web.language finds them once per context): texts would stay in the old
    language."""
    flask_babels = re.compile(
        r"flask_babel import .*\b(force_locale|refresh)\b|flask_babel\.(force_locale|refresh)\b"
    )
    own = ROOT / "mediation" / "web" / "language.py"
    for path in (ROOT / "mediation").rglob("*.py"):
        if path != own:
            assert not flask_babels.search(path.read_text(encoding="utf-8")), path


def test_each_language_reads_its_own_pages(client, login):
    login("staff")
    for lang, title, other in [
        ("en", "Register a case", "登记案件"),
        ("zh_Hans_CN", "登记案件", "Register a case"),
        ("en", "Register a case", "登记案件"),
    ]:
        client.set_cookie("lang", lang)
        page = client.get("/cases/new").get_data(as_text=True)
        assert title in page and other not in page
