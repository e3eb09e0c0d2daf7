"""Request input types: strict schemas, ids, dates, texts, emails, currencies and decimal
strings, and PATCH bodies."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
    create_model,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from clientledger.core.money import currency_problem, parse_decimal
from clientledger.core.text import TextRefused, check_text

# Primary keys are signed 64-bit integers; a larger id would overflow the database driver.
MAX_ID = 2**63 - 1
DECIMAL_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

S = TypeVar("S", bound="Schema")


class StrictSchema(Schema):
    """Request bodies take JSON values as they are typed, never converted: "30" is no number,
    30.0 no id, 0 no boolean and no date. Unknown keys are refused, so a typo ("unit_prise") is
    an error, not a no-op."""

    model_config = ConfigDict(extra="forbid", strict=True)


# The example lets schema-driven clients and fuzzers start from a real row. It is "example", not
# "examples": django-ninja copies a list of examples onto path parameters, where OpenAPI expects
# a map of example objects.
RowId = Annotated[int, Field(ge=1, le=MAX_ID, json_schema_extra={"example": 1})]

# JSON has no enum type: a choice arrives as one of its string values, which lax validation
# matches exactly (a number, a boolean or another spelling is still refused).
ChoiceValue = Strict(False)


def _iso_date(value: object) -> dt.date:
    """JSON has no date type either: a date is a string "YYYY-MM-DD" and nothing else (not a
    Unix timestamp, which pydantic would read into 1970, nor a date-time)."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise PydanticCustomError("date_type", 'Enter a date as "YYYY-MM-DD".')
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_value", "This date does not exist.") from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


@dataclass(frozen=True)
class Text:
    """String metadata: stripped, at most `max_length` characters, not blank if `required`,
    and only the characters core.text allows (line breaks and tabs when `multiline`).

    One validator gives every text field the same messages (pydantic's own length check
    would run before stripping and word its errors differently).
    """

    max_length: int
    required: bool = False
    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.clean, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_length
        if self.required:
            json_schema["minLength"] = 1
        return json_schema

    def clean(self, value: str) -> str:
        try:
            value = check_text(value.strip(), multiline=self.multiline)
        except TextRefused as refused:
            raise PydanticCustomError("text_characters", str(refused)) from None
        if self.required and not value:
            raise PydanticCustomError("blank", "This field cannot be blank.")
        if len(value) > self.max_length:
            raise PydanticCustomError(
                "text_too_long",
                "Use at most {max_length} characters.",
                {"max_length": self.max_length},
            )
        return value


LongText = Annotated[str, Text(10_000, multiline=True)]
SearchText = Annotated[str, Text(200)]


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise PydanticCustomError("email", "Enter a valid email address.") from None
    return value


Email = Annotated[str, Text(254), AfterValidator(_email), Field(examples=["billing@example.com"])]


def _currency(value: str) -> str:
    code = value.strip().upper()
    problem = currency_problem(code)
    if problem is not None:
        raise PydanticCustomError("currency", "{problem}", {"problem": problem})
    return code


Currency = Annotated[str, AfterValidator(_currency), Field(examples=["USD"])]


@dataclass(frozen=True)
class DecimalInput:
    """Decimal metadata: a decimal string or an integer within bounds; never a float."""

    minimum: Decimal
    minimum_allowed: bool
    message: str
    maximum: Decimal | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "anyOf": [{"type": "string", "pattern": DECIMAL_PATTERN}, {"type": "integer"}],
            "description": f"A decimal string (or an integer). {self.message}",
            "examples": ["12.50"],
        }

    def parse(self, value: object) -> Decimal:
        # JSON numbers with a fraction arrive as binary floats, which cannot hold most
        # amounts exactly: only strings and integers (not booleans) are accepted.
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise PydanticCustomError(
                "decimal_type",
                'Use a decimal string such as "12.50"; JSON numbers with a fraction are '
                "not accepted.",
            )
        try:
            number = parse_decimal(value, field="value")
        except ValueError:
            raise PydanticCustomError(
                "decimal_parsing", 'Enter a number as a decimal string such as "12.50".'
            ) from None
        too_small = number < self.minimum or (number == self.minimum and not self.minimum_allowed)
        if too_small or (self.maximum is not None and number > self.maximum):
            raise PydanticCustomError("decimal_range", self.message)
        return number


Price = Annotated[
    Decimal, DecimalInput(Decimal(0), minimum_allowed=True, message="Must not be negative.")
]
Quantity = Annotated[
    Decimal,
    DecimalInput(Decimal(0), minimum_allowed=False, message="Must be greater than zero."),
]
Percent = Annotated[
    Decimal,
    DecimalInput(
        Decimal(0), minimum_allowed=True, maximum=Decimal(100), message="Must be between 0 and 100."
    ),
]

# A sum of money paid or given back: more than nothing.
Amount = Annotated[
    Decimal,
    DecimalInput(Decimal(0), minimum_allowed=False, message="Must be greater than zero."),
]


def partial_update(schema: type[S]) -> type[S]:
    """Class decorator for PATCH bodies: every field of the base schema becomes optional.

    Read the body with `model_dump(exclude_unset=True)`. Field types stay as they are, so an
    explicit null for a non-nullable field is refused while an omitted field is left alone.
    """
    fields: dict[str, Any] = {
        field_name: (
            info.annotation,
            FieldInfo.merge_field_infos(info, default=None, default_factory=None),
        )
        for field_name, info in schema.model_fields.items()
    }
    return create_model(schema.__name__, __base__=schema, __module__=schema.__module__, **fields)
