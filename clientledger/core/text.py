"""The characters free text may hold, for every input: forms, the API and CSV imports.

Refused everywhere: control characters (C0, DEL and C1; NUL cannot even be stored by
PostgreSQL, and CR/LF in a name would end up in email headers) and code points that are not
characters at all: lone surrogates (JSON can spell "\\ud800", no database can store it) and
Unicode noncharacters. Multi-line texts (notes, descriptions, addresses, messages) also
take line breaks (LF or CRLF, as browsers send them) and tabs; single-line texts do not,
nor the Unicode line and paragraph separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from clientledger.core.error_codes import ErrorCode

__all__ = ["TextRefused", "TextValidator", "check_text", "header_text"]

_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_NOT_CHARACTERS = "\ud800-\udfff\ufdd0-\ufdef" + "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_SINGLE_LINE_REFUSED = re.compile(f"[{_CONTROLS}{_NOT_CHARACTERS}\t\n\r\u2028\u2029]")
# In multi-line text a CR is only accepted as the first half of a CRLF line break.
_MULTILINE_REFUSED = re.compile(f"[{_CONTROLS}{_NOT_CHARACTERS}]|\r(?!\n)")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029")


class TextRefused(ValueError):
    """Text holding a character its field does not take; the message says which and why."""


def _describe(character: str, *, multiline: bool) -> str:
    code = f"U+{ord(character):04X}"
    if multiline and character == "\r":
        return f"Remove the carriage return ({code}) that no line feed follows."
    if character in _LINE_BREAKS:
        return f"Enter this on one line: remove the line break ({code})."
    if character == "\t":
        return f"Remove the tab character ({code}), or use spaces."
    point = ord(character)
    if 0xD800 <= point <= 0xDFFF or 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE:
        return f"Remove the invalid character {code}: it is not a Unicode character."
    name = "NUL character" if character == "\x00" else "control character"
    return f"Remove the {name} {code}: text cannot contain it."


def check_text(value: str, *, multiline: bool = False) -> str:
    """`value` itself if every character is allowed; else TextRefused naming the first one."""
    pattern = _MULTILINE_REFUSED if multiline else _SINGLE_LINE_REFUSED
    found = pattern.search(value)
    if found is not None:
        raise TextRefused(_describe(found.group()[0], multiline=multiline))
    return value


def header_text(value: str) -> str:
    """`value` fit for one line of a header (an email subject): every run of refused
    characters, line breaks included, becomes one space."""
    return " ".join(_SINGLE_LINE_REFUSED.sub(" ", value).split())


@dataclass(frozen=True)
class TextValidator:
    """`check_text` as a Django validator (code "text_characters")."""

    multiline: bool = False

    def __call__(self, value: str) -> None:
        try:
            check_text(value, multiline=self.multiline)
        except TextRefused as refused:
            raise ValidationError(str(refused), code=ErrorCode.TEXT_CHARACTERS) from None
