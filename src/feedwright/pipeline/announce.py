"""WebSub (W3C Recommendation) publisher pings: tell each hub which feeds just changed.

After a build that rewrote some feed files, each configured hub gets one form-encoded POST per changed feed,
``hub.mode=publish`` and ``hub.url=<the feed's self URL>`` (the URL the feed announces in its ``rel="self"``
link, which is what subscribers registered with the hub). Unchanged feeds are never pinged.

A hub is somebody else's server: it may be down, slow or wrong. Every ping has a short timeout and a couple of
retries, all pings run at once, and the whole round is bounded by a deadline, so a bad hub costs a build at
most that long and never fails it: :func:`notify` returns what happened and raises nothing.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from .. import __version__

TIMEOUT = 5.0  # seconds per attempt
RETRIES = 2  # attempts after the first, for connection errors, timeouts and 5xx/429 answers
BACKOFF = 0.5  # seconds before the first retry; doubled for each further one
MAX_THREADS = 8
USER_AGENT = f"feedwright/{__version__} (WebSub publisher)"


@dataclass(frozen=True)
class Ping:
    """One hub told about one feed: ``ok``, or why not (after every retry)."""

    hub: str
    feed_url: str
    ok: bool
    attempts: int
    detail: str  # "202 Accepted", "connection refused", "timed out after 5 s", ...

    def __str__(self) -> str:
        outcome = "accepted" if self.ok else "failed"
        return f"websub: {self.hub} {outcome} {self.feed_url} ({self.detail}, {self.attempts} attempts)"


Post = Callable[[str, bytes, float], int]  # (hub, form body, timeout) -> HTTP status; raises OSError


def _post(hub: str, body: bytes, timeout: float) -> int:
    request = urllib.request.Request(
        hub,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured http(s) hub)
            return int(response.status)
    except urllib.error.HTTPError as exc:  # a 4xx/5xx answer is still an answer
        return int(exc.code)


def _reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def ping(
    hub: str, feed_url: str, *, timeout: float = TIMEOUT, retries: int = RETRIES, post: Post = _post,
    unreachable: set[str] | None = None,
) -> Ping:
    """Tell ``hub`` that ``feed_url`` changed; retry on network errors, 429 and 5xx. Never raises.

    A hub in ``unreachable`` is not tried; a hub that cannot be reached at all after every retry is added to it,
    so that the other feeds of the same round do not each wait out the same dead hub.
    """
    if unreachable is not None and hub in unreachable:
        return Ping(hub, feed_url, False, 0, "skipped: the hub could not be reached for another feed")
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": feed_url}).encode("ascii")
    detail, delay = "", BACKOFF
    for attempt in range(1, retries + 2):
        try:
            status = post(hub, body, timeout)
        except (OSError, ValueError) as exc:  # URLError, ConnectionError and TimeoutError are OSErrors
            detail = _reason(exc, timeout)
            if attempt > retries and unreachable is not None:
                unreachable.add(hub)
        else:
            if 200 <= status < 300:
                return Ping(hub, feed_url, True, attempt, f"HTTP {status}")
            detail = f"HTTP {status}"
            if status < 500 and status != 429:  # the hub refused this request; asking again will not help
                return Ping(hub, feed_url, False, attempt, detail)
        if attempt <= retries:
            time.sleep(delay)
            delay *= 2
    return Ping(hub, feed_url, False, retries + 1, detail)


def notify(
    hubs: Iterable[str], feed_urls: Iterable[str], *, timeout: float = TIMEOUT, retries: int = RETRIES,
    post: Post = _post,
) -> list[Ping]:
    """Ping every hub about every feed URL, concurrently; returns one :class:`Ping` per pair, in order.

    Waits at most about ``(retries + 1) * timeout`` plus the backoff pauses: a pair still pending then is
    reported as failed and abandoned (its thread finishes in the background; urllib's own timeout ends it).
    """
    pairs = [(hub, url) for url in dict.fromkeys(feed_urls) for hub in dict.fromkeys(hubs)]
    if not pairs:
        return []
    deadline = (retries + 1) * timeout + BACKOFF * (2 ** retries) + 1.0
    pool = ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(pairs)), thread_name_prefix="websub")
    unreachable: set[str] = set()
    futures = [
        pool.submit(ping, hub, url, timeout=timeout, retries=retries, post=post, unreachable=unreachable)
        for hub, url in pairs
    ]
    wait(futures, timeout=deadline)
    pool.shutdown(wait=False, cancel_futures=True)
    return [
        f.result() if f.done() and not f.cancelled() else Ping(hub, url, False, 0, "not sent before the deadline")
        for f, (hub, url) in zip(futures, pairs, strict=True)
    ]
