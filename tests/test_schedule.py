"""Schedule parsing: ``every`` durations, crontab expressions (with crontab's own weekday numbers), ``[schedule]``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from feedwright.cli import main
from feedwright.config import load_site
from feedwright.errors import ConfigError
from feedwright.ops.schedule import (
    DEFAULT_EVERY,
    Schedule,
    cron_trigger,
    crontab_weekdays,
    format_duration,
    parse_every,
    parse_schedule,
)

SEOUL = ZoneInfo("Asia/Seoul")
UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("2d", 172800), ("1h30m", 5400), ("1h 30m", 5400), (" 10M ", 600),
     ("1s", 1), ("366d", 366 * 86400)],
)
def test_every_durations(text: str, seconds: int) -> None:
    assert parse_every(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "10x", "m", "1.5h", "-5m", "0s", "0m", "ten minutes", "1h-30m", "367d",
                                  "99999999999999999999d"])
def test_bad_every_is_a_config_error_naming_the_key(text: str) -> None:
    with pytest.raises(ConfigError, match="schedule.every"):
        parse_every(text)


@pytest.mark.parametrize("value", [600, 1.5, None, ["10m"], True])
def test_every_must_be_text(value: object) -> None:
    with pytest.raises(ConfigError, match="schedule.every must be a duration"):
        parse_every(value)


def test_format_duration_round_trips() -> None:
    for text in ("30s", "15m", "1h", "1h30m", "2d", "1d1h1m1s"):
        assert format_duration(parse_every(text)) == text


def _fires(expr: str, start: datetime, count: int = 3, tz: ZoneInfo = UTC_ZONE) -> list[datetime]:
    trigger, out, previous = cron_trigger(expr, tz), [], None
    now = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        out.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return out


MONDAY = datetime(2025, 11, 24, 0, 0, 30, tzinfo=UTC)  # a Monday


def test_cron_every_ten_minutes() -> None:
    assert [f.strftime("%H:%M") for f in _fires("*/10 * * * *", MONDAY)] == ["00:10", "00:20", "00:30"]


def test_cron_weekdays_use_crontab_numbering() -> None:
    # crontab: 0 and 7 are Sunday, 1 is Monday. APScheduler 3 alone would read 1 as Tuesday.
    assert {f.strftime("%a") for f in _fires("0 9 * * 1", MONDAY)} == {"Mon"}
    assert {f.strftime("%a") for f in _fires("0 9 * * 0", MONDAY)} == {"Sun"}
    assert {f.strftime("%a") for f in _fires("0 9 * * 7", MONDAY)} == {"Sun"}
    assert [f.strftime("%a") for f in _fires("0 9 * * 1-5", MONDAY, 6)] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon"]


@pytest.mark.parametrize(
    ("field", "days"),
    [("*", "*"), ("1", "mon"), ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"), ("5-7", "sun,fri,sat"),
     ("*/2", "sun,tue,thu,sat"), ("1/3", "sun,mon,thu"), ("mon,wed", "mon,wed"), ("sat-sun", None)],
)
def test_crontab_weekday_field(field: str, days: str | None) -> None:
    if days is None:
        with pytest.raises(ValueError):
            crontab_weekdays(field)
    else:
        assert crontab_weekdays(field) == days


def test_cron_day_of_month_or_weekday_as_crontab_does() -> None:
    # "the 1st, or any Friday": crontab ORs a restricted day-of-month with a restricted day-of-week.
    days = [f.day for f in _fires("0 0 1 * 5", MONDAY, 4)]
    assert days == [28, 1, 5, 12]  # Fri 28 Nov, Mon 1 Dec, then Fridays


def test_cron_is_read_in_the_site_time_zone() -> None:
    fire = _fires("0 9 * * *", MONDAY, 1, SEOUL)[0]
    assert fire.utcoffset() == timedelta(hours=9) and fire.hour == 9


@pytest.mark.parametrize(
    ("macro", "expr"), [("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@WEEKLY", "0 0 * * 0")]
)
def test_cron_macros(macro: str, expr: str) -> None:
    assert _fires(macro, MONDAY) == _fires(expr, MONDAY)


@pytest.mark.parametrize(
    ("expr", "message"),
    [("* * * *", "has 4 fields"), ("* * * * * *", "has 6 fields"), ("61 * * * *", "not a valid crontab"),
     ("* 25 * * *", "not a valid crontab"), ("* * * * 8", "not a valid crontab"), ("* * * * 5-1", "not a valid"),
     ("0 0 30 2 *", "never fires"), ("", "has 0 fields"), ("@often", "has 1 fields")],
)
def test_bad_cron_is_a_config_error(expr: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cron_trigger(expr, SEOUL)


def test_schedule_table() -> None:
    assert parse_schedule(None, SEOUL) == Schedule(every=DEFAULT_EVERY)
    assert parse_schedule({}, SEOUL) == Schedule(every=timedelta(minutes=10))
    assert parse_schedule({"every": "15m"}, SEOUL) == Schedule(every=timedelta(minutes=15))
    assert parse_schedule({"cron": "*/5  * * * *"}, SEOUL) == Schedule(every=None, cron="*/5 * * * *")


@pytest.mark.parametrize(
    ("table", "message"),
    [({"every": "1m", "cron": "* * * * *"}, "exclusive"), ({"evry": "1m"}, "unknown key schedule.evry"),
     ("10m", "must be a table"), ({"every": "soon"}, "schedule.every"), ({"cron": "x"}, "schedule.cron")],
)
def test_bad_schedule_table(table: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_schedule(table, SEOUL)


def test_triggers_and_periods() -> None:
    every = Schedule(every=timedelta(seconds=90))
    assert isinstance(every.trigger(SEOUL), IntervalTrigger)
    assert every.period(SEOUL) == 90
    assert every.describe() == "every 1m30s"
    hourly = Schedule(every=None, cron="0 * * * *")
    assert hourly.period(SEOUL) == 3600
    assert hourly.describe() == 'cron "0 * * * *"'
    with pytest.raises(ValueError):
        Schedule(every=timedelta(minutes=1), cron="* * * * *")


def test_the_site_config_carries_its_schedule(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    assert load_site(tmp_path).schedule is None
    (tmp_path / "feedwright.toml").write_text('[schedule]\nevery = "30s"\n', encoding="utf-8")
    assert load_site(tmp_path).schedule == Schedule(every=timedelta(seconds=30))
    (tmp_path / "feedwright.toml").write_text('[schedule]\nevery = "30 s\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_site(tmp_path)


def _site(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "content").mkdir()
    (tmp_path / "feedwright.toml").write_text(f'[site]\nurl = "https://example.org/"\n{extra}', encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "extra", "message"),
    [(["--every", "10x"], "", "feedwright: --every: '10x' is not a duration"),
     (["--cron", "* * *"], "", "feedwright: --cron: '* * *' has 3 fields"),
     ([], '[schedule]\ncron = "* * * * 9"\n', "schedule.cron: '* * * * 9' is not a valid crontab expression"),
     (["--every", "1m"], '[schedule]\nevery = "1m"\ncron = "* * * * *"\n', "exclusive")],
)
def test_daemon_with_a_bad_schedule_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], extra: str, message: str
) -> None:
    site = _site(tmp_path, extra)
    assert main(["daemon", "--site", str(site), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert not (site / "output").exists()
