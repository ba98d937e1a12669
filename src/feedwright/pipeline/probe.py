"""Ask an image's server for its size and type: HEAD, then ``Range: bytes=0-0`` when HEAD tells nothing.

The URL comes from a post, so it is untrusted: a post could name ``http://169.254.169.254/`` (a cloud's
metadata service) or ``http://localhost:6379/`` and have feedwright knock on it from inside the network. So only
``http``/``https`` are followed, the host is resolved here and every address it resolves to must be a public
one (not private, loopback, link-local, multicast, reserved or unspecified), unless the site allows private
addresses; the connection is then made to an address that was checked, never to a second lookup of the name
(which a hostile DNS server could answer differently), and all of this again on every redirect hop.

One look-up has one wall-clock deadline, enforced on its sockets by :class:`~feedwright.pipeline.announce.Round`
(a server trickling its headers a byte at a time defeats a per-read timeout). Nothing is read past the headers.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from .announce import Round

MAX_REDIRECTS = 5
ACCEPT = "image/*,*/*;q=0.8"  # images first, anything after: a strict server answers image/* alone with 406
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GONE = frozenset({404, 410})  # the image is not there: a ranged GET would say the same
_CONTENT_RANGE = re.compile(r"bytes\s+(?:\d+-\d+|\*)/(\d+)\s*$", re.I)
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
# Servers that do not know what they serve; the URL's extension then says more than they do.
_UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})


class LookupFailed(Exception):
    """The look-up gave no size; ``str()`` is the reason, for a warning (``HTTP 404``, ``timed out``)."""


@dataclass(frozen=True)
class Found:
    """What the server said: the image's size in bytes and its type (None when it named no image type)."""

    length: int
    type: str | None


@dataclass(frozen=True)
class Client:
    """How to ask: the User-Agent to send and whether private addresses may be asked."""

    user_agent: str
    allow_private: bool = False


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``ip`` may not be asked, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, test in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if test:
            return kind
    return None if ip.is_global else "non-public"


def addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to, each checked; raises :class:`LookupFailed` if any of them is refused
    (one private answer among public ones is how DNS rebinding starts)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise LookupFailed(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    found = list(dict.fromkeys(str(info[4][0]).partition("%")[0] for info in infos))
    if not allow_private:
        for address in found:
            why = _refusal(ipaddress.ip_address(address))
            if why:
                named = f"{host} is {address}, a" if host != address else f"{host} is a"
                raise LookupFailed(f"refused: {named} {why} address (enclosures.allow_private is false)")
    return found


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the system's CA certificates takes milliseconds: once per process, not once per image.
    return ssl.create_default_context()


def _connection(url: str, client: Client, round_: Round) -> tuple[http.client.HTTPConnection, str]:
    """A connection to the checked addresses of ``url``'s host, and the request target (path and query)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LookupFailed(f"not an http(s) URL: {url}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise LookupFailed(f"bad port in {url}") from None
    pinned = addresses(parts.hostname, port, client.allow_private)

    def connect(_address: Any, timeout: Any = None, source: Any = None) -> socket.socket:
        error: OSError | None = None
        for ip in pinned:  # the checked addresses, never the name again
            try:
                return round_.connect((ip, port), timeout, source)
            except OSError as exc:
                error = exc
        raise error or OSError("no address")

    left = max(round_.left(), 0.001)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":  # certificate and SNI checked against the name, as for any https request
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=left, context=_tls())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=left)
    conn._create_connection = connect  # type: ignore[attr-defined]  # how http.client opens its socket
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return conn, target


def _ask(method: str, url: str, client: Client, round_: Round, extra: dict[str, str]) -> tuple[int, Any]:
    """Status and headers of ``method url``, redirects followed (each hop checked); no body is read."""
    for _hop in range(MAX_REDIRECTS + 1):
        conn, target = _connection(url, client, round_)
        try:
            conn.request(method, target, headers={"User-Agent": client.user_agent, "Accept": ACCEPT, **extra})
            response = conn.getresponse()
            status, headers = response.status, response.headers
        finally:
            conn.close()
        location = headers.get("Location")
        if status not in _REDIRECTS or not location:
            return status, headers
        url = urljoin(url, location.strip())
    raise LookupFailed(f"more than {MAX_REDIRECTS} redirects")


def _type(headers: Any) -> str | None:
    """The image type the server names; raises :class:`LookupFailed` when it names something else (an HTML page)."""
    mime = str(headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    if mime in _UNTYPED:
        return None
    if not mime.startswith("image/") or not _MIME.fullmatch(mime):
        raise LookupFailed(f"served as {mime[:60]}, not an image")
    return mime


def _length(value: str | None) -> int | None:
    # 0 is no size: no image is empty, and some servers answer HEAD with "Content-Length: 0".
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 and int(value) > 0 else None


def ask(url: str, client: Client, round_: Round) -> Found:
    """The size and type of the image at ``url``; raises :class:`LookupFailed` naming why not (never anything else
    for a network or protocol problem)."""
    try:
        return _ask_all(url, client, round_)
    except LookupFailed:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if round_.expired.is_set() or isinstance(exc, TimeoutError) or "timed out" in str(exc):
            raise LookupFailed(f"no answer within {round_.seconds:g} s") from None
        raise LookupFailed(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__) from None


def _ask_all(url: str, client: Client, round_: Round) -> Found:
    status, headers = _ask("HEAD", url, client, round_, {})
    if 200 <= status < 300:
        length = _length(headers.get("Content-Length"))
        if length is not None:
            return Found(length, _type(headers))
    elif status in _GONE:
        raise LookupFailed(f"HTTP {status}")
    # HEAD refused (405, 501, some 403s) or answered without a length: ask for the first byte only.
    status, headers = _ask("GET", url, client, round_, {"Range": "bytes=0-0"})
    if status == 206:
        m = _CONTENT_RANGE.match(str(headers.get("Content-Range") or "").strip())
        if m and _length(m.group(1)) is not None:
            return Found(int(m.group(1)), _type(headers))
        raise LookupFailed("the server gave no total size (Content-Range)")
    if 200 <= status < 300:  # the range was ignored: the whole image is on its way, its length in the headers
        length = _length(headers.get("Content-Length"))
        if length is not None:
            return Found(length, _type(headers))
        raise LookupFailed("the server gave no size (no Content-Length)")
    raise LookupFailed(f"HTTP {status}")
