"""feedwright: turn a folder of front-matter posts into valid, stable RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds.

The library in three calls::

    import feedwright

    site = feedwright.load_site("path/to/site")      # feedwright.toml, validated once: a frozen Site
    report = feedwright.build(site)                   # a BuildReport; prints nothing
    for error in report.rejected:                     # each a PostError naming the file and the reason
        ...

Everything it raises on purpose is a :class:`FeedwrightError` (see ``errors.py`` for the tree and the exit status
of each). The layers: ``pipeline/`` (pure stages), ``incremental/`` (the cache around them), ``ops/`` (lock, runs,
status, daemon, preview server); ``cli`` is the only module that prints.
"""

__version__ = "0.1.0"

from .build import BuildReport, build  # noqa: E402  (after __version__: pipeline.announce imports it from here)
from .config import Site, load_site  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    ContentError,
    FeedwrightError,
    Interrupted,
    LockTimeout,
    PostError,
    PublishError,
    Reject,
    ServeError,
    StatusError,
)

__all__ = [
    "BuildReport",
    "ConfigError",
    "ContentError",
    "FeedwrightError",
    "Interrupted",
    "LockTimeout",
    "PostError",
    "PublishError",
    "Reject",
    "ServeError",
    "Site",
    "StatusError",
    "build",
    "load_site",
]
