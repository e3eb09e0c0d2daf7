"""Django's `date` filter with each format parsed once (settings: the templates' builtins).

Django's filter looks the format up in the locale's format modules and splits it with a
regular expression for every value it formats. A client page formats a hundred dates (its
documents, its timeline), where that came to a tenth of the page's time. Here the parsed
format is kept per format and language; each value is still formatted by Django's
`DateFormat`, so the output is Django's (tests/core/test_date_filter.py compares them).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django import template
from django.template import defaultfilters
from django.utils import formats
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars
from django.utils.translation import get_language

register = template.Library()

# A piece of a parsed format: a format character (its DateFormat method) or literal text.
FormatPiece = tuple[str, bool]


@register.filter(expects_localtime=True, is_safe=False)
def date(value: Any, arg: str | None = None) -> str:
    if not isinstance(value, dt.date):
        # Empty values, times and text: Django's own answers.
        return str(defaultfilters.date(value, arg))
    format_name = arg or "DATE_FORMAT"
    # Only a format setting's name reads differently in another language (a literal format's
    # month and day names are translated by DateFormat): asking for the language costs.
    language = get_language() if format_name in formats.FORMAT_SETTINGS else None
    pieces, has_time = parsed_format(format_name, language)
    if has_time and not isinstance(value, dt.datetime):
        # Django's TypeError: a date has no time to show.
        return str(defaultfilters.date(value, arg))
    formatter = DateFormat(value)
    return "".join(str(getattr(formatter, text)()) if code else text for text, code in pieces)


@lru_cache(maxsize=256)
def parsed_format(format_name: str, language: str | None) -> tuple[tuple[FormatPiece, ...], bool]:
    """The pieces of a format (a literal, or a name such as "DATE_FORMAT" resolved in
    `language`), and whether it shows a time."""
    format_string = str(formats.get_format(format_name, lang=language or get_language()))
    pieces: list[FormatPiece] = []
    for index, piece in enumerate(re_formatchars.split(format_string)):
        if index % 2:
            pieces.append((piece, True))
        elif piece:
            pieces.append((re_escaped.sub(r"\1", piece), False))
    has_time = any(code and hasattr(TimeFormat, text) for text, code in pieces)
    return tuple(pieces), has_time
