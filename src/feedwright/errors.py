"""The exceptions feedwright raises, and the exit status each one maps to.

The library only raises; ``cli.py`` catches :class:`FeedwrightError` and turns it into one line on stderr and
the exit status below. Anything else escaping the library is a bug and is allowed to show its traceback.

    FeedwrightError              exit 1   base class; never raised bare
    ├── ConfigError              exit 2   feedwright.toml or the command line is wrong; nothing was written
    ├── PostError                exit 1   one post is rejected; collected into the report, never aborts a build
    ├── PublishError             exit 74  output/ (or the state folder) could not be written; old feeds intact
    └── LockTimeout              exit 75  another build holds the site's lock (EX_TEMPFAIL: cron retries)
"""

from __future__ import annotations

from pathlib import Path


class FeedwrightError(Exception):
    """Base of every error feedwright reports to a user."""

    exit_code = 1


class ConfigError(FeedwrightError):
    """The site configuration or the command line is invalid."""

    exit_code = 2


class PostError(FeedwrightError):
    """A post cannot be published; ``path`` names the file and ``reason`` says why."""

    exit_code = 1

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class ContentError(FeedwrightError): """content/ holds no posts where the last build had some (exit 1)."""  # noqa: E701


class PublishError(FeedwrightError):
    """Writing the output (or the state folder) failed; whatever was published before stays as it was."""

    exit_code = 74


class LockTimeout(FeedwrightError):
    """Another feedwright process is building this site and did not finish in time."""

    exit_code = 75
