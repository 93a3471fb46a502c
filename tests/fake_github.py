"""GitHub's raw files, served from a loopback server: how the tests run a notebook as Colab opens it, offline.

A notebook alone in a folder fetches the course's files from ``raw.githubusercontent.com`` (its
setup cell). ``ROUTE_TO_LOOPBACK``, inserted as its first cell, sends those requests to
``serving_the_repository()``, which answers with this repository's files, or with an error page
or no answer at all, as a test asks (``/ok``, ``/html``, ``/html-checks``, ``/slow``).
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

HTML_ERROR_PAGE = b"<!DOCTYPE html><html><head><title>404: Not Found</title></head><body>404</body></html>"
CLIENT_TIMEOUT = 2  # seconds the loopback download may take before it counts as a timeout
ROUTE_TO_LOOPBACK = """\
# Inserted by the course's tests: GitHub's raw files are served from a loopback server.
import urllib.request
_urlopen = urllib.request.urlopen
def _loopback(url, *args, timeout=None, **kwargs):
    if isinstance(url, str):  # the setup cell's; a library's Request goes where it was going
        url = url.replace("https://raw.githubusercontent.com", "{base}")
    return _urlopen(url, *args, timeout={timeout}, **kwargs)
urllib.request.urlopen = _loopback"""


class FakeGitHub(http.server.BaseHTTPRequestHandler):
    """Serves ``/MODE/OWNER/REPO/main/PATH``: the repository's file at PATH (``ok``), an error page instead
    (``html``, or ``html-checks`` for the modules of checks alone), or never an answer (``slow``)."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        mode, _, rest = self.path.lstrip("/").partition("/")
        path = rest.split("/main/", 1)[-1]
        if mode == "slow":
            time.sleep(CLIENT_TIMEOUT + 3)
            return
        if mode == "html" or (mode == "html-checks" and path.startswith("exercises/checks/")):
            body = HTML_ERROR_PAGE
        elif (REPO_ROOT / path).is_file():
            body = (REPO_ROOT / path).read_bytes()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serving_the_repository() -> Iterator[str]:
    """A loopback server of the repository's files as GitHub serves them raw; its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
