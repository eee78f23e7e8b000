"""What the browser downloads (issue #25): static files under hashed names, compressed and
cached for good; pages compressed; the party's pages with one small stylesheet and no script."""

import gzip
import re
import shutil
from pathlib import Path

import brotli
import pytest

from mediation.web.static_files import build_static, hashed_name, hashed_names

STATIC = Path(__file__).resolve().parent.parent / "static"
PORTAL_CSS = (STATIC / "css" / "portal.css").read_bytes()
FOREVER = "max-age=315360000, public, immutable"
STYLESHEETS = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("static-build")
    build_static(STATIC, target)
    return target


@pytest.fixture
def built_app(another_app, built):
    return another_app(STATIC_BUILD_FOLDER=str(built))


def test_a_static_file_answers_compressed_and_immutable_under_its_hashed_name(built_app):
    client = built_app.test_client()
    url = "/static/" + hashed_name("css/portal.css", PORTAL_CSS)
    assert f'href="{url}"' in client.get("/status").get_data(as_text=True)
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        with client.get(url, headers={"Accept-Encoding": encoding}) as response:
            assert response.status_code == 200
            assert response.headers["Content-Encoding"] == encoding
            assert decompress(response.get_data()) == PORTAL_CSS
            assert response.headers["Cache-Control"] == FOREVER
            assert "Accept-Encoding" in response.headers["Vary"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    with client.get(url) as response:
        assert "Content-Encoding" not in response.headers
        assert response.get_data() == PORTAL_CSS


def test_under_its_plain_name_a_file_is_checked_again_every_time(built_app):
    with built_app.test_client().get("/static/css/portal.css") as response:
        assert response.status_code == 200 and response.get_data() == PORTAL_CSS
        assert response.headers["Cache-Control"] == "max-age=0, public"


def test_a_file_changed_since_the_build_is_linked_by_its_plain_name(another_app, tmp_path):
    source = tmp_path / "static"
    shutil.copytree(STATIC, source)
    (source / "css" / "portal.css").write_bytes(PORTAL_CSS + b"/* before the change */\n")
    build_static(source, tmp_path / "build")
    client = another_app(STATIC_BUILD_FOLDER=str(tmp_path / "build")).test_client()
    assert STYLESHEETS.findall(client.get("/status").get_data(as_text=True)) == [
        "/static/css/portal.css"
    ]
    css = STYLESHEETS.findall(client.get("/login").get_data(as_text=True))
    assert css[0] == "/static/" + hashed_name(
        "vendor/bootstrap/bootstrap.min.css",
        (STATIC / "vendor" / "bootstrap" / "bootstrap.min.css").read_bytes(),
    )


def test_the_build_writes_each_file_once_with_its_compressed_copies(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "img").mkdir()
    (source / "css" / "site.css").write_text("body { color: #212529; }\n" * 100)
    (source / "css" / "site.css.map").write_text("{}")
    (source / "img" / "logo.png").write_bytes(b"\x89PNG" + bytes(range(256)) * 4)
    (source / "LICENSE").write_text("MIT\n" * 50)
    names = hashed_names(source)
    assert sorted(names) == ["LICENSE", "css/site.css", "img/logo.png"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", names["css/site.css"])
    assert re.fullmatch(r"LICENSE\.[0-9a-f]{12}", names["LICENSE"])

    assert build_static(source, target) == (3, 3)
    css = target / names["css/site.css"]
    assert css.read_bytes() == (source / "css" / "site.css").read_bytes()
    assert gzip.decompress(Path(f"{css}.gz").read_bytes()) == css.read_bytes()
    assert brotli.decompress(Path(f"{css}.br").read_bytes()) == css.read_bytes()
    assert not Path(f"{target / names['img/logo.png']}.gz").exists()  # not worth compressing
    assert build_static(source, target) == (0, 3)

    # A changed file gets a new name; its old copy stays for a server still linking it.
    (source / "css" / "site.css").write_text("body { color: #000; }\n" * 100)
    assert build_static(source, target) == (1, 3)
    assert hashed_names(source)["css/site.css"] != names["css/site.css"] and css.exists()
    assert not list(target.rglob("*.partial"))


def test_pages_are_compressed_for_requests_from_this_site_only(client):
    for site in ("same-origin", "none"):
        response = client.get(
            "/status", headers={"Accept-Encoding": "gzip", "Sec-Fetch-Site": site}
        )
        assert response.headers["Content-Encoding"] == "gzip", site
        assert "查询案件" in gzip.decompress(response.get_data()).decode()
    for site in ("cross-site", "same-site", None):
        headers = {"Accept-Encoding": "gzip", **({"Sec-Fetch-Site": site} if site else {})}
        response = client.get("/status", headers=headers)
        assert "Content-Encoding" not in response.headers, site
        assert "查询案件" in response.get_data(as_text=True)


def test_the_partys_pages_load_their_own_stylesheet_and_no_script(client, make_case):
    case = make_case("agreed")
    party = next(p for p in case.parties if p.role == "applicant")
    looked_up = client.post_form(
        "/status", {"case_number": case.number, "access_code": case.access_codes[party.id]}
    )
    assert looked_up.headers["Location"] == "/status/case"
    for path in ("/status", "/status/case", "/verify", "/honour", "/apply", "/apply/status"):
        page = client.get(path).get_data(as_text=True)
        assert STYLESHEETS.findall(page) == ["/static/css/portal.css"], path
        assert "<script" not in page, path
    # Staff pages keep Bootstrap whole, with its script.
    page = client.get("/login").get_data(as_text=True)
    assert "/static/vendor/bootstrap/bootstrap.min.css" in STYLESHEETS.findall(page)
    assert '<script src="/static/vendor/bootstrap/bootstrap.bundle.min.js">' in page
