"""The templates' `date` filter (clientledger.core.templatetags.dates) answers as Django's."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.template import Context, Template, engines
from django.template.defaultfilters import date as django_date
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from clientledger.core.templatetags.dates import date as parsed_once_date

FORMAT_CHARACTERS = "aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ"
ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Paris"]

# Formats built of format characters, escaped characters and plain text.
formats = st.lists(
    st.one_of(
        st.sampled_from(FORMAT_CHARACTERS),
        st.sampled_from(FORMAT_CHARACTERS).map(lambda character: "\\" + character),
        st.sampled_from([" ", ", ", "-", "/", ":", "at", "T"]),
    ),
    min_size=1,
    max_size=8,
).map("".join)
moments = st.datetimes(
    min_value=dt.datetime(1901, 1, 1),
    max_value=dt.datetime(2099, 12, 31),
    timezones=st.sampled_from(ZONES).map(zoneinfo.ZoneInfo),
)


@settings(max_examples=300, deadline=None)
@given(moment=moments, format_string=formats, zone=st.sampled_from(ZONES))
def test_a_moment_in_any_format_reads_as_djangos_date_filter_reads_it(
    moment: dt.datetime, format_string: str, zone: str
) -> None:
    with timezone.override(zone):
        assert parsed_once_date(moment, format_string) == django_date(moment, format_string)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(), format_string=formats)
def test_a_day_reads_as_djangos_or_fails_as_djangos_when_the_format_asks_for_a_time(
    day: dt.date, format_string: str
) -> None:
    try:
        expected = django_date(day, format_string)
    except TypeError as error:
        with pytest.raises(TypeError, match=str(error)[:40]):
            parsed_once_date(day, format_string)
        return
    assert parsed_once_date(day, format_string) == expected


@pytest.mark.parametrize("value", [None, "", "not a date", dt.time(9, 30), 12])
@pytest.mark.parametrize("format_string", [None, "H:i", "M j, Y"])
def test_values_that_are_not_dates_read_as_djangos(value: Any, format_string: str) -> None:
    assert parsed_once_date(value, format_string) == django_date(value, format_string)


@pytest.mark.parametrize("name", [None, "DATE_FORMAT", "SHORT_DATE_FORMAT", "DATETIME_FORMAT"])
def test_named_formats_resolve_as_djangos(name: str | None) -> None:
    moment = dt.datetime(2026, 3, 9, 14, 5, tzinfo=dt.UTC)
    assert parsed_once_date(moment, name) == django_date(moment, name)


def test_templates_use_it_for_date_and_still_convert_to_the_active_time_zone() -> None:
    engine = engines["django"].engine  # type: ignore[attr-defined]
    assert engine.template_builtins[-1].filters["date"] is parsed_once_date
    template = Template(
        '{% load tz %}{% timezone "Asia/Tokyo" %}{{ at|date:"Y-m-d H:i" }}{% endtimezone %}'
    )
    rendered = template.render(Context({"at": dt.datetime(2026, 1, 1, 20, 0, tzinfo=dt.UTC)}))
    assert rendered == "2026-01-02 05:00"


@pytest.mark.parametrize("language", ["de", "fr", "ja"])
@pytest.mark.parametrize("format_string", [None, "DATE_FORMAT", "SHORT_DATETIME_FORMAT", "D j M Y"])
def test_formats_follow_the_active_language_as_djangos_do(
    language: str, format_string: str | None
) -> None:
    moment = dt.datetime(2026, 3, 9, 14, 5, tzinfo=dt.UTC)
    parsed_once_date(moment, format_string)  # parsed in English first
    with translation.override(language):
        assert parsed_once_date(moment, format_string) == django_date(moment, format_string)
