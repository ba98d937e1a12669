"""When the daemon builds: the ``[schedule]`` section (``every`` or ``cron``) as an APScheduler trigger.

``every`` is a duration such as ``"30s"``, ``"15m"``, ``"1h"`` or ``"1h30m"``; ``cron`` is a 5-field crontab
expression (or ``@hourly``, ``@daily``, ...) read with crontab's own meaning, not APScheduler 3's: Sunday is day
0 (and 7), and a day-of-month and a day-of-week that are both restricted match either one. Cron times are in the
site's time zone. Every bad value is a :class:`ConfigError` naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config import did_you_mean
from ..errors import ConfigError

DEFAULT_EVERY = timedelta(minutes=10)
# A year: beyond it, a schedule is a typo (and timedelta would overflow on a long enough one).
MAX_EVERY = timedelta(days=366)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
# crontab numbers days from Sunday = 0 (7 is Sunday again); APScheduler 3 from Monday = 0, so only names are safe.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class Schedule:
    """Either a fixed interval (``every``) or a crontab expression (``cron``), never both."""

    every: timedelta | None = DEFAULT_EVERY
    cron: str | None = None

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError("a Schedule has exactly one of every and cron")

    def trigger(self, tz: ZoneInfo) -> BaseTrigger:
        """The APScheduler trigger for this schedule; cron fields are read in ``tz`` (the site's zone)."""
        if self.every is not None:
            return IntervalTrigger(seconds=int(self.every.total_seconds()), timezone=UTC)
        return cron_trigger(self.cron or "", tz)

    def period(self, tz: ZoneInfo) -> int:
        """Seconds between two regular runs (for cron, between the next two): the daemon's misfire grace time."""
        if self.every is not None:
            return max(1, int(self.every.total_seconds()))
        trigger, now = self.trigger(tz), datetime.now(UTC)
        first = trigger.get_next_fire_time(None, now)
        second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
        return max(60, int((second - first).total_seconds())) if first and second else 86400

    def describe(self) -> str:
        """How a user wrote it: ``every 10m`` or ``cron "*/10 * * * *"``."""
        if self.every is not None:
            return f"every {format_duration(self.every)}"
        return f'cron "{self.cron}"'


def format_duration(delta: timedelta) -> str:
    """``timedelta(seconds=5400)`` -> ``1h30m``: the inverse of :func:`parse_every`."""
    seconds, parts = int(delta.total_seconds()), []
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def parse_every(text: Any, key: str = "schedule.every") -> timedelta:
    """A duration such as ``30s``, ``15m``, ``1h``, ``2d`` or ``1h30m``; at least one second, at most a year."""
    if not isinstance(text, str):
        raise ConfigError(f'{key} must be a duration such as "15m", got {type(text).__name__}')
    compact = text.strip().lower()
    if not compact or _DURATION.sub("", compact).strip():
        raise ConfigError(f'{key}: {text!r} is not a duration such as "30s", "15m", "1h" or "1h30m"')
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(compact))
    if seconds < 1:
        raise ConfigError(f"{key} must be at least 1s, got {text!r}")
    if seconds > MAX_EVERY.total_seconds():
        raise ConfigError(f"{key} must be at most {MAX_EVERY.days}d, got {text!r}")
    return timedelta(seconds=seconds)


def _weekday(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _WEEKDAYS:
        return _WEEKDAYS.index(token)
    raise ValueError(f"bad day of week {token!r}")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (Sunday = 0 or 7) as the list of day names APScheduler reads unambiguously."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"bad step in day of week {item!r}")
        step = int(step_text) if slash else 1
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, _, high = base.partition("-")
            first, last = _weekday(low), _weekday(high)
        else:
            # As in Vixie cron, "N/step" runs from N to the end of the week.
            first = _weekday(base)
            last = 7 if slash else first
        if first > last:
            raise ValueError(f"backward range in day of week {item!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def cron_trigger(expr: str, tz: ZoneInfo, key: str = "schedule.cron") -> BaseTrigger:
    """A 5-field crontab expression (minute hour day month weekday) as a trigger; raises :class:`ConfigError`."""
    if not isinstance(expr, str):
        raise ConfigError(f'{key} must be a crontab expression such as "*/10 * * * *", got {type(expr).__name__}')
    text = _MACROS.get(expr.strip().lower(), expr.strip().lower())
    fields = text.split()
    if len(fields) != 5:
        raise ConfigError(f"{key}: {expr!r} has {len(fields)} fields; a crontab expression has 5")
    minute, hour, day, month, weekday = fields
    try:
        days = crontab_weekdays(weekday)
        if day != "*" and days != "*":
            # crontab: when both are restricted, a day matching either one runs (APScheduler would need both).
            trigger: BaseTrigger = OrTrigger([
                CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=tz),
                CronTrigger(minute=minute, hour=hour, month=month, day_of_week=days, timezone=tz),
            ])
        else:
            trigger = CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=days, timezone=tz)
    except ValueError as exc:
        raise ConfigError(f"{key}: {expr!r} is not a valid crontab expression ({exc})") from None
    if trigger.get_next_fire_time(None, datetime.now(tz)) is None:
        raise ConfigError(f"{key}: {expr!r} never fires")
    return trigger


def parse_schedule(table: Any, tz: ZoneInfo) -> Schedule:
    """Validate a ``[schedule]`` table: ``every`` or ``cron`` (not both); neither means every 10 minutes.

    Called by :func:`feedwright.config.parse_config`, which reads ``feedwright.toml`` once and names it in errors.
    """
    if table is None:
        return Schedule()
    if not isinstance(table, dict):
        raise ConfigError("schedule must be a table")
    unknown = sorted(set(table) - {"every", "cron"})
    if unknown:
        hint = did_you_mean(unknown[0], ["every", "cron"])
        raise ConfigError(f"unknown key schedule.{unknown[0]}{hint}")
    if "every" in table and "cron" in table:
        raise ConfigError("schedule.every and schedule.cron are exclusive; keep one")
    return schedule_from(table.get("every"), table.get("cron"), tz)


def schedule_from(
    every: Any, cron: Any, tz: ZoneInfo, *, source: str = "",
    keys: tuple[str, str] = ("schedule.every", "schedule.cron"),
) -> Schedule:
    """A :class:`Schedule` from an ``every`` or a ``cron`` value; ``keys`` name them in errors (or ``--every``)."""
    try:
        if cron is not None:
            cron_trigger(cron, tz, keys[1])
            return Schedule(every=None, cron=" ".join(cron.split()))
        if every is not None:
            return Schedule(every=parse_every(every, keys[0]))
    except ConfigError as exc:
        raise ConfigError(f"{source}{exc}") from None
    return Schedule()
