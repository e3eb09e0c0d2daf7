"""Response pieces: decimal strings for money and discounts, the shared error shapes and the
renderer of the answers' JSON."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

import pydantic_core
from django.http import HttpRequest
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from pydantic import BaseModel, Field, WithJsonSchema

from clientledger.core.money import currency_digits, plain_decimal
from clientledger.lines.choices import DiscountKind

DecimalStr = Annotated[
    str, WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1250.00"]})
]


class Output(BaseModel):
    """An answer of the API, built by its handler from values it computed (`XOut.of(row)`).

    A plain pydantic model rather than django-ninja's `Schema`: a `Schema` validates through
    a `DjangoGetter` that looks up every field in Python so that it can read ORM objects,
    which cost ~10x the validation itself (a page of 50 invoices: 6 ms of its CPU, issue 14).
    Answers are never validated from ORM objects, and the OpenAPI schema is the same."""


# What encodes the values pydantic's encoder does not know.
_ENCODER = NinjaJSONEncoder()


class AnswerRenderer(JSONRenderer):
    """The answers' JSON written by pydantic's encoder (Rust) rather than `json.dumps`: a
    page of 50 invoices is ~1,900 values, whose encoding in Python was a tenth of the list's
    CPU (issue 14). Values pydantic does not know (lazy translations) go to django-ninja's
    encoder, as before. Timestamps keep their microseconds."""

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return pydantic_core.to_json(data, fallback=_ENCODER.default)


def money_str(amount: Decimal, currency: str) -> str:
    """At least the currency's digits ("120.00"), more only when they carry value ("0.1234")."""
    return plain_decimal(amount, currency_digits(currency))


def minor_money_str(minor: int, currency: str) -> str:
    """`money_str` of an amount in minor units: exactly the currency's digits, which integer
    arithmetic gives without a Decimal (a page of 50 invoices prints ~650 amounts).

    The digits are cut from the integer's text, padded to one unit: a third of the CPU of
    `divmod` and a nested format spec, ~0.8 ms of that page."""
    if type(minor) is not int:  # bool, an int subclass, is no amount either
        raise TypeError(f"minor: expected int, got {type(minor).__name__}")
    digits = currency_digits(currency)
    if not digits:
        return str(minor)
    text = str(abs(minor)).rjust(digits + 1, "0")
    return f"{'-' if minor < 0 else ''}{text[:-digits]}.{text[-digits:]}"


def discount_str(kind: str, value: Decimal, currency: str) -> str:
    """A line's discount: a plain percentage ("12.5") or an amount in the currency ("10.00")."""
    return plain_decimal(value) if kind == DiscountKind.PERCENT else money_str(value, currency)


class Message(Output):
    detail: str


class FieldError(Output):
    field: str = Field(description='Dotted path of the input, e.g. "lines[2].quantity".')
    message: str


class ValidationErrors(Output):
    detail: list[FieldError]


def responses(success: Mapping[int, Any]) -> dict[int, Any]:
    """The documented answers of an operation: its success plus the shared error shapes."""
    return {
        **success,
        400: Message,
        401: Message,
        403: Message,
        404: Message,
        409: Message,
        422: ValidationErrors,
        500: Message,
    }
