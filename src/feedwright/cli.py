"""The ``feedwright`` command: parse arguments, call the library, print, and map errors to exit statuses."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from .build import BuildReport, build
from .config import STATE_DIR, Site, load_site, require_url, with_base_url
from .environment import Environment, checked_wait, read_environment
from .errors import EXIT_OK, ConfigError, FeedwrightError, Interrupted, PostError, StatusError
from .ops.heap import collector_paused
from .ops.lock import daemon_lock
from .ops.runs import recorded_build, unreadable_summary
from .ops.status import describe, read_status, status_path

SCHEDULED_SHOWN = 10  # the build summary names this many scheduled posts, soonest first
# `build` shows this many warnings that say the same thing of different posts, then counts the rest: a site
# using a plugin's Liquid tag gets one warning per use (1,335 lines on the made-mistakes corpus, 474 of them
# for {% figure %}), which buries every other line. `check` and `build -v` list them all.
ALIKE_SHOWN = 3
_WHERE = re.compile(r"^[^:\n]+(?::\d+)?: ")  # "path: " or "path:line: " in front of a warning


class _Version(argparse.Action):
    """``--version`` from the installed package's metadata, looked up only when asked (importlib.metadata is
    slow to import, and every command would pay for it)."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("feedwright")
        except PackageNotFoundError:  # run from a source tree that was never installed
            found = "(not installed)"
        print(f"feedwright {found}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedwright", description="Turn a folder of front-matter posts into RSS, Atom and JSON feeds."
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def site_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--site", default=".", metavar="DIR", help="site folder (default: current folder)")

    b = commands.add_parser("build", help="build the feeds into output/")
    site_arg(b)
    b.add_argument("--strict", action="store_true", help="any rejected post fails the build; output/ untouched")
    loud = b.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="store_true", help="also list ignored files and every feed")
    loud.add_argument("-q", "--quiet", action="store_true", help="print only problems (for cron)")
    b.add_argument("--base-url", metavar="URL", help="publish under this url (default: [site] url, required "
                   "without one)")
    b.add_argument("--allow-empty", action="store_true",
                   help="publish even when content/ holds no posts but the last build had some")
    b.add_argument("--wait", type=float, metavar="SECONDS",
                   help="wait this long for another run's lock, then exit 75 (default $FEEDWRIGHT_LOCK_TIMEOUT or 30)")
    b.add_argument("--timings", action="store_true", help="also print the seconds each stage of the build took")

    c = commands.add_parser("check", help="validate the content and list every problem; write nothing")
    site_arg(c)
    c.add_argument("--strict", action="store_true", help="near-miss front-matter keys are errors (exit 1)")

    d = commands.add_parser("daemon", help="build now, then on a schedule and when scheduled posts are due")
    site_arg(d)
    when = d.add_mutually_exclusive_group()
    when.add_argument("--every", metavar="DURATION", help='e.g. 30s, 15m, 1h (overrides [schedule])')
    when.add_argument("--cron", metavar="EXPR", help='5-field crontab expression, e.g. "*/10 * * * *"')
    d.add_argument("--log-format", choices=("text", "json"), default="text", help="log lines on stderr")
    d.add_argument("--watch", action="store_true",
                   help="also build as soon as a post or the settings change (inotify), keeping the site in memory")
    d.add_argument("--poll", type=float, metavar="SECONDS",
                   help="with --watch, look for changes every SECONDS instead of inotify (network file systems)")
    d.add_argument("--settle", type=float, metavar="SECONDS",
                   help="with --watch, build once nothing has changed for SECONDS (default 0.1)")

    v = commands.add_parser("serve", help="preview output/ over HTTP on this machine (not a production server)")
    site_arg(v)
    v.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    v.add_argument("--port", default="8000", help="TCP port (default: 8000; 0 picks a free one)")
    v.add_argument("--watch", action="store_true", help="build now and whenever content/ or feedwright.toml changes")

    i = commands.add_parser("init", help="write a commented feedwright.toml and an example post; never overwrites")
    i.add_argument("dir", nargs="?", default=".", metavar="DIR", help="site folder (default: current folder)")
    i.add_argument("--url", metavar="URL", help="the site's url, written as [site] url (else left commented out)")

    s = commands.add_parser("status", help="show the last run; exit 1 if it failed or the daemon is overdue")
    site_arg(s)
    s.add_argument("--json", action="store_true", help="print the status as JSON (for monitoring)")
    return parser


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _collapsed(warnings: Sequence[str]) -> list[str]:
    """The warnings, with those that say the same thing of more than ALIKE_SHOWN places counted, not listed."""
    alike: dict[str, list[str]] = {}
    for warning in warnings:
        alike.setdefault(_WHERE.sub("", warning, count=1), []).append(warning)
    lines = []
    for what, group in alike.items():
        lines += group[:ALIKE_SHOWN]
        if len(group) > ALIKE_SHOWN:
            lines.append(f"... and {len(group) - ALIKE_SHOWN} more: {what} (-v lists them)")
    return lines


def _report_problems(report: BuildReport, strict: bool = False, every: bool = True) -> None:
    for warning in report.warnings if every else _collapsed(report.warnings):
        _err(f"warning: {warning}")
    for typo in report.near_misses:
        _err(f"{'error' if strict else 'warning'}: {typo}")
    for error in report.rejected:
        _err(str(error))
    for error in report.unreadable:
        _err(f"error: {error}")
    if report.unreadable:
        _err(f"feedwright: {unreadable_summary(report)}")


def _summary(report: BuildReport) -> str:
    parts = [
        f"{report.live} posts published",
        f"{len(report.rejected)} rejected",
    ]
    if report.drafts:
        parts.append(f"{report.drafts} drafts")
    if report.scheduled:
        parts.append(f"{report.scheduled} scheduled")
    result = report.result
    if result is None:
        parts.append(f"{len(report.files)} files checked, none written")
    else:
        parts.append(f"{len(result.written)} files written, {len(result.unchanged)} unchanged")
        if result.removed:
            parts.append(f"{len(result.removed)} removed")
    if report.held:
        parts.append(f"{len(report.held)} kept as they were")
    return ", ".join(parts) + f" in {report.duration:.2f} s"


def _scheduled(report: BuildReport, site: Site) -> list[str]:
    """One line per scheduled post (the soonest few): which file comes out when, in the site's time zone."""
    posts = report.scheduled_posts()
    lines = [f"scheduled: {site.content / p.source} at {p.published.astimezone(site.timezone).isoformat()}"
             for p in posts[:SCHEDULED_SHOWN]]
    if len(posts) > SCHEDULED_SHOWN:
        lines.append(f"scheduled: ... and {len(posts) - SCHEDULED_SHOWN} more")
    return lines


def _build(args: argparse.Namespace, env: Environment) -> int:
    site = load_site(args.site)
    if args.base_url is not None:
        site = with_base_url(site, args.base_url)
    require_url(site)
    wait = env.lock_wait if args.wait is None else checked_wait(args.wait)
    with collector_paused():
        report = recorded_build(site, strict=args.strict, wait=wait, allow_empty=args.allow_empty, now=env.now())
    if report.source and not args.quiet:
        print(report.source)
    _report_problems(report, args.strict, every=args.verbose)
    if args.verbose:
        for path in report.collection.ignored:
            _err(f"ignored (no front matter): {path}")
        for line in report.collection.skipped:
            _err(f"skipped: {line}")
        for rel in sorted(report.files):
            _err(f"feed: {site.output / rel}")
        for ping in report.pings:
            if ping.ok:
                _err(str(ping))
    if args.strict and (report.rejected or report.near_misses):
        _err(f"--strict: {len(report.rejected)} posts rejected, {len(report.near_misses)} near-miss keys; "
             f"{site.output} left as it was")
        return PostError.exit_code
    if not args.quiet:
        print(_summary(report))
        print(*_scheduled(report, site), sep="\n")
    if args.timings:
        print(*_timings(report), sep="\n")
    return PostError.exit_code if report.rejected or report.unreadable else EXIT_OK


def _timings(report: BuildReport) -> list[str]:
    """One line per stage of the build, in the order they ran, with its wall-clock seconds, then the total."""
    width = max(map(len, report.timings), default=0)
    lines = [f"time: {stage:<{width}}  {seconds:7.3f} s" for stage, seconds in report.timings.items()]
    return [*lines, f"time: {'total':<{width}}  {report.duration:7.3f} s"]


def _check(args: argparse.Namespace, env: Environment) -> int:
    site = load_site(args.site)
    if not site.url_configured:
        where = "_config.yml" if site.jekyll is not None else "feedwright.toml"
        _err(f"warning: no [site] url in {site.root / where}: `build` will refuse to publish; "
             'add url = "https://your.site/" under [site]')
    with collector_paused():
        report = build(site, now=env.now(), write=False)
    if report.source:
        print(report.source)
    _report_problems(report, args.strict)
    for line in report.collection.skipped:  # files of _posts Jekyll does not publish, each with the reason
        _err(f"skipped: {line}")
    print(_summary(report))
    failed = report.rejected or report.unreadable or (args.strict and report.near_misses)
    return PostError.exit_code if failed else EXIT_OK


def _daemon(args: argparse.Namespace, env: Environment) -> int:
    root = Path(args.site).absolute()
    if not root.is_dir():
        load_site(root)  # raises the error that says what is wrong with --site
    # A second daemon on this site gives up at once, before loading the scheduler.
    with daemon_lock(root / STATE_DIR):
        return _run_daemon(args, env)


def _run_daemon(args: argparse.Namespace, env: Environment) -> int:
    from .ops.daemon import Daemon  # the scheduler is loaded only by the command that needs it
    from .ops.logs import setup_logging
    from .ops.schedule import Schedule, schedule_from

    site = load_site(args.site)  # [schedule] is validated with the rest, even when a flag overrides it
    require_url(site)
    schedule = site.schedule or Schedule()
    if args.poll is not None and not 0.05 <= args.poll <= 3600:
        raise ConfigError(f"--poll {args.poll:g}: give a number of seconds between 0.05 and 3600")
    if args.settle is not None and not 0.01 <= args.settle <= 60:
        raise ConfigError(f"--settle {args.settle:g}: give a number of seconds between 0.01 and 60")
    fixed = args.every is not None or args.cron is not None
    if fixed:
        schedule = schedule_from(args.every, args.cron, site.timezone, keys=("--every", "--cron"))
    setup_logging(args.log_format)
    watch = args.watch or args.poll is not None or args.settle is not None
    daemon = Daemon(site, schedule, fixed=fixed, env=env, watch=watch, poll=args.poll, settle=args.settle)
    code = daemon.run()
    if daemon.abandoned:
        # Exit now, as a kill would: interpreter shutdown would wait for the abandoned build's worker processes.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)
    return code


def _serve(args: argparse.Namespace, env: Environment) -> int:
    from .ops import serve  # werkzeug is loaded only by the command that needs it
    from .ops.logs import setup_logging

    site = load_site(args.site)
    setup_logging()
    return serve.run(site, args.host, serve.parse_port(args.port), watch=args.watch, env=env)


def _status(args: argparse.Namespace, _env: Environment) -> int:
    root, now = Path(args.site).absolute(), datetime.now(UTC)
    status = read_status(root)
    if status is None:
        if args.json:  # a monitor parses whatever it gets: give it JSON in every case
            print(json.dumps({"outcome": "none", "healthy": False,
                              "error": f"no run recorded yet ({status_path(root)} does not exist)"}, indent=2))
            return StatusError.exit_code
        raise StatusError(f"no run recorded yet ({status_path(root)} does not exist)")
    healthy = not status.failed and not status.overdue(now)
    if args.json:
        print(json.dumps({**status.to_json(), "overdue": status.overdue(now), "healthy": healthy}, indent=2))
    else:
        print("\n".join(describe(status, now)))
    return EXIT_OK if healthy else StatusError.exit_code


def _init(args: argparse.Namespace, env: Environment) -> int:
    from .ops.scaffold import init

    for path in init(Path(args.dir), env.now(), args.url):
        print(f"wrote {path}")
    if (Path(args.dir) / "_config.yml").is_file():
        print("site: Jekyll _config.yml; feedwright.toml holds only what differs from it")
    return EXIT_OK


COMMANDS = {"init": _init, "build": _build, "check": _check, "daemon": _daemon, "serve": _serve, "status": _status}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``feedwright`` command; returns the exit status (see errors.py for the table).

    The one place that turns what went wrong into a line on stderr: an error of the tree, Ctrl-C (at any point,
    for every command) and a reader that closed our stdout early.
    """
    try:
        args = _parser().parse_args(argv)
        status = COMMANDS[args.command](args, read_environment(os.environ))
        sys.stdout.flush()  # a closed pipe shows here, where it is handled, not at interpreter exit
        return status
    except KeyboardInterrupt:
        return _fail(Interrupted("interrupted"))
    except FeedwrightError as exc:
        return _fail(exc)
    except BrokenPipeError:
        # Python's recipe (signal module docs, "Note on SIGPIPE"): point stdout at devnull so that the flush at
        # exit cannot raise again, and exit quietly: `feedwright status --json | head -c1` is no error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return FeedwrightError.exit_code


def _fail(exc: FeedwrightError) -> int:
    _err(f"feedwright: {exc}")
    return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
