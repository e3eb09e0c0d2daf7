"""Response pieces: decimal strings for money and discounts, and the shared error shapes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field, WithJsonSchema

from clientledger.core.money import currency_digits, from_minor, plain_decimal
from clientledger.lines.choices import DiscountKind

DecimalStr = Annotated[
    str, WithJsonSchema({"type": "string", "format": "decimal", "examples": ["1250.00"]})
]


def money_str(amount: Decimal, currency: str) -> str:
    """At least the currency's digits ("120.00"), more only when they carry value ("0.1234")."""
    return plain_decimal(amount, currency_digits(currency))


def minor_money_str(minor: int, currency: str) -> str:
    """`money_str` of an amount in minor units."""
    return money_str(from_minor(minor, currency), currency)


def discount_str(kind: str, value: Decimal, currency: str) -> str:
    """A line's discount: a plain percentage ("12.5") or an amount in the currency ("10.00")."""
    return plain_decimal(value) if kind == DiscountKind.PERCENT else money_str(value, currency)


class Message(Schema):
    detail: str


class FieldError(Schema):
    field: str = Field(description='Dotted path of the input, e.g. "lines[2].quantity".')
    message: str


class ValidationErrors(Schema):
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
