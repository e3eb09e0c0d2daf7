"""Document number formats, an agency setting: `INV-{YYYY}-{SEQ:05}` filled in for one number.

billing takes the sequence from its counters; the agency settings page previews the first one."""

from __future__ import annotations

import datetime as dt
import re

_PLACEHOLDER = re.compile(r"\{(YYYY|YY|MM|SEQ(?::0?(\d))?)\}")


def format_number(fmt: str, *, on: dt.date, sequence: int) -> str:
    """`INV-{YYYY}-{SEQ:05}` on 2026-11-24 with sequence 7 -> `INV-2026-00007`."""

    def replace(match: re.Match[str]) -> str:
        token, width = match.group(1), match.group(2)
        if token == "YYYY":
            return f"{on.year:04d}"
        if token == "YY":
            return f"{on.year % 100:02d}"
        if token == "MM":
            return f"{on.month:02d}"
        return f"{sequence:0{int(width or 1)}d}"

    return _PLACEHOLDER.sub(replace, fmt)
