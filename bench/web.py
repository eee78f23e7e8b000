"""A small browser for the set-up before the load: it keeps cookies, reads CSRF tokens from
forms and never follows redirects, so each answer can be checked as it is."""

import html
import http.client
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEXT_PAGE_LINK = re.compile(r'href="(/cases/\?[^"]*after=[^"]*)"')


class BenchError(Exception):
    """A page answered differently than a valid measurement needs."""


@dataclass
class Answer:
    status: int
    location: str
    text: str


class Browser:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def get(self, path: str) -> Answer:
        return self._request("GET", path, None)

    def post(self, path: str, form: dict) -> Answer:
        return self._request("POST", path, urlencode(form))

    def _request(self, method: str, path: str, body: str | None) -> Answer:
        headers = {"Cookie": self.cookie_header} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return Answer(response.status, response.headers.get("Location", ""), text)
        finally:
            connection.close()

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the form on `path` (it belongs to this browser's session)."""
        answer = self.expect(path, 200)
        match = CSRF_FIELD.search(answer.text)
        if match is None:
            raise BenchError(f"GET {path}: no CSRF token in the page")
        return html.unescape(match.group(1))

    def expect(self, path: str, status: int, form: dict | None = None) -> Answer:
        """GET (or POST `form` to) `path`; a BenchError unless it answers `status`."""
        answer = self.get(path) if form is None else self.post(path, form)
        if answer.status != status:
            method = "GET" if form is None else "POST"
            raise BenchError(
                f"{method} {path} answered {answer.status} (expected {status})"
                + (f" → {answer.location}" if answer.location else "")
            )
        return answer

    @staticmethod
    def next_page_link(page: str) -> str | None:
        """The case list's keyset link to the following page, if any."""
        match = NEXT_PAGE_LINK.search(page)
        return html.unescape(match.group(1)) if match else None

    def log_in(self, username: str, password: str) -> None:
        token = self.csrf_token("/login")
        form = {"csrf_token": token, "username": username, "password": password}
        answer = self.expect("/login", 302, form)
        if "/login" in answer.location:
            raise BenchError(f"signing in as {username} failed (sent back to {answer.location})")
