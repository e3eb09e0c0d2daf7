"""The `{placeholders}` of a reminder's subject and body, filled in by plain substitution.

Staff write the texts; the values come from the client's and the invoice's records. No
template language runs on either: a value is inserted as text, and the HTML email escapes the
whole result (autoescape), so a client named `<a href=…>` reads as those characters."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError

from clientledger.core.error_codes import ErrorCode

PLACEHOLDERS: Mapping[str, str] = {
    "client_name": "The client's name",
    "agency_name": "Your agency's name",
    "document_number": "The invoice's or estimate's number",
    "amount_due": "What is still due, with its currency",
    "due_date": "The invoice's due date (the estimate's expiry date)",
    "days_overdue": "Days since the due date (0 before it)",
    "pay_link": "The client's link to the document, with Pay now",
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def placeholders_check(text: str, *, field: str) -> None:
    """Refuse a text naming a placeholder that does not exist, before it is saved."""
    unknown = sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        raise ValidationError(
            {field: f"Unknown placeholder {', '.join(f'{{{n}}}' for n in unknown)}; use {known}."},
            code=ErrorCode.INVALID,
        )


def placeholders_fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value, once: a value that itself
    looks like a placeholder stays as typed."""
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), text)
