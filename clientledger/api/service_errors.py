"""Service errors as the API answers them: a refused change of state is a 409, field errors
are reported under the API's field names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from ninja.errors import HttpError

from clientledger.core.error_codes import ErrorCode

# Service errors with these codes refuse a change of state, not the input: 409, not 422.
CONFLICT_CODES = frozenset({ErrorCode.NOT_DRAFT, ErrorCode.INVALID_TRANSITION, ErrorCode.ENDED})


@contextmanager
def state_conflicts() -> Iterator[None]:
    """A change the record's state refuses (editing an issued invoice, converting twice)
    answers 409 with the service's message; every other service error stays a 422."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict") and any(
            error.code in CONFLICT_CODES for error in exc.error_list
        ):
            raise HttpError(409, " ".join(exc.messages)) from exc
        raise


@contextmanager
def api_field_names(names: Mapping[str, str]) -> Iterator[None]:
    """Report service errors under the API's field names (`client` -> `client_id`)."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from exc
