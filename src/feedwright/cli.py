"""The ``feedwright`` command: parse arguments, call the library, print, and map errors to exit statuses."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .build import BuildReport, build
from .config import load_site
from .errors import FeedwrightError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedwright", description="Turn a folder of front-matter posts into RSS, Atom and JSON feeds."
    )
    parser.add_argument("--version", action="version", version=f"feedwright {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def site_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--site", default=".", metavar="DIR", help="site folder (default: current folder)")

    b = commands.add_parser("build", help="build the feeds into output/")
    site_arg(b)
    b.add_argument("--strict", action="store_true", help="any rejected post fails the build; output/ untouched")
    loud = b.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="store_true", help="also list ignored files and every feed")
    loud.add_argument("-q", "--quiet", action="store_true", help="print only problems (for cron)")

    c = commands.add_parser("check", help="validate the content and list every problem; write nothing")
    site_arg(c)
    return parser


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _report_problems(report: BuildReport) -> None:
    for warning in report.warnings:
        _err(f"warning: {warning}")
    for error in report.rejected:
        _err(str(error))


def _summary(report: BuildReport) -> str:
    parts = [
        f"{report.published} posts published",
        f"{len(report.rejected)} rejected",
    ]
    if report.drafts:
        parts.append(f"{report.drafts} drafts")
    if report.scheduled:
        parts.append(f"{report.scheduled} scheduled")
    result = report.result
    if result is None:
        parts.append(f"{len(report.files)} feed files checked, none written")
    else:
        parts.append(f"{len(result.written)} feed files written, {len(result.unchanged)} unchanged")
        if result.removed:
            parts.append(f"{len(result.removed)} removed")
    return ", ".join(parts)


def _build(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    report = build(site, strict=args.strict)
    _report_problems(report)
    if args.verbose:
        for path in report.collection.ignored:
            _err(f"ignored (no front matter): {path}")
        for rel in sorted(report.files):
            _err(f"feed: {site.output / rel}")
    if args.strict and report.rejected:
        _err(f"--strict: {len(report.rejected)} posts rejected; {site.output} left as it was")
        return EXIT_REJECTED
    if not args.quiet:
        print(_summary(report))
    return EXIT_REJECTED if report.rejected else EXIT_OK


def _check(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    report = build(site, write=False)
    _report_problems(report)
    print(_summary(report))
    return EXIT_REJECTED if report.rejected else EXIT_OK


COMMANDS = {"build": _build, "check": _check}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``feedwright`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FeedwrightError as exc:
        _err(f"feedwright: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
