"""Schedules as channel managers type them, and their run times across zones and clock changes.

Expected instants are worked out from the zone rules: New York moves to EDT (UTC-4) on 2026-03-08
and back to EST (UTC-5) on 2026-11-01; London moves to BST on 2026-03-29 and back on 2026-10-25.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.digests.schedule import Schedule, ScheduleError, describe, parse_schedule


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def schedule(text: str, timezone: str = "UTC") -> Schedule:
    parsed, rest = parse_schedule(text.split(), timezone)
    assert rest == []
    return parsed


def runs(parsed: Schedule, after: datetime, count: int) -> list[datetime]:
    found = []
    for _ in range(count):
        after = parsed.next_run(after)
        found.append(after)
    return found


def test_daily_in_shanghai_runs_at_nine_local() -> None:
    daily = schedule("daily 09:00", "Asia/Shanghai")
    assert runs(daily, utc(2026, 11, 27, 22, 0), 2) == [utc(2026, 11, 28, 1, 0), utc(2026, 11, 29, 1, 0)]


def test_weekdays_skip_the_weekend() -> None:
    weekdays = schedule("weekdays 09:00")
    # 2026-11-27 is a Friday.
    assert runs(weekdays, utc(2026, 11, 27, 10, 0), 2) == [utc(2026, 11, 30, 9, 0), utc(2026, 12, 1, 9, 0)]


def test_a_run_at_exactly_now_is_not_next() -> None:
    assert schedule("daily 09:00").next_run(utc(2026, 11, 27, 9, 0)) == utc(2026, 11, 28, 9, 0)


def test_daily_new_york_keeps_nine_local_through_spring_forward() -> None:
    daily = schedule("daily 09:00", "America/New_York")
    assert runs(daily, utc(2026, 3, 7, 0, 0), 3) == [
        utc(2026, 3, 7, 14, 0),
        utc(2026, 3, 8, 13, 0),
        utc(2026, 3, 9, 13, 0),
    ]


def test_daily_new_york_keeps_nine_local_through_fall_back() -> None:
    daily = schedule("daily 09:00", "America/New_York")
    assert runs(daily, utc(2026, 10, 31, 0, 0), 3) == [
        utc(2026, 10, 31, 13, 0),
        utc(2026, 11, 1, 14, 0),
        utc(2026, 11, 2, 14, 0),
    ]


def test_a_time_skipped_by_spring_forward_runs_just_after_the_gap() -> None:
    night = schedule("daily 02:30", "America/New_York")
    # 02:30 does not exist on 2026-03-08: it runs at 03:30 EDT (07:30 UTC), then 02:30 EDT again.
    assert runs(night, utc(2026, 3, 7, 12, 0), 2) == [utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]


def test_a_time_repeated_by_fall_back_runs_once() -> None:
    night = schedule("30 1 * * *", "America/New_York")
    # 01:30 happens twice on 2026-11-01 (EDT then EST): one run, at the first.
    assert runs(night, utc(2026, 10, 31, 12, 0), 2) == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_weekly_london_across_the_end_of_summer_time() -> None:
    weekly = schedule("weekly mon 09:00", "Europe/London")
    assert runs(weekly, utc(2026, 10, 13, 0, 0), 2) == [utc(2026, 10, 19, 8, 0), utc(2026, 10, 26, 9, 0)]


def test_hourly_cron_in_london_spring_forward_has_no_duplicate_or_backwards_run() -> None:
    hourly = schedule("0 * * * *", "Europe/London")
    found = runs(hourly, utc(2026, 3, 29, 0, 30), 3)
    # 01:00 GMT (01:00 UTC), then the clocks jump: 03:00 BST is 02:00 UTC.
    assert found == [utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0), utc(2026, 3, 29, 3, 0)]


def test_cron_and_friendly_forms_agree() -> None:
    after = utc(2026, 11, 27, 0, 0)
    cron = schedule("0 9 * * 1-5", "Asia/Shanghai")
    friendly = schedule("weekdays 09:00", "Asia/Shanghai")
    assert runs(cron, after, 5) == runs(friendly, after, 5)


def test_weekly_accepts_full_day_names_and_leaves_the_topic() -> None:
    parsed, rest = parse_schedule(["weekly", "Friday", "18:30", "ai", "chips"], "UTC")
    assert parsed.next_run(utc(2026, 11, 27, 19, 0)) == utc(2026, 12, 4, 18, 30)
    assert parsed.text == "weekly Friday 18:30"
    assert rest == ["ai", "chips"]


def test_cron_takes_five_fields_then_the_topic() -> None:
    parsed, rest = parse_schedule(["0", "9", "*", "*", "1", "inference"], "UTC")
    assert parsed.cron == "0 9 * * 1"
    assert rest == ["inference"]


@pytest.mark.parametrize(
    ("words", "timezone", "expected"),
    [
        ("", "UTC", "The schedule is missing."),
        ("daily", "UTC", "`daily` needs a 24-hour time like 09:00."),
        ("daily 25:00", "UTC", "`daily` needs a 24-hour time like 09:00, not “25:00”."),
        (
            "weekly someday 09:00",
            "UTC",
            "`weekly` needs a day (mon, tue, … sun) and then a time, not “someday”.",
        ),
        ("every morning", "UTC", "“every morning” is not a schedule."),
        ("61 9 * * *", "UTC", "“61 9 * * *” is not a valid cron expression (minute hour day month weekday)."),
        ("0 9 31 2 *", "UTC", "“0 9 31 2 *” never runs."),
        ("*/5 * * * *", "UTC", "“*/5 * * * *” runs more than once an hour; digests are at most hourly."),
        (
            "daily 09:00",
            "Mars/Olympus",
            "Unknown time zone “Mars/Olympus”: use a name like UTC, Europe/London or Asia/Shanghai.",
        ),
    ],
)
def test_bad_schedules_say_what_is_wrong(words: str, timezone: str, expected: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(words.split(), timezone)
    assert raised.value.message("en") == expected


def test_schedule_errors_have_chinese_messages() -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(["daily", "9点"], "UTC")
    assert raised.value.message("zh") == "`daily` 后面需要 24 小时制时间，例如 09:00，而不是“9点”。"


def test_next_run_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        schedule("daily 09:00").next_run(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("cron", "english", "chinese"),
    [
        ("0 9 * * *", "every day at 09:00", "每天 09:00"),
        ("30 8 * * 1-5", "every weekday (Monday to Friday) at 08:30", "每个工作日（周一至周五）08:30"),
        ("0 9 * * 1", "every Monday at 09:00", "每周一 09:00"),
        ("0 9 * * 1,3", "At 09:00, only on Monday and Wednesday", "周一"),
    ],
)
def test_schedules_are_described_in_words_in_both_languages(cron: str, english: str, chinese: str) -> None:
    assert describe(cron, "en") == english
    described = describe(cron, "zh")
    assert chinese in described and "Monday" not in described, "weekday names are translated"
