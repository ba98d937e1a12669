"""The exceptions feedwright raises, and the exit status each one maps to.

The library only raises; ``cli.py`` catches :class:`FeedwrightError` and turns it into one line on stderr and the
exit status of the class (``exit_code``). Every error the library raises on purpose is a node of this tree, and the
CLI has no exit status of its own beyond 0 (success). Anything else escaping the library is a bug and is allowed to
show its traceback.

    FeedwrightError              exit 1   base class; never raised bare
    ├── ConfigError              exit 2   feedwright.toml, the environment or the command line is wrong; nothing
    │                                     was written (argparse's usage errors exit 2 as well)
    ├── PostError                exit 1   one post is rejected; collected into the report, never aborts a build
    │   └── Reject               exit 1   raised by the stage that read the post, which knows the reason but not
    │                                     the file; the collector turns it into a PostError naming the file
    ├── ContentError             exit 1   content/ is empty where the last build had posts (--allow-empty)
    ├── StatusError              exit 1   `status`: no run recorded yet, or the status file cannot be read
    ├── ServeError               exit 69  `serve` cannot listen: the port is taken, or not ours to open
    │                                     (EX_UNAVAILABLE)
    ├── PublishError             exit 74  output/ (or the state folder) could not be written; old feeds intact
    │                                     (EX_IOERR)
    ├── LockTimeout              exit 75  another build holds the site's lock (EX_TEMPFAIL: cron retries)
    └── Interrupted              exit 130 Ctrl-C (SIGINT, 128 + 2); the CLI turns KeyboardInterrupt into it

A command that finds a problem without raising (a build with rejected posts, an unhealthy ``status``) exits with
the status of the node that names the problem (``PostError.exit_code``, ``StatusError.exit_code``). Output closed
early (``feedwright status --json | head -c1``) ends the command quietly with exit 1, as Python's documentation on
SIGPIPE recommends.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0


class FeedwrightError(Exception):
    """Base of every error feedwright reports to a user."""

    exit_code = 1


class ConfigError(FeedwrightError):
    """The site configuration, an environment variable or the command line is invalid."""

    exit_code = 2


class PostError(FeedwrightError):
    """A post cannot be published; ``path`` names the file and ``reason`` says why."""

    exit_code = 1

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, ...]]:
        # Rebuilt from its fields, not from the message: a rejection may cross a process pool.
        return type(self), (self.path, self.reason)


class Reject(PostError):
    """A post's file or front matter cannot be used; raised where the file is not known, ``str()`` is the reason."""

    def __init__(self, reason: str) -> None:
        FeedwrightError.__init__(self, reason)
        self.path = ""
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, ...]]:
        return type(self), (self.reason,)


class StatusError(FeedwrightError):
    """``status`` has nothing to show: no run recorded yet, or the status file is unreadable."""

    exit_code = 1


class ServeError(FeedwrightError):
    """The preview server cannot listen on the address it was given."""

    exit_code = 69


class ContentError(FeedwrightError):
    """content/ holds no posts where the last build had some (an unmounted share?); the feeds are kept."""

    exit_code = 1


class PublishError(FeedwrightError):
    """Writing the output (or the state folder) failed; whatever was published before stays as it was."""

    exit_code = 74


class LockTimeout(FeedwrightError):
    """Another feedwright process is building this site and did not finish in time."""

    exit_code = 75


class Interrupted(FeedwrightError):
    """The user pressed Ctrl-C (or sent SIGINT)."""

    exit_code = 130
