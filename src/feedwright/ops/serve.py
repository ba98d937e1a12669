"""``feedwright serve``: a preview of ``output/`` over HTTP on this machine, optionally rebuilding on every edit.

A preview, not a production server: it answers the way the README's nginx does (content types, ETag and
Last-Modified with ``304 Not Modified``, gzip) so that a browser or a feed reader sees what readers will see.
Werkzeug does the HTTP (request parsing, conditional requests, HEAD, Accept-Encoding, a threaded server);
this module decides only which file a path names, what its type is, and when to rebuild.

Every request is logged as one line (method, path, status, bytes) to the logger ``feedwright.serve``.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import logging
import mimetypes
import os
import re
import signal
import socket
import stat
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

from werkzeug.security import safe_join
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from ..config import CONFIG_NAME, Site, load_site, with_base_url
from ..environment import Environment
from ..errors import ConfigError, FeedwrightError, ServeError
from ..formats import FORMATS
from .runs import recorded_build

log = logging.getLogger("feedwright.serve")

POLL_INTERVAL = 1.0  # seconds between two looks at content/ and feedwright.toml with --watch

# By file name first: every feed is an .xml or .json file, and only its name tells RSS from Atom.
TYPES_BY_NAME = {fmt.file_name: f"{fmt.media_type}; charset=utf-8" for fmt in FORMATS}
TYPES_BY_SUFFIX = {
    ".xml": "application/xml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}


# An RFC 5005 archive document is its format's file name numbered (rss-3.xml: pipeline/plan.py's Paging).
_ARCHIVE_NAME = re.compile(r"(.+)-[1-9][0-9]*(\.[^.]+)")


def content_type(name: str) -> str:
    """The Content-Type to send for a file called ``name``."""
    lower = name.lower()
    numbered = _ARCHIVE_NAME.fullmatch(lower)
    if numbered and numbered.group(1) + numbered.group(2) in TYPES_BY_NAME:
        lower = numbered.group(1) + numbered.group(2)
    if lower in TYPES_BY_NAME:
        return TYPES_BY_NAME[lower]
    suffix = os.path.splitext(lower)[1]
    if suffix in TYPES_BY_SUFFIX:
        return TYPES_BY_SUFFIX[suffix]
    return mimetypes.guess_type(lower)[0] or "application/octet-stream"


# Chromium shows RSS and Atom served with their registered types as plain source text and applies feed.xsl only
# to application/xml. Browsers name text/html in Accept when they navigate; feed readers do not. So a browser
# gets the same bytes as application/xml (and the readable page), a reader gets the registered type.
BROWSER_TYPE = "application/xml; charset=utf-8"
_FEED_TYPES = tuple(TYPES_BY_NAME[fmt.file_name] for fmt in FORMATS if fmt.styled)


def _for_browser(request: Request, ctype: str) -> bool:
    # Named explicitly: "*/*" (curl, many readers) does not make a client a browser.
    return ctype in _FEED_TYPES and any(v == "text/html" and q > 0 for v, q in request.accept_mimetypes)


def _compressible(ctype: str) -> bool:
    return ctype.startswith("text/") or any(word in ctype for word in ("xml", "json", "javascript"))


def _printable(text: str) -> str:
    # A request path goes into a log line: control characters must not forge or break lines.
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


class PreviewServer(ThreadedWSGIServer):
    """A threaded HTTP server for one ``output/`` folder; ``url`` is where it listens (the real port)."""

    def __init__(self, output: Path, host: str, sock: socket.socket) -> None:
        self.output = Path(output)
        # Werkzeug would bind by itself, but on failure it prints and calls sys.exit(1); a socket bound by
        # make_server reports a busy port as an exception instead, and werkzeug takes a duplicate of it.
        super().__init__(host, sock.getsockname()[1], self.app, handler=_Handler, fd=sock.fileno())

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        return f"http://[{host}]:{self.port}/" if ":" in host else f"http://{host}:{self.port}/"

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        # shutdown() waits for the loop to notice it, up to one poll_interval: keep stopping prompt.
        super().serve_forever(poll_interval=poll_interval)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.log(logging.ERROR if type == "error" else logging.INFO, message.rstrip(), *args)

    def app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """The WSGI application: answer one request for a file under ``output/`` and log it."""
        request = Request(environ)
        try:
            response = self.respond(request)
        except Exception:  # a bug must cost one request, not the server; the traceback goes to the log
            log.exception("error answering %s %s", request.method, _printable(request.full_path))
            response = Response("internal error\n", status=500, content_type="text/plain; charset=utf-8")
        sent = 0 if request.method == "HEAD" or response.status_code == 304 else response.calculate_content_length()
        raw = environ.get("RAW_URI") or request.full_path
        log.info("%s %s %d %s", request.method, _printable(raw), response.status_code, sent or 0)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """The response for ``request``: a file, 304, a redirect to a folder's slash, or an error."""
        if request.method not in ("GET", "HEAD"):
            return _error(405, "method not allowed", Allow="GET, HEAD")
        raw_path = str(request.environ.get("RAW_URI") or request.path).split("?", 1)[0].lower()
        # Werkzeug decodes %2f to "/" before we see the path: an encoded separator or NUL is refused outright.
        if any(code in raw_path for code in ("%2f", "%5c", "%00")) or any(c in request.path for c in "\\\0"):
            return _error(400, "bad path")
        segments = [s for s in request.path.split("/") if s]
        # Dot segments never reach a file: "..", "." and hidden files (build temp files, .htaccess).
        if any(s.startswith(".") for s in segments):
            return _error(404, "not found")
        path = self.resolve(segments)
        if path is None:
            return _error(404, "not found")
        if path.is_dir():
            if not (path / "index.html").is_file():
                return _error(404, "not found")  # no directory listings
            if not request.path.endswith("/"):  # relative links in index.html need the slash
                location = "/" + "".join(quote(s) + "/" for s in segments)
                return Response(status=301, headers={"Location": location})
            path = path / "index.html"
        return self.file_response(request, path)

    def resolve(self, segments: list[str]) -> Path | None:
        """The file or folder the URL path names, or None if it is outside ``output/`` (symlinks included)."""
        root = os.path.realpath(self.output)
        joined = safe_join(root, *segments)
        if joined is None:
            return None
        real = os.path.realpath(joined)
        if real != root and not real.startswith(root + os.sep):
            return None
        return Path(real) if os.path.exists(real) else None

    def file_response(self, request: Request, path: Path) -> Response:
        try:
            # O_NONBLOCK: a FIFO planted in output/ must answer 404, not hang the thread in open().
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return _error(404, "not found")
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return _error(404, "not found")
            data = fh.read()
        ctype = content_type(path.name)
        # Strong ETag from the bytes: it changes exactly when they do, whatever the clock or the inode did.
        etag = hashlib.sha256(data).hexdigest()[:32]
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        vary = []
        if ctype in _FEED_TYPES:
            vary.append("Accept")
            if _for_browser(request, ctype):
                ctype, etag = BROWSER_TYPE, etag + "-browser"  # another representation: another validator
        if _compressible(ctype):
            vary.append("Accept-Encoding")
            if request.accept_encodings["gzip"] > 0:
                # mtime=0: the same bytes always compress to the same body, as the -gzip ETag promises.
                data, etag = gzip.compress(data, mtime=0), etag + "-gzip"
                headers["Content-Encoding"] = "gzip"
        if vary:
            headers["Vary"] = ", ".join(vary)
        response = Response(data, content_type=ctype, headers=headers)
        response.set_etag(etag)
        response.last_modified = datetime.fromtimestamp(info.st_mtime, UTC)
        # 304 for If-None-Match (which wins when present) or If-Modified-Since; HEAD loses the body later.
        response.make_conditional(request)
        del response.headers["Date"]  # make_conditional adds one, and the server sends its own
        return response


def _error(status: int, text: str, **headers: str) -> Response:
    return Response(f"{status} {text}\n", status=status, content_type="text/plain; charset=utf-8", headers=headers)


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler, logging to ``feedwright.serve`` (the application logs each request it answers)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if getattr(self, "environ", None) is None:  # refused before reaching the app (a bad request line)
            log.info("%s %s %s -", getattr(self, "command", None) or "-", _printable(getattr(self, "path", "-")), code)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.log(logging.ERROR if type == "error" else logging.INFO, message.rstrip(), *args)


def parse_port(value: str | int) -> int:
    """A TCP port number 0-65535 (0: pick a free one), or :class:`ConfigError`."""
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--port must be a number from 0 to 65535, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be a number from 0 to 65535, got {port}")
    return port


def make_server(output: Path, host: str = "127.0.0.1", port: int = 8000) -> PreviewServer:
    """A :class:`PreviewServer` for ``output`` listening on ``host``:``port`` (not yet serving).

    Raises :class:`ConfigError` for a bad host or port or an address not on this machine, :class:`ServeError` for
    a port already in use or one this user may not open.
    """
    port = parse_port(port)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"--host {host!r}: not an address of this machine ({exc})") from None
    # IPv4 first for names such as "localhost" that resolve to both.
    family, _, _, _, address = sorted(found, key=lambda a: a[0] != socket.AF_INET)[0]
    try:
        sock = socket.create_server(address[:2], family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is already in use; choose another with --port") from None
        if exc.errno == errno.EADDRNOTAVAIL:  # a typing mistake, not a state of the machine
            raise ConfigError(f"--host {host!r}: not an address of this machine ({exc.strerror})") from None
        raise ServeError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    with sock:  # the server keeps its own duplicate
        return PreviewServer(output, str(address[0]), sock)


class Watcher(threading.Thread):
    """Rebuilds the site whenever something under its content folder or its ``feedwright.toml`` changes.

    It polls stat signatures once a second rather than using inotify: a preview needs no faster reaction,
    polling has no watch limits, and it sees an editor's save-by-rename of ``feedwright.toml`` as any other.
    """

    def __init__(
        self, site: Site, interval: float = POLL_INTERVAL, *, base_url: str | None = None,
        env: Environment | None = None,
    ) -> None:
        super().__init__(name="feedwright-watch", daemon=True)
        self.site = site
        self.base_url = base_url  # the preview's own address, for a site without a [site] url
        self.env = env or Environment()
        self.interval = interval
        self._stop_event = threading.Event()
        self._seen = self.signature()  # what the last build (or this constructor) saw

    def signature(self) -> frozenset[tuple[str, int, int, int]]:
        """(path, size, mtime, inode) of the config file and of every entry under the content folder."""
        found: set[tuple[str, int, int, int]] = set()

        def add(path: str) -> None:
            try:
                st = os.stat(path)
            except OSError:  # vanished between listing and stat, or a broken symlink
                return
            found.add((path, st.st_size, st.st_mtime_ns, st.st_ino))

        add(str(self.site.root / CONFIG_NAME))
        folders = [str(self.site.root / self.site.content)]
        # A Jekyll site's content folder is its root: what builds write there must not trigger builds.
        own = {str(self.site.root / self.site.output), str(self.site.state_dir)}
        while folders:
            folder = folders.pop()
            add(folder)
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.path in own:
                            continue
                        if entry.is_dir(follow_symlinks=False):  # the build enters no symlinked folder either
                            folders.append(entry.path)
                        else:
                            add(entry.path)
            except OSError:
                continue
        return frozenset(found)

    def rebuild(self) -> None:
        """Build the site under its lock, recorded in the status; any failure is logged, never raised."""
        # Taken before the build: an edit made while it runs is seen at the next look, and builds again.
        self._seen = self.signature()
        try:
            self.site = load_site(self.site.root)  # feedwright.toml may be what changed
            if not self.site.url_configured and self.base_url:
                self.site = with_base_url(self.site, self.base_url)
            report = recorded_build(self.site, wait=self.env.lock_wait, now=self.env.now())
        except FeedwrightError as exc:
            log.error("build failed: %s", exc)
            return
        except Exception:  # a bug: logged with its traceback; the preview keeps serving the last output
            log.exception("build failed")
            return
        for problem in [*report.warnings, *map(str, report.rejected), *map(str, report.near_misses)]:
            log.warning("%s", problem)
        for error in report.unreadable:
            log.error("%s; the feeds built from it are kept as they were", error)
        changed = len(report.result.written) + len(report.result.removed) if report.result else 0
        log.info("built %d posts, %d feed files changed, %d rejected", report.live, changed,
                 len(report.rejected))

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            if self.signature() != self._seen:
                self.rebuild()

    def stop(self) -> None:
        """Stop watching and wait for a build in progress to finish (a write is never cut)."""
        self._stop_event.set()
        if self.is_alive():
            self.join()


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the server the way Ctrl-C does


def run(
    site: Site, host: str = "127.0.0.1", port: int | str = 8000, *, watch: bool = False, env: Environment | None = None
) -> int:
    """Serve ``site``'s output until SIGTERM or Ctrl-C; with ``watch``, build now and on every change.

    Returns 0 when stopped by a signal; raises :class:`ConfigError` when it cannot start.
    """
    output = site.root / site.output
    if not watch and not output.is_dir():
        raise ConfigError(f"{output} does not exist: run `feedwright build` first, or serve with --watch")
    server = make_server(output, host, parse_port(port))
    watcher = Watcher(site, base_url=server.url, env=env) if watch else None
    main = threading.current_thread() is threading.main_thread()  # only the main thread may set handlers
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        if watcher is not None:
            watcher.rebuild()
            watcher.start()
        log.info("serving %s from %s (a preview, not a production server; Ctrl-C stops it)", server.url, output)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)  # a second SIGTERM while a build finishes kills at once
        if watcher is not None:
            watcher.stop()
        server.server_close()
    log.info("stopped")
    return 0
