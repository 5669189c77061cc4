"""Digest schedules: parsed from what a channel manager types, and their next run times.

A schedule is a five-field cron expression read in a time zone; the friendly forms (`daily 09:00`,
`weekdays 09:00`, `weekly mon 09:00`) are spelled as cron too, so there is one way to compute runs.

Runs follow the wall clock of the zone. Across a daylight-saving change that means:
- a wall time that does not exist (02:30 on the spring-forward night) runs at the same distance past
  the gap (03:30 the new offset): the digest is late that day, never dropped;
- a wall time that happens twice (01:30 on the fall-back night) runs once, at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import ExpressionDescriptor, Options
from croniter import CroniterError, croniter

from bot.texts import text
from knowledge.models import Language

MIN_INTERVAL = timedelta(hours=1)
"""The shortest gap allowed between two posts, so a typo cannot turn a digest into spam."""

_DAYS = {
    "mon": "1",
    "tue": "2",
    "wed": "3",
    "thu": "4",
    "fri": "5",
    "sat": "6",
    "sun": "0",
}
_DAY_NAMES = {
    **{day: day for day in _DAYS},
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?]+$")
_FRIENDLY = ("daily", "weekdays", "weekly")
_SEARCH_LIMIT = 1000
MAX_CRON_CHARS = 100
"""As stored (tables.subscriptions.cron); longer lists of minutes and hours are no real schedule."""


class ScheduleError(ValueError):
    """The schedule cannot be used; `message(language)` says what is wrong, for the person who typed it."""

    def __init__(self, key: str, **values: str) -> None:
        self.key = key
        self.values = values
        super().__init__(self.message("en"))

    def message(self, language: Language) -> str:
        return text(self.key, language, **self.values)


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str
    text: str
    """What the manager typed (`weekdays 09:00`), shown back in `/digest list`."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_run(self, after: datetime) -> datetime:
        """The first run strictly after `after` (an aware datetime), in UTC."""
        return next_run(self.cron, self.zone, after)

    def describe(self, language: Language) -> str:
        """The schedule in words, in the reader's language: `every weekday at 09:00`, `每个工作日 09:00`."""
        return describe(self.cron, language)


_WEEKDAY_WORDS = {
    "en": ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    "zh": ("周日", "周一", "周二", "周三", "周四", "周五", "周六"),
}
_SIMPLE = re.compile(r"(\d{1,2}) (\d{1,2}) \* \* (\*|1-5|[0-7])")


def describe(cron: str, language: Language) -> str:
    """A cron expression in words. The forms `daily`, `weekdays` and `weekly` make are said plainly;
    any other cron expression is described by cron-descriptor."""
    simple = _SIMPLE.fullmatch(cron)
    if simple:
        minute, hour, days = simple.groups()
        at = f"{int(hour):02d}:{int(minute):02d}"
        if days == "*":
            return text("every_day", language, at=at)
        if days == "1-5":
            return text("every_weekday", language, at=at)
        day = _WEEKDAY_WORDS[language][int(days) % 7]
        return text("every_week", language, day=day, at=at)
    options = Options()
    options.use_24hour_time_format = True
    options.locale_code = "zh_CN" if language == "zh" else "en_US"
    described = ExpressionDescriptor(cron, options).get_description()
    if language == "zh":  # cron-descriptor's Chinese leaves weekday names in English
        for english, chinese in zip(_WEEKDAY_WORDS["en"], _WEEKDAY_WORDS["zh"], strict=True):
            described = described.replace(english, chinese)
        described = described.replace(" 到 ", "到")
    return described


def parse_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name that is a directory of the zone database (`America`) or otherwise unreadable
        raise ScheduleError("schedule_timezone", got=name) from None
    return name


def parse_schedule(words: list[str], timezone: str = "UTC") -> tuple[Schedule, list[str]]:
    """A schedule from the first words; returns it with the words left over (the topic)."""
    if not words:
        raise ScheduleError("schedule_missing")
    timezone = parse_timezone(timezone)
    head = words[0].casefold()
    if head in _FRIENDLY:
        cron, used = _friendly(head, words[1:])
    else:
        cron, used = _cron(words)
    schedule = Schedule(cron=cron, timezone=timezone, text=" ".join(words[:used]))
    _check_interval(schedule)
    return schedule, words[used:]


def _hour_minute(word: str | None, form: str) -> tuple[int, int]:
    match = _TIME.match(word or "")
    if match is None:
        if not word:
            raise ScheduleError("schedule_time_missing", form=form)
        raise ScheduleError("schedule_time", form=form, got=word)
    return int(match.group(1)), int(match.group(2))


def _friendly(form: str, rest: list[str]) -> tuple[str, int]:
    if form == "weekly":
        day = _DAY_NAMES.get(rest[0].casefold()) if rest else None
        if day is None:
            raise ScheduleError("schedule_day", got=rest[0] if rest else "—")
        hour, minute = _hour_minute(rest[1] if len(rest) > 1 else None, f"weekly {day}")
        return f"{minute} {hour} * * {_DAYS[day]}", 3
    hour, minute = _hour_minute(rest[0] if rest else None, form)
    days = "1-5" if form == "weekdays" else "*"
    return f"{minute} {hour} * * {days}", 2


def _cron(words: list[str]) -> tuple[str, int]:
    fields = words[:5]
    if len(fields) < 5 or not all(_CRON_FIELD.match(field) for field in fields):
        raise ScheduleError("schedule_not_cron", got=" ".join(words))
    cron = " ".join(fields)
    if len(cron) > MAX_CRON_CHARS or not croniter.is_valid(cron):
        raise ScheduleError("schedule_bad_cron", got=cron)
    return cron, 5


def _check_interval(schedule: Schedule) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    previous = schedule.next_run(start)
    for _ in range(48):
        current = schedule.next_run(previous)
        if current - previous < MIN_INTERVAL:
            raise ScheduleError("schedule_too_often", got=schedule.text)
        previous = current


def next_run(cron: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first wall-clock match of `cron` in `zone` strictly after the instant `after`, in UTC.

    croniter walks naive wall-clock times; each candidate is placed in the zone with fold=0, which
    moves a time inside a spring-forward gap past the gap and picks the first of a repeated time.
    """
    if after.tzinfo is None:
        raise ValueError("after must be an aware datetime")
    wall = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    walker = croniter(cron, wall - timedelta(minutes=1))
    try:
        for _ in range(_SEARCH_LIMIT):
            candidate = walker.get_next(datetime).replace(tzinfo=zone, fold=0).astimezone(UTC)
            if candidate > after:
                return candidate
    except CroniterError:
        pass
    raise ScheduleError("schedule_never", got=cron)
