"""The codes a `ValidationError` carries, so that a caller tells refusals apart by their kind
and never by their wording. The values are what Django and the API see; grep a member to
find who raises it and who reads it.

The line money engine words its own problems with `lines.calculations.Problem`.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # The record's state refuses the change, not the input: the API answers 409, not 422
    # (`api.service_errors.CONFLICT_CODES`).
    NOT_DRAFT = "not_draft"
    INVALID_TRANSITION = "invalid_transition"
    # A record whose lifecycle is over (an ended recurring schedule) no longer changes.
    ENDED = "ended"
    # The input itself is refused. "invalid", "invalid_choice" and "too_long" are the keys of
    # the fields' `error_messages`, as Django names them.
    INVALID = "invalid"
    INVALID_CHOICE = "invalid_choice"
    TOO_LONG = "too_long"
    TEXT_CHARACTERS = "text_characters"
    DATE_WINDOW = "date_window"
