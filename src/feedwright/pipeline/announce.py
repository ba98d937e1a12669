"""WebSub (W3C Recommendation) publisher pings: tell each hub which feeds just changed.

After a build that rewrote some feed files, each configured hub gets one form-encoded POST per changed feed,
``hub.mode=publish`` and ``hub.url=<the feed's self URL>`` (the URL the feed announces in its ``rel="self"``
link, which is what subscribers registered with the hub). Unchanged feeds are never pinged.

A hub is somebody else's server: it may be down, slow, hung, or accept and then trickle a byte at a time (which
defeats a per-read timeout). So the whole round has one wall-clock deadline, enforced on the sockets themselves:
when it passes, every connection still open is shut down, which wakes the thread reading it at once. Pings run on
a few daemon threads that are all joined before :func:`notify` returns, so no thread outlives its build and none
can hold the process open. :func:`notify` returns what happened and raises nothing.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .. import __version__

TIMEOUT = 5.0  # seconds for the whole round: every hub, every feed, every retry
RETRIES = 2  # attempts after the first, for connection errors and 5xx/429 answers, while time is left
BACKOFF = 0.5  # seconds before the first retry; doubled for each further one
MAX_THREADS = 8
# After the deadline every socket is shut down, so a ping thread returns at once; this only bounds the wait
# for one stuck where no socket exists yet (a DNS lookup, which cannot be cancelled; the thread is a daemon).
JOIN_GRACE = 1.0
USER_AGENT = f"feedwright/{__version__} (WebSub publisher)"


@dataclass(frozen=True)
class Ping:
    """One hub told about one feed: ``ok``, or why not (after every retry)."""

    hub: str
    feed_url: str
    ok: bool
    attempts: int
    detail: str  # "202 Accepted", "connection refused", "did not answer within 5 s", ...

    def __str__(self) -> str:
        if self.detail.startswith(SLOW):
            return f"websub: {self.hub} {self.detail} ({self.feed_url}, {self.attempts} attempts)"
        outcome = "accepted" if self.ok else "failed"
        return f"websub: {self.hub} {outcome} {self.feed_url} ({self.detail}, {self.attempts} attempts)"


SLOW = "did not answer within"
Post = Callable[[str, bytes, float], int]  # (hub, form body, timeout) -> HTTP status; raises OSError


class Round:
    """One ping round's wall-clock deadline, enforced on every socket the round opens.

    Each connection is registered as a duplicate descriptor: ``shutdown(2)`` acts on the connection, not on the
    descriptor, so shutting the duplicate down wakes a read blocked on the original even after TLS has wrapped
    it, and the duplicate is ours to close, so no reused descriptor is ever touched.
    """

    def __init__(self, seconds: float, stop: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = threading.Event()
        self.stop = stop
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._opener = urllib.request.build_opener(_Handler(self), _TLSHandler(self))

    def left(self) -> float:
        if self.stop is not None and self.stop.is_set():
            return 0.0
        return max(0.0, self.end - time.monotonic())

    def connect(self, address: tuple[str, int], timeout: Any = None, source_address: Any = None,
                *args: Any, **kwargs: Any) -> socket.socket:
        """``socket.create_connection`` for this round: bounded by what is left, and registered."""
        left = self.left()
        if left <= 0:
            raise TimeoutError("timed out")
        limit = left if not isinstance(timeout, int | float) else min(timeout, left)
        sock = socket.create_connection(address, limit, source_address, *args, **kwargs)
        with self._lock:
            if self.expired.is_set():
                sock.close()
                raise TimeoutError("timed out")
            self._socks.append(sock.dup())
        return sock

    def expire(self) -> None:
        """The deadline has passed: wake every read and pause still waiting, and refuse new connections."""
        with self._lock:
            self.expired.set()
            for sock in self._socks:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            for sock in self._socks:
                sock.close()
            self._socks.clear()

    def pause(self, seconds: float) -> bool:
        """Sleep before a retry; False if the round ends first (then do not retry)."""
        if seconds >= self.left():
            return False
        return not self.expired.wait(seconds)

    def post(self, hub: str, body: bytes, timeout: float) -> int:
        request = urllib.request.Request(
            hub,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
        )
        try:
            with self._opener.open(request, timeout=min(timeout, self.left()) or 0.001) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:  # a 4xx/5xx answer is still an answer
            return int(exc.code)


class _Connections:
    """Makes urllib's HTTP(S) connections open their sockets through :meth:`Round.connect` (proxies included)."""

    round: Round

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        def connection(*args: Any, **kw: Any) -> http.client.HTTPConnection:
            conn = http_class(*args, **kw)
            conn._create_connection = self.round.connect
            return conn

        return super().do_open(connection, req, **kwargs)  # type: ignore[misc]


class _Handler(_Connections, urllib.request.HTTPHandler):
    def __init__(self, round_: Round) -> None:
        super().__init__()
        self.round = round_


class _TLSHandler(_Connections, urllib.request.HTTPSHandler):
    def __init__(self, round_: Round) -> None:
        super().__init__()
        self.round = round_


def _reason(exc: BaseException, timeout: float, expired: bool) -> str:
    if expired or isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return f"{SLOW} {timeout:g} s"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def ping(
    hub: str, feed_url: str, *, timeout: float = TIMEOUT, retries: int = RETRIES, post: Post | None = None,
    unreachable: set[str] | None = None, round_: Round | None = None,
) -> Ping:
    """Tell ``hub`` that ``feed_url`` changed; retry on network errors, 429 and 5xx while time is left.

    Never raises. A hub in ``unreachable`` is not tried; a hub that cannot be reached at all is added to it, so
    that the other feeds of the same round do not each wait out the same dead hub.
    """
    if unreachable is not None and hub in unreachable:
        return Ping(hub, feed_url, False, 0, "skipped: the hub could not be reached for another feed")
    if round_ is None:  # on its own: a round of one ping
        round_ = Round(timeout)
        try:
            return ping(hub, feed_url, timeout=timeout, retries=retries, post=post, unreachable=unreachable,
                        round_=round_)
        finally:
            round_.close()
    post = post or round_.post
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed_url}).encode("ascii")
    detail, delay, unanswered = "", BACKOFF, False
    for attempt in range(1, retries + 2):
        try:
            status = post(hub, body, timeout)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, TimeoutError: OSErrors
            detail, unanswered = _reason(exc, round_.seconds, round_.expired.is_set()), True
        else:
            if 200 <= status < 300:
                return Ping(hub, feed_url, True, attempt, f"HTTP {status}")
            detail, unanswered = f"HTTP {status}", False
            if status < 500 and status != 429:  # the hub refused this request; asking again will not help
                return Ping(hub, feed_url, False, attempt, detail)
        if attempt > retries or not round_.pause(delay):
            break
        delay *= 2
    if unanswered and unreachable is not None:
        unreachable.add(hub)
    return Ping(hub, feed_url, False, attempt, detail)


def notify(
    hubs: Iterable[str], feed_urls: Iterable[str], *, timeout: float = TIMEOUT, retries: int = RETRIES,
    post: Post | None = None, stop: threading.Event | None = None,
) -> list[Ping]:
    """Ping every hub about every feed URL, concurrently; returns one :class:`Ping` per pair, in order.

    Returns within ``timeout`` seconds (plus a moment), or as soon as ``stop`` is set, whatever the hubs do;
    a pair not answered by then is reported as failed. Every thread it started has ended when it returns.
    """
    pairs = [(hub, url) for url in dict.fromkeys(feed_urls) for hub in dict.fromkeys(hubs)]
    if not pairs:
        return []
    round_ = Round(timeout, stop)
    results: list[Ping | None] = [None] * len(pairs)
    todo = iter(range(len(pairs)))
    lock, unreachable = threading.Lock(), set[str]()

    def work() -> None:
        while not round_.expired.is_set():
            with lock:
                i = next(todo, None)
            if i is None:
                return
            hub, url = pairs[i]
            results[i] = ping(hub, url, timeout=timeout, retries=retries, post=post, unreachable=unreachable,
                              round_=round_)

    threads = [threading.Thread(target=work, name=f"websub-{n}", daemon=True)
               for n in range(min(MAX_THREADS, len(pairs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive() and round_.left() > 0:
            thread.join(min(round_.left(), 0.05))
    round_.expire()
    for thread in threads:
        thread.join(JOIN_GRACE)
    round_.close()
    # Pairs never sent: slow hubs took the round's time (each that did is named by its own Ping).
    late = f"not sent: the {timeout:g} s round was over" if stop is None or not stop.is_set() else "not sent: stopping"
    return [
        r if r is not None else Ping(hub, url, False, 0, late) for r, (hub, url) in zip(results, pairs, strict=True)
    ]
