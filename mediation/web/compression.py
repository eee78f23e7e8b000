"""Pages compressed on their way to the browser (Flask-Compress: zstd, Brotli or gzip)."""

from flask import Flask, request

from mediation.extensions import compress

# Requests from this site's own pages, or typed and bookmarked (Sec-Fetch-Site).
OWN_REQUESTS = {"same-origin", "none"}


def compress_pages(app: Flask) -> None:
    compress.init_app(app)

    @app.after_request
    def _compress(response):
        # BREACH: a request another site started may carry text of its choosing that the page
        # repeats beside a secret (the CSRF token); compressed, its size would leak the secret.
        if request.headers.get("Sec-Fetch-Site") in OWN_REQUESTS:
            return compress.after_request(response)
        return response
